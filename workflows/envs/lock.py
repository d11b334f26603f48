"""One builder at a time for a shared folder (an environment under `.workflow_venvs/`).

A lock is `fcntl.flock` on a file beside the folder: the kernel releases it when its holder ends,
however it ends, so a crashed run never leaves a lock behind. The holder writes who it is into the
file; a run that finds the lock taken says who holds it and waits, up to a deadline.
Standard library only: the bootstrap takes these locks before any third-party package exists.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

WAIT_SECONDS = 1800.0  # the longest install the runner makes (lm-eval's) takes minutes, not this
POLL_SECONDS = 0.5
Say = Callable[[str], None]


class LockTimeout(Exception):
    """The lock was still held when the deadline came."""


class Clock:
    """Time as the lock sees it; tests pass one that moves only when told to."""

    def now(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@contextmanager
def held(
    lock_file: Path,
    what: str,
    say: Say,
    timeout: float = WAIT_SECONDS,
    clock: Clock | None = None,
) -> Iterator[None]:
    """Hold the lock on `lock_file` while the block runs; `what` names the work for the waiting
    line ("building the benchmarks environment")."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if not _try_lock(fd):
            _wait_for(fd, lock_file, what, say, timeout, clock or Clock())
        _sign(fd)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_for(fd: int, lock_file: Path, what: str, say: Say, timeout: float, clock: Clock) -> None:
    holder = holder_of(lock_file)
    say(f"{holder} is {what}; waiting for it (up to {timeout:g}s)")
    deadline = clock.now() + timeout
    while not _try_lock(fd):
        if clock.now() >= deadline:
            raise LockTimeout(
                f"gave up after {timeout:g}s waiting for {holder}, which is still {what} "
                f"(lock {lock_file}); stop that run or try again when it ends"
            )
        clock.sleep(POLL_SECONDS)


def _sign(fd: int) -> None:
    """Who holds the lock, for a run that finds it taken."""
    stamp = time.strftime("%H:%M:%S")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} since {stamp}\n".encode(), 0)


def holder_of(lock_file: Path) -> str:
    """'another run (pid 1234 since 12:03:04)', or 'another run' when the file does not say."""
    try:
        signed = lock_file.read_text().strip()
    except OSError:
        signed = ""
    return f"another run ({signed})" if signed.startswith("pid ") else "another run"
