"""The one place that starts processes: argv lists only, logged with secrets masked.

`run()` runs a command to completion (streaming its output to a log and, optionally, a callback);
`start()` starts a long-lived process in its own process group, which `ManagedProcess.stop()`
ends with terminate, then kill.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from workflows import interrupts
from workflows.redact import redact, registered_secrets

log = logging.getLogger(__name__)
Env = Mapping[str, str | None]
GUARD = Path(__file__).with_name("guard.py")
WatchFn = Callable[[], str | None]
WATCH_SECONDS = 0.5


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    output: str
    stopped_because: str | None = None  # set when `watch` ended the command early

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def quoted(argv: Sequence[str]) -> str:
    return redact(shlex.join(argv))


def guarded(
    argv: Sequence[str], grace: float = 10.0, *, with_runner: bool = True, mask: bool = False
) -> list[str]:
    """`argv` run under workflows/guard.py: it and all it starts end when the runner ends; with
    `mask`, its output is copied with the secrets the runner writes to the guard's stdin masked
    (not `with_runner`, mask only: the command outlives the runner, and the guard becomes it)."""
    runner = str(os.getpid()) if with_runner else "0"
    options = ["--mask"] if mask else []
    return [sys.executable, "-I", str(GUARD), runner, str(grace), *options, "--", *argv]


def merged_env(env: Env | None) -> dict[str, str]:
    """The current environment with `env` applied; a None value unsets the variable."""
    result = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def run(
    argv: Sequence[str],
    *,
    env: Env | None = None,
    cwd: Path | None = None,
    timeout: float | None = None,
    log_path: Path | None = None,
    on_line: Callable[[str], None] | None = None,
    passthrough: bool = False,
    interactive: bool = False,
    watch: WatchFn | None = None,
) -> CommandResult:
    """Run to completion; output goes to `log_path` (appended) and is returned.

    With `passthrough` the child writes straight to this terminal (its own progress bars), and
    nothing is captured. `interactive` also gives it this terminal's input and keeps it in the
    terminal's foreground group (a shell the user types into). Other commands run under the
    guard, so they end with the runner however it ends. `watch` is asked twice a second whether
    to go on: a reason stops the command (the server it talks to has died, say).
    """
    log.debug("$ %s", quoted(argv))
    process = subprocess.Popen(
        list(argv) if interactive else guarded(argv, grace=5.0),
        cwd=cwd,
        env=merged_env(env),
        stdin=None if interactive else subprocess.DEVNULL,
        stdout=None if passthrough or interactive else subprocess.PIPE,
        stderr=None if passthrough or interactive else subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=not interactive,
        preexec_fn=None if interactive else _child_setup,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=_pump, args=(process.stdout, lines, log_path, on_line), daemon=True
    )
    reader.start()
    try:
        returncode, stopped = _wait(process, timeout, watch)
    except BaseException:
        _stop_group(process, grace=5.0)
        raise
    if stopped:
        lines.append(f"[runner] stopped: {stopped}")
    reader.join(timeout=5)
    log.debug("exit %d: %s", returncode, quoted(argv[:3]))
    return CommandResult(tuple(argv), returncode, "\n".join(lines), stopped)


def _wait(
    process: subprocess.Popen[str], timeout: float | None, watch: WatchFn | None
) -> tuple[int, str | None]:
    """The exit code, and why the runner stopped the command if it did (deadline, watch)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            reason = f"timed out after {timeout:.0f}s"
            break
        step = WATCH_SECONDS if remaining is None else min(WATCH_SECONDS, remaining)
        try:
            return process.wait(timeout=step), None
        except subprocess.TimeoutExpired:
            pass
        interrupts.check()  # a signal whose exception Python swallowed still stops the command
        found = watch() if watch else None
        if found:
            reason = found
            break
    _stop_group(process, grace=5.0)
    code = process.poll()
    return (code if code is not None else -int(signal.SIGKILL)), reason


def _pump(
    stream: IO[str] | None,
    lines: list[str],
    log_path: Path | None,
    on_line: Callable[[str], None] | None,
) -> None:
    if stream is None:
        return
    sink = log_path.open("a") if log_path else None
    try:
        for raw in stream:
            line = redact(raw.rstrip("\n"))
            lines.append(line)
            if sink:
                sink.write(line + "\n")
                sink.flush()
            if on_line:
                on_line(line)
    finally:
        if sink:
            sink.close()


class ManagedProcess:
    """A long-running child in its own process group, with its output in a log file."""

    def __init__(self, process: subprocess.Popen[bytes], argv: Sequence[str], log_path: Path):
        self._process = process
        self.argv = tuple(argv)
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self._process.pid

    def poll(self) -> int | None:
        return self._process.poll()

    def wait(self, timeout: float | None = None) -> int:
        return self._process.wait(timeout=timeout)

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM to the whole group, then SIGKILL after `grace` seconds."""
        if self._process.poll() is None:
            log.debug("stopping pid %d", self.pid)
            _stop_group(self._process, grace)
        return self._process.poll()


def start(
    argv: Sequence[str],
    *,
    log_path: Path,
    env: Env | None = None,
    cwd: Path | None = None,
    die_with_runner: bool = True,
    masked: bool = False,
) -> ManagedProcess:
    """Start a background process; with `die_with_runner` it runs under the guard, which ends it
    (and all it started) when the runner ends, however that happens. `masked`: its log holds
    none of the secrets registered so far (the guard copies its output, masked, for as long as
    it runs, also past the runner)."""
    log.debug("$ %s  > %s", quoted(argv), log_path)
    if die_with_runner or masked:
        argv_run = guarded(argv, with_runner=die_with_runner, mask=masked)
    else:
        argv_run = list(argv)
    with log_path.open("ab") as sink:
        process = subprocess.Popen(
            argv_run,
            cwd=cwd,
            env=merged_env(env),
            stdin=subprocess.PIPE if masked else subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_child_setup,
        )
    if process.stdin is not None:
        _send_secrets(process.stdin)
    return ManagedProcess(process, argv, log_path)


def _send_secrets(stdin: IO[bytes]) -> None:
    """The runner's secrets to the guard, on a pipe: never in an argument or the environment."""
    with contextlib.suppress(OSError), stdin:  # the guard ended at once: its status says why
        stdin.write(json.dumps(sorted(registered_secrets())).encode())


def _child_setup() -> None:
    """In the child before exec: take the signals the runner may be holding back."""
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _leads_own_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except ProcessLookupError:
        return False


def _stop_group(process: subprocess.Popen[bytes] | subprocess.Popen[str], grace: float) -> None:
    """Terminate, then kill, the child's process group (just the child if it has none)."""
    own_group = _leads_own_group(process.pid)
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if own_group:
                os.killpg(process.pid, sig)
            else:
                process.send_signal(sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return
            time.sleep(0.05)
