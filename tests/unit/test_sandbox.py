"""The bubblewrap sandbox that runs model-written code: real bwrap processes, one per test.

Each confinement test runs twice: as this test process is (root here and in CI: bwrap without a
user namespace, then setpriv to a fresh uid) and, when this process is root, as an unprivileged
user running the system Python (bwrap in a user namespace), the path a developer's own account
takes.
"""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from evals import sandbox
from evals.sandbox import Limits, SandboxError, Tools, run_python
from evals.sandbox_process import Finished
from tests.helpers import REPO_ROOT, command_lines, wait_for

SYSTEM_PYTHON = Path("/usr/bin/python3")
UNPRIVILEGED_UID = 0x70F00000 + os.getpid() % 0x10000  # a uid no account or sandbox uses
PLANTED_KEY = "sk-planted-0123456789abcdef"
FAST = Limits(wall_s=3.0)

#: Run in the system Python as an unprivileged user: read the call from stdin, print the result.
USER_DRIVER = """
import base64, json, sys
from pathlib import Path
from evals.sandbox import Limits, run_python
call = json.load(sys.stdin)
shared = Path(call["shared"]) if call["shared"] else None
done = run_python(call["script"], args=call["args"], limits=Limits(**call["limits"]), shared=shared)
print(json.dumps({"returncode": done.returncode,
                  "stdout": base64.b64encode(done.stdout).decode(),
                  "stderr": base64.b64encode(done.stderr).decode()}))
"""

Confine = Callable[..., Finished]

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap (bwrap)")


@functools.cache
def readable_evals_copy() -> Path:
    """The evals package's top-level modules in a folder any uid can read: the checkout may sit
    in a folder only root can enter (a `mktemp -d` clone is 0700)."""
    root = Path(tempfile.mkdtemp(prefix="readiness-sandbox-src-"))
    root.chmod(0o755)
    package = root / "evals"
    package.mkdir(mode=0o755)
    for module in (REPO_ROOT / "evals").glob("*.py"):
        shutil.copy(module, package / module.name)
        (package / module.name).chmod(0o644)
    return root


def as_unprivileged_user(
    script: str, args: tuple[str, ...] = (), limits: Limits = FAST, shared: Path | None = None
) -> Finished:
    call = {
        "script": script,
        "args": list(args),
        "limits": vars(limits),
        "shared": str(shared or ""),
    }
    drop = ["setpriv", f"--reuid={UNPRIVILEGED_UID}", f"--regid={UNPRIVILEGED_UID}"]
    result = subprocess.run(
        [*drop, "--clear-groups", str(SYSTEM_PYTHON), "-B", "-c", USER_DRIVER],
        input=json.dumps(call),
        capture_output=True,
        text=True,
        cwd="/tmp",
        env={**os.environ, "PYTHONPATH": str(readable_evals_copy())},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout)
    decode = base64.b64decode
    return Finished(done["returncode"], decode(done["stdout"]), decode(done["stderr"]))


def as_is(
    script: str, args: tuple[str, ...] = (), limits: Limits = FAST, shared: Path | None = None
) -> Finished:
    return run_python(script, args=args, limits=limits, shared=shared)


@pytest.fixture(params=["as-is", "unprivileged"])
def confine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Confine:
    """Run a script confined; the runner's environment holds a planted OPENAI_API_KEY."""
    monkeypatch.setenv("OPENAI_API_KEY", PLANTED_KEY)
    if request.param == "as-is":
        return as_is
    if os.geteuid() != 0 or not SYSTEM_PYTHON.exists():
        pytest.skip(
            "the unprivileged path needs root (to become another user) and /usr/bin/python3"
        )
    return as_unprivileged_user


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A host folder any uid may write to, under /tmp so an unprivileged bwrap can reach it."""
    folder = Path(tempfile.mkdtemp(prefix="sandbox-test-", dir="/tmp"))
    folder.chmod(0o777)
    yield folder
    shutil.rmtree(folder)


def output(done: Finished) -> str:
    return done.stdout.decode() + done.stderr.decode()


def test_a_program_runs_and_its_output_comes_back(confine: Confine) -> None:
    done = confine("import sys; print('hello', sys.argv[1:])", args=("a",))
    assert (done.returncode, done.stdout) == (0, b"hello ['a']\n")


def test_the_program_is_not_root_and_has_no_capabilities(confine: Confine) -> None:
    status = "open('/proc/self/status').read()"
    done = confine(f"import os; print(os.getuid(), os.getgid(), os.getgroups(), {status})")
    uid, gid, groups = done.stdout.decode().split(maxsplit=3)[:3]
    assert uid != "0" and gid != "0" and groups == "[]", done.stdout
    status = done.stdout.decode()
    for line in ("CapPrm:\t0000000000000000", "CapEff:\t0000000000000000", "NoNewPrivs:\t1"):
        assert line in status


def test_the_runner_environment_is_out_of_reach(confine: Confine) -> None:
    """Neither its own environment nor any /proc/<pid>/environ, the runner's pid included."""
    script = textwrap.dedent(
        """
        import os, sys
        print(sorted(os.environ))
        for pid in [sys.argv[1], *[name for name in os.listdir('/proc') if name.isdigit()]]:
            try:
                print(pid, open(f'/proc/{pid}/environ', 'rb').read())
            except OSError as error:
                print(pid, 'refused', type(error).__name__)
        """
    )
    done = confine(script, args=(str(os.getpid()),))
    assert done.returncode == 0, output(done)
    assert PLANTED_KEY not in output(done)
    assert f"{os.getpid()} refused" in done.stdout.decode()
    assert done.stdout.decode().splitlines()[0] == "['HOME', 'LANG', 'PATH', 'PWD', 'TMPDIR']"


