"""The command runner, on real processes: output, logs, redaction, timeouts, teardown."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.helpers import pid_alive, wait_for
from workflows import command
from workflows.redact import register_secret


def test_run_captures_output_streams_lines_and_logs(tmp_path: Path) -> None:
    seen: list[str] = []
    log_path = tmp_path / "out.log"
    result = command.run(
        [sys.executable, "-c", "print('one'); print('two')"], log_path=log_path, on_line=seen.append
    )
    assert result.ok and result.output == "one\ntwo" and seen == ["one", "two"]
    assert log_path.read_text() == "one\ntwo\n"


def test_env_none_unsets_a_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SETTING", "on")
    probe = "import os; print(os.environ.get('SOME_SETTING', 'unset'), os.environ['ADDED'])"
    result = command.run([sys.executable, "-c", probe], env={"SOME_SETTING": None, "ADDED": "1"})
    assert result.output == "unset 1"


def test_secrets_are_masked_in_output_and_logged_command(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    register_secret("hf_supersecretvalue")
    result = command.run(
        [sys.executable, "-c", "print('token hf_supersecretvalue')", "hf_supersecretvalue"],
        log_path=tmp_path / "log",
    )
    assert result.output == "token ***"
    assert "hf_supersecretvalue" not in (tmp_path / "log").read_text()
    assert "hf_supersecretvalue" not in caplog.text and "***" in caplog.text


def test_timeout_stops_the_whole_process_group(tmp_path: Path) -> None:
    script = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        "print(child.pid, flush=True); time.sleep(60)"
    )
    result = command.run([sys.executable, "-c", script], timeout=1)
    assert not result.ok and "[runner] stopped: timed out after 1s" in result.output
    grandchild = int(result.output.splitlines()[0])
    assert wait_for(lambda: not pid_alive(grandchild), 5)


def test_started_process_is_stopped_with_term_then_kill(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ignoring SIGTERM', flush=True); time.sleep(60)"
    )
    log = tmp_path / "srv.log"
    process = command.start([sys.executable, "-c", stubborn], log_path=log)
    assert wait_for(lambda: "ignoring SIGTERM" in log.read_text(), 20)
    assert process.poll() is None
    assert process.stop(grace=0.5) == -signal.SIGKILL, "SIGTERM was ignored: SIGKILL ended it"
    assert not pid_alive(process.pid)


def test_started_process_writes_to_its_log(tmp_path: Path) -> None:
    process = command.start(
        [sys.executable, "-c", "print('hello from child')"], log_path=tmp_path / "srv.log"
    )
    assert process.wait(timeout=10) == 0
    assert "hello from child" in (tmp_path / "srv.log").read_text()


RUNNER_THAT_STARTS = """
import sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from workflows import command
script = "import subprocess, sys, time; " \\
    "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); " \\
    "open(sys.argv[1], 'w').write(str(c.pid)); time.sleep(120)"
if sys.argv[1] == "run":
    command.run([sys.executable, "-c", script, sys.argv[2]])
else:
    command.start([sys.executable, "-c", script, sys.argv[2]], log_path=Path(sys.argv[2] + ".log"))
    time.sleep(120)
"""


@pytest.mark.parametrize("how", ["run", "start"])
def test_commands_die_with_a_runner_killed_outright(tmp_path: Path, how: str) -> None:
    """SIGKILL (a CI timeout, the OOM killer) leaves nothing the runner started: not the
    command, not what the command started (a compiler under cmake, a server's workers)."""
    from tests.helpers import REPO_ROOT

    pid_file = tmp_path / "grandchild.pid"
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER_THAT_STARTS.format(repo=str(REPO_ROOT)), how, str(pid_file)]
    )
    try:
        assert wait_for(lambda: pid_file.exists() and pid_file.read_text() != "", 20)
        grandchild = int(pid_file.read_text())
        assert pid_alive(grandchild)
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        assert wait_for(lambda: not pid_alive(grandchild), 15), "the grandchild outlived the runner"
    finally:
        runner.kill()


def test_watch_stops_a_command_and_says_why() -> None:
    calls: list[int] = []

    def watch() -> str | None:
        calls.append(1)
        return "the server exited with code -9" if len(calls) >= 2 else None

    result = command.run([sys.executable, "-c", "import time; time.sleep(60)"], watch=watch)
    assert not result.ok and result.stopped_because == "the server exited with code -9"


def test_guard_passes_on_the_commands_exit_status() -> None:
    assert command.run([sys.executable, "-c", "raise SystemExit(7)"]).returncode == 7
    killed = command.run([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"])
    assert killed.returncode == -9


def test_a_signal_whose_exception_was_swallowed_still_stops_the_command() -> None:
    """Python drops a KeyboardInterrupt raised inside some internal callbacks (a logging
    lock's); the runner used to keep waiting on its child after such a Ctrl-C."""
    from workflows import interrupts

    timer = threading.Timer(0.3, interrupts._received.append, args=(signal.SIGINT,))
    timer.start()
    try:  # a runner that kept waiting would see the child end on its own, and raise nothing
        with pytest.raises(KeyboardInterrupt):
            command.run([sys.executable, "-c", "import time; time.sleep(60)"])
    finally:
        interrupts._received.clear()
