"""One bwrap process from start to a sandbox that is gone: a deadline, then SIGKILL, then a wait.

bwrap's ``--info-fd`` names the sandbox's PID 1 (a process of the host's PID namespace, forked by
bwrap). Its pidfd turns readable only once the kernel has killed and reaped every other process
of its namespace, so waiting on it means that when :func:`run_bwrap` returns, nothing the
program started is still running, a ``setsid()`` grandchild included. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

GRACE_S = 10.0  # after the kill, how long the sandbox may take to go away
BWRAP_ENV = {"PATH": "/usr/bin:/bin"}  # bwrap's own: its PID 1 keeps it, visible in /proc/1


@dataclass(frozen=True)
class Finished:
    """How a confined program ended: its exit status (None: killed at the deadline), its output."""

    returncode: int | None
    stdout: bytes
    stderr: bytes

    @property
    def timed_out(self) -> bool:
        return self.returncode is None


def run_bwrap(
    argv: Sequence[str], stdin: bytes, pass_fds: Sequence[int], wall_s: float
) -> Finished:
    """Run bwrap (``argv[0]``), adding ``--info-fd``; stdout and stderr go to unnamed files."""
    deadline = time.monotonic() + wall_s
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child, info = _start(argv, stdin, pass_fds, out, err)
        init = None
        try:
            init = _sandbox_init(info, deadline, child.pid)
            returncode = _wait(child, deadline)
        finally:
            _kill(child, init)
        return Finished(returncode, _read(out), _read(err))


def _start(
    argv: Sequence[str], stdin: bytes, pass_fds: Sequence[int], out: IO[bytes], err: IO[bytes]
) -> tuple[subprocess.Popen[bytes], int]:
    """bwrap in a session of its own, with a bare environment and ``stdin`` on a pipe; with the
    read end of its ``--info-fd``."""
    info_read, info_write = os.pipe()
    stdin_read = _pipe_holding(stdin)
    try:
        child = subprocess.Popen(
            [argv[0], "--info-fd", str(info_write), *argv[1:]],
            stdin=stdin_read,
            stdout=out,
            stderr=err,
            env=BWRAP_ENV,
            pass_fds=[*pass_fds, info_write],
            start_new_session=True,
        )
    except BaseException:
        os.close(info_read)
        raise
    finally:
        os.close(info_write)
        os.close(stdin_read)
    return child, info_read


def _pipe_holding(data: bytes) -> int:
    """The read end of a pipe that holds ``data`` (at most a pipe's buffer) and then ends."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, data)
    finally:
        os.close(write_end)
    return read_end


def _sandbox_init(info_fd: int, deadline: float, bwrap_pid: int) -> int | None:
    """A pidfd of the sandbox's PID 1, or None if bwrap never started one or it is already gone.

    The pid is checked to still be bwrap's child after the pidfd is open: a PID 1 that exited
    and was reaped in between could have handed its number to an unrelated process."""
    try:
        pid = _read_child_pid(info_fd, deadline)
    finally:
        os.close(info_fd)
    if pid is None:
        return None
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return None
    if _parent_of(pid) != bwrap_pid:
        os.close(pidfd)
        return None
    return pidfd


def _parent_of(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    ppid = [line.split()[1] for line in status.splitlines() if line.startswith("PPid:")]
    return int(ppid[0]) if ppid else None


def _read_child_pid(info_fd: int, deadline: float) -> int | None:
    """The ``child-pid`` of bwrap's JSON on ``--info-fd`` (written in pieces), or None at EOF or
    the deadline."""
    data = b""
    while select.select([info_fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
        chunk = os.read(info_fd, 4096)
        if not chunk:
            return None
        data += chunk
        with contextlib.suppress(ValueError):
            return int(json.JSONDecoder().raw_decode(data.decode())[0]["child-pid"])
    return None


def _wait(child: subprocess.Popen[bytes], deadline: float) -> int | None:
    """bwrap's exit status (the program's), or None when the deadline passes first."""
    try:
        return child.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None


def _kill(child: subprocess.Popen[bytes], init: int | None) -> None:
    """Kill the sandbox's PID 1 (so its whole namespace) and wait until it has exited, then let
    bwrap reap it and exit; kill bwrap only if it does not, which would leave a zombie behind."""
    if init is not None:
        try:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(init, signal.SIGKILL)
            select.select([init], [], [], GRACE_S)
        finally:
            os.close(init)
    try:
        child.wait(timeout=GRACE_S if init is not None else 0)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=GRACE_S)


def _read(handle: IO[bytes]) -> bytes:
    handle.seek(0)
    return handle.read()
