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


class BuildProgress:
    """Fed the output lines of a build; shows its percentage and elapsed time."""

    def __init__(self, console: Console, title: str) -> None:
        self._console = console
        self._title = title
        self._started = time.monotonic()
        self._last_logged = -10
        self._status = console.status(title) if console.is_terminal else None

    def __call__(self, line: str) -> None:
        match = _PERCENT.search(line)
        if not match:
            return
        percent = int(match.group(1))
        elapsed = time.monotonic() - self._started
        text = f"{self._title}: {percent}% ({elapsed:.0f}s)"
        if self._status is not None:
            self._status.update(text)
        elif percent >= self._last_logged + 10:
            self._last_logged = percent - percent % 10
            log.info(text)

    @contextmanager
    def shown(self) -> Iterator[BuildProgress]:
        if self._status is None:
            log.info("%s ...", self._title)
            yield self
            return
        with self._status:
            yield self