def test_only_the_temporary_folder_is_writable(confine: Confine, tmp_path: Path) -> None:
    targets = [REPO_ROOT / "escaped.txt", Path.home() / "escaped.txt", Path("/usr/escaped.txt")]
    script = textwrap.dedent(
        """
        import sys
        for path in [*sys.argv[1:], '/sandbox-escaped.txt', '/tmp/inside.txt']:
            try:
                open(path, 'w').write('x')
                print(path, 'written')
            except OSError as error:
                print(path, 'refused', type(error).__name__)
        """
    )
    done = confine(script, args=tuple(map(str, targets)))
    assert done.returncode == 0, output(done)
    lines = done.stdout.decode().splitlines()
    assert lines[-1] == "/tmp/inside.txt written"
    assert all(" refused " in line for line in lines[:-1]), lines
    assert not any(target.exists() for target in targets)
    assert not Path("/tmp/inside.txt").exists()


def test_there_is_no_network_not_even_to_the_runners_loopback(confine: Confine) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        port = listener.getsockname()[1]
        script = textwrap.dedent(
            """
            import socket, sys
            try:
                socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=2)
                print('connected')
            except OSError as error:
                print('refused', type(error).__name__)
            """
        )
        done = confine(script, args=(str(port),))
        assert done.stdout.decode().startswith("refused"), output(done)
        with pytest.raises(BlockingIOError):
            listener.accept()


FORK_COUNT = """
import os, time
forked = 0
try:
    for _ in range(64):
        if os.fork() == 0:
            time.sleep(1)
            os._exit(0)
        forked += 1
except OSError as error:
    print('stopped', type(error).__name__)
print('forked', forked)
"""


def test_a_fork_bomb_is_held_at_the_process_limit(confine: Confine) -> None:
    done = confine(FORK_COUNT, limits=Limits(wall_s=5.0, processes=6))
    stopped, forked = done.stdout.decode().splitlines()
    assert stopped == "stopped BlockingIOError"
    assert 0 < int(forked.split()[1]) < 6


def test_an_endless_fork_bomb_is_killed_at_the_deadline_with_everything_it_forked(
    confine: Confine,
) -> None:
    script = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    started = time.monotonic()
    done = confine(script, limits=Limits(wall_s=2.0, processes=6))
    assert done.timed_out and time.monotonic() - started < 2.0 + 8.0
    assert sandboxed_processes() == []


SETSID_GRANDCHILD = """
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(float(sys.argv[1]))
        open('/shared/late.txt', 'w').write('survived')
        os._exit(0)
    os._exit(0)
os.wait()
time.sleep(float(sys.argv[2]))
"""


def test_a_setsid_grandchild_dies_with_the_program(confine: Confine, shared_dir: Path) -> None:
    done = confine(SETSID_GRANDCHILD, args=("0.5", "0"), shared=shared_dir)
    assert done.returncode == 0, output(done)
    time.sleep(1.5)  # three times the grandchild's sleep
    assert not (shared_dir / "late.txt").exists()
    assert sandboxed_processes() == []


def test_a_setsid_grandchild_writes_while_the_program_still_runs(
    confine: Confine, shared_dir: Path
) -> None:
    """The control for the test above: the same grandchild, given time, does write the file."""
    done = confine(SETSID_GRANDCHILD, args=("0.5", "1.5"), shared=shared_dir)
    assert done.returncode == 0, output(done)
    assert (shared_dir / "late.txt").read_text() == "survived"


def test_a_setsid_grandchild_dies_with_a_program_killed_at_the_deadline(
    confine: Confine, shared_dir: Path
) -> None:
    limits = Limits(wall_s=1.0)
    done = confine(SETSID_GRANDCHILD, args=("1.5", "60"), shared=shared_dir, limits=limits)
    assert done.timed_out
    time.sleep(2.0)  # past the grandchild's sleep, counted from its start
    assert not (shared_dir / "late.txt").exists()


RUNNER = """
import sys
from pathlib import Path
from evals.sandbox import Limits, run_python
run_python(sys.argv[2], args=sys.argv[3:], limits=Limits(wall_s=60.0), shared=Path(sys.argv[1]))
"""
WRITES_LATE = """
import sys, time
open('/shared/started', 'w').close()
time.sleep(1.0)
open('/shared/late', 'w').close()
"""


