"""SIGTERM behaves like Ctrl-C, and neither can be lost.

Python drops an exception raised by a signal handler while it runs certain internal callbacks
(an import lock's, for one). The handler therefore also records the signal, and the runner
checks that record at the points where it decides what to leave running.
"""

from __future__ import annotations

import signal
from types import FrameType

_received: list[int] = []


def install() -> None:
    _received.clear()
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise KeyboardInterrupt(f"signal {signum}")


def check() -> None:
    """Raise KeyboardInterrupt if a signal arrived, even one whose exception was swallowed."""
    if _received:
        raise KeyboardInterrupt(f"signal {_received[0]}")
