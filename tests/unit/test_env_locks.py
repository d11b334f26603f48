"""Issue 19, item 9: two runs that need the same environment at once never break each other.
One builds it under a file lock; the other says who it waits for, waits (up to a deadline),
then reuses what was built. The lock dies with its holder."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from workflows import command
from workflows.envs import bootstrap, lock, venvs
from workflows.envs.venvs import VenvSpec, ensure_venv, rebuild_reason
from workflows.errors import SetupError
from workflows.paths import REPO_ROOT

DEADLINE = 120.0  # what a test waits for at most; it never decides an outcome


class FakeClock(lock.Clock):
    """Time that moves only when the lock sleeps."""

    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.time += seconds


class NoWaitClock(lock.Clock):
    def sleep(self, seconds: float) -> None:
        raise AssertionError("the lock was free; nothing should have waited")


@pytest.fixture
def venv_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "venvs"
    monkeypatch.setattr(venvs, "VENVS_DIR", root)
    return root


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def held_builds(monkeypatch: pytest.MonkeyPatch) -> tuple[list[list[str]], threading.Event]:
    """Every `uv venv` call is recorded; the first one waits for the event (a build that takes
    as long as the test wants)."""
    calls: list[list[str]] = []
    release = threading.Event()
    real_run = command.run

    def run(argv: list[str], **kwargs: Any) -> command.CommandResult:
        if argv[1:2] == ["venv"]:
            calls.append(argv)
            if len(calls) == 1:
                release.wait(DEADLINE)
        return real_run(argv, **kwargs)

    monkeypatch.setattr(command, "run", run)
    return calls, release


def test_a_second_run_waits_for_the_first_build_then_reuses_it(
    venv_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    calls, release = held_builds(monkeypatch)
    spec = VenvSpec(name="tiny")
    results: dict[str, Any] = {}

    def build(who: str) -> None:
        try:
            results[who] = ensure_venv(spec, tmp_path / f"{who}.log")
        except Exception as error:  # the test reports what each run met
            results[who] = error

    first = threading.Thread(target=build, args=("first",))
    first.start()
    wait_until(lambda: len(calls) == 1, "the first build to start")
    second = threading.Thread(target=build, args=("second",))
    second.start()
    wait_until(lambda: "waiting for it" in caplog.text or "second" in results, "the second run")
    release.set()
    first.join(DEADLINE)
    second.join(DEADLINE)
    assert f"another run (pid {os.getpid()} since " in caplog.text
    assert "is building the tiny environment; waiting for it (up to 1800s)" in (caplog.text)
    assert results == {"first": spec.python, "second": spec.python}
    assert len(calls) == 1, "the environment is built once"
    assert "environment tiny: built meanwhile by another run; reusing it" in caplog.text
    assert rebuild_reason(spec) is None


HOLDER = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from workflows.envs import lock
with lock.held(Path(sys.argv[1]), "building the tiny environment", print):
    print("held", flush=True)
    time.sleep(600)
"""


def test_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    lock_file = tmp_path / "tiny.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock_file), str(REPO_ROOT)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        assert lock.holder_of(lock_file).startswith(f"another run (pid {holder.pid} since ")
    finally:
        holder.kill()
        holder.wait(DEADLINE)
    said: list[str] = []
    with lock.held(lock_file, "building the tiny environment", said.append, clock=NoWaitClock()):
        pass
    assert said == []


def test_a_wait_past_the_deadline_names_the_holder_and_the_lock(tmp_path: Path) -> None:
    lock_file = tmp_path / "evals.lock"
    said: list[str] = []
    clock = FakeClock()
    what = "building the evals environment"
    with (
        lock.held(lock_file, what, said.append),
        pytest.raises(lock.LockTimeout) as error,
        lock.held(lock_file, what, said.append, 60, clock),
    ):
        pass
    assert len(said) == 1 and said[0].startswith(f"another run (pid {os.getpid()} since ")
    assert said[0].endswith(") is building the evals environment; waiting for it (up to 60s)")
    assert str(error.value).startswith("gave up after 60s waiting for another run (pid ")
    assert f"which is still building the evals environment (lock {lock_file})" in str(error.value)
    assert clock.time >= 60


def test_a_timed_out_wait_for_an_environment_is_a_setup_error(
    venv_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def timed_out(*args: object, **kwargs: object) -> object:
        raise lock.LockTimeout("gave up after 1800s waiting for another run")

    monkeypatch.setattr(lock, "held", timed_out)
    with pytest.raises(SetupError) as error:
        ensure_venv(VenvSpec(name="tiny"), venv_root / "install.log")
    assert error.value.exit_code == 3
    assert error.value.message == "gave up after 1800s waiting for another run"


ONE_RUN = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from workflows.envs import venvs
venvs.VENVS_DIR = Path(sys.argv[1])
print(venvs.ensure_venv(venvs.VenvSpec(name="tiny"), Path(sys.argv[1]) / "install.log"))
"""


def test_two_first_runs_started_together_both_succeed(tmp_path: Path) -> None:
    """The fault as a user meets it: two processes, no environment yet, started at once."""
    root = tmp_path / "venvs"
    argv = [sys.executable, "-c", ONE_RUN, str(root), str(REPO_ROOT)]
    runs = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)]
    runs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outcomes = [(run.wait(DEADLINE), *run.communicate(timeout=DEADLINE)) for run in runs]
    python = str(root / "tiny" / "bin" / "python")
    assert [(code, out.strip()) for code, out, _ in outcomes] == [(0, python), (0, python)], (
        outcomes
    )


def test_the_runners_own_environment_is_built_once_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """run.py's bootstrap: a second first run waits for the first one's `uv sync`."""
    built = threading.Event()
    syncs: list[str] = []
    monkeypatch.setattr(bootstrap, "VENVS_DIR", tmp_path)
    monkeypatch.setattr(bootstrap, "is_current", lambda name: built.is_set())
    monkeypatch.setattr(bootstrap, "sync_env", syncs.append)
    second = threading.Thread(target=bootstrap.ensure_env, args=("runner",))
    seen: list[str] = []
    with lock.held(tmp_path / "runner.lock", "building the runner environment", print):
        second.start()
        wait_until(lambda: "(up to" in read_into(seen, capsys), "the waiting line")
        built.set()
    second.join(DEADLINE)
    assert "".join(seen).startswith(f"[bootstrap] another run (pid {os.getpid()} since ")
    assert "is building the runner environment; waiting for it (up to 1800s)" in "".join(seen)
    assert syncs == [], "the environment the first run built is reused"


def read_into(seen: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    seen.append(capsys.readouterr().err)
    return "".join(seen)
