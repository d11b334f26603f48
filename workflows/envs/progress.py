"""Progress for long steps: a live spinner on a terminal, a line per 10% elsewhere (CI logs)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

log = logging.getLogger(__name__)
_PERCENT = re.compile(r"\[\s*(\d{1,3})%\]")


class _Progress:
    def __init__(self, console: Console, title: str) -> None:
        self._title = title
        self._started = time.monotonic()
        self._last_logged = -10
        self._status = console.status(title) if console.is_terminal else None

    def _show(self, text: str, percent: int) -> None:
        if self._status is not None:
            self._status.update(text)
        elif percent >= self._last_logged + 10:
            self._last_logged = percent - percent % 10
            log.info(text)

    @contextmanager
    def _shown(self) -> Iterator[None]:
        if self._status is None:
            log.info("%s ...", self._title)
            yield
            return
        with self._status:
            yield


class BuildProgress(_Progress):
    """Fed the output lines of a build; shows its percentage and elapsed time."""

    def __call__(self, line: str) -> None:
        match = _PERCENT.search(line)
        if not match:
            return
        percent = int(match.group(1))
        elapsed = time.monotonic() - self._started
        self._show(f"{self._title}: {percent}% ({elapsed:.0f}s)", percent)

    @contextmanager
    def shown(self) -> Iterator[BuildProgress]:
        with self._shown():
            yield self


class PullProgress(_Progress):
    """Fed (layer, bytes done, layer size) while an image downloads; shows the whole."""

    def __init__(self, console: Console, image: str) -> None:
        super().__init__(console, f"pulling {image}")
        self._layers: dict[str, tuple[int, int]] = {}

    def __call__(self, layer: str, done: int, total: int) -> None:
        self._layers[layer] = (done, total)
        done_all = sum(d for d, _ in self._layers.values())
        total_all = sum(t for _, t in self._layers.values()) or 1
        percent = min(100, 100 * done_all // total_all)
        self._show(f"{self._title}: {done_all / 1e6:.0f} of {total_all / 1e6:.0f} MB", percent)

    @contextmanager
    def shown(self) -> Iterator[PullProgress]:
        with self._shown():
            yield self
