"""SIGTERM behaves like Ctrl-C, and neither can be lost.

Python drops an exception raised by a signal handler while it runs certain internal callbacks
(an import lock's, for one). The handler therefore also records the signal, and the runner
checks that record at the points where it decides what to leave running.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_received: list[int] = []


def install() -> None:
    _received.clear()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while a child starts and is recorded, so that an interrupt
    can never land between the two and leave a process nobody will stop."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def check() -> None:
    """Raise KeyboardInterrupt if a signal arrived, even one whose exception was swallowed."""
    if _received:
        raise KeyboardInterrupt(f"signal {_received[0]}")