def test_the_sandbox_dies_with_a_runner_killed_under_it(shared_dir: Path) -> None:
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(shared_dir), WRITES_LATE], cwd=REPO_ROOT
    )
    try:
        assert wait_for((shared_dir / "started").exists, 30.0)
    finally:
        runner.kill()
        runner.wait()
    time.sleep(2.0)  # twice the program's sleep
    assert not (shared_dir / "late").exists()
    assert sandboxed_processes() == []
    assert not [pid for pid, argv in command_lines() if WRITES_LATE.encode() in argv]


def test_an_endless_loop_is_killed_at_the_wall_deadline(confine: Confine) -> None:
    started = time.monotonic()
    done = confine("import time\nwhile True:\n    time.sleep(0.01)\n", limits=Limits(wall_s=1.0))
    assert done.timed_out
    assert 1.0 <= time.monotonic() - started < 1.0 + 8.0


def test_a_memory_hog_is_stopped(confine: Confine) -> None:
    done = confine("blob = bytearray(4 * 1024**3)\nprint('allocated')", limits=FAST)
    assert done.returncode not in (0, None)
    assert b"MemoryError" in done.stderr and b"allocated" not in done.stdout


def test_cpu_time_is_limited_before_the_wall_deadline(confine: Confine) -> None:
    done = confine("while True:\n    pass\n", limits=Limits(wall_s=8.0, cpu_s=1))
    assert done.returncode not in (0, None)


def test_written_files_are_limited_in_size(confine: Confine) -> None:
    script = "open('/tmp/big', 'wb').write(bytes(2 * 1024**2))\nprint('written')"
    done = confine(script, limits=Limits(wall_s=3.0, file_bytes=1024**2))
    assert done.returncode != 0 and b"written" not in done.stdout


def test_files_are_handed_in_read_only(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        print(open('/sandbox/data.txt').read())
        try:
            open('/sandbox/data.txt', 'w')
        except OSError as error:
            print('refused', type(error).__name__)
        """
    )
    done = run_python(script, files={"data.txt": "handed in"}, limits=FAST)
    assert done.stdout.decode().splitlines() == ["handed in", "refused OSError"]


def test_stdin_reaches_the_program() -> None:
    done = run_python("import sys; print(sys.stdin.read()[::-1])", stdin=b"abc", limits=FAST)
    assert done.stdout == b"cba\n"


def test_without_bwrap_nothing_runs_and_the_error_names_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SandboxError, match="apt-get install bubblewrap"):
        run_python("print('unconfined')")
    with pytest.raises(SandboxError, match="apt-get install bubblewrap"):
        sandbox.require_sandbox()


def test_require_sandbox_passes_where_bwrap_works() -> None:
    sandbox.require_sandbox()


def test_require_sandbox_reports_what_bwrap_said(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bwrap that cannot set up (here: an option it refuses) stops the task with its words."""
    real = sandbox.namespace_args
    monkeypatch.setattr(sandbox, "namespace_args", lambda as_root: [*real(as_root), "--bogus"])
    with pytest.raises(SandboxError, match=r"could not start a sandbox here: .*bogus"):
        sandbox.require_sandbox()


def test_without_root_bwrap_uses_a_user_namespace_and_no_setpriv() -> None:
    tools = Tools(bwrap="/usr/bin/bwrap", prlimit="/usr/bin/prlimit", setpriv=None)
    argv = sandbox.bwrap_argv(tools, {}, ["-c", "pass"], FAST)
    for option in ("--unshare-user", "--disable-userns", "--unshare-net", "--unshare-pid"):
        assert option in argv
    assert argv[argv.index("--cap-drop") + 1] == "ALL" and "--cap-add" not in argv
    assert argv[argv.index("--") + 1] == "/usr/bin/prlimit"


def test_as_root_bwrap_keeps_only_what_setpriv_needs_and_setpriv_drops_it() -> None:
    tools = Tools(bwrap="/usr/bin/bwrap", prlimit="/usr/bin/prlimit", setpriv="/usr/bin/setpriv")
    argv = sandbox.bwrap_argv(tools, {}, ["-c", "pass"], FAST)
    assert "--unshare-user" not in argv
    added = [argv[i + 1] for i, arg in enumerate(argv) if arg == "--cap-add"]
    assert added == ["CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"]
    command = argv[argv.index("--") + 1 :]
    assert command[0] == "/usr/bin/setpriv"
    uid = int(command[1].removeprefix("--reuid="))
    assert uid in sandbox.SANDBOX_UIDS
    assert {"--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"} <= set(
        command
    )


def sandboxed_processes() -> list[int]:
    """Live (not zombie) processes of a sandbox uid or of the unprivileged test user."""
    left = []
    for entry in Path("/proc").iterdir():
        try:
            status = (entry / "status").read_text()
            uid = int(status.split("\nUid:\t")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
        zombie = "\nState:\tZ" in status
        if not zombie and (uid in sandbox.SANDBOX_UIDS or uid == UNPRIVILEGED_UID):
            left.append(int(entry.name))
    return left
