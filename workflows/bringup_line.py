"""The line the console shows while a server comes up: the seconds waited, of how many, and
the last line of the server's log. On a terminal one live line; elsewhere (a CI log) a plain
line every PLAIN_EVERY_S, so a slow start is never silent and never redraws."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.status import Status
from rich.text import Text

from workflows.redact import redact

PLAIN_EVERY_S = 15.0
TAIL_BYTES = 4096  # the last line is read from the file's end: a server log grows large
SHOWN_CHARS = 100  # a log line longer than this is cut, on the live line and the plain one


def last_line(path: Path | None) -> str:
    """The last non-empty line of a log, read from its end, secrets masked (whoever wrote the
    log: a line cut at SHOWN_CHARS could cut a key where the console's mask would miss it);
    '' when there is none yet."""
    if path is None:
        return ""
    try:
        with path.open("rb") as log:
            log.seek(0, 2)
            log.seek(max(log.tell() - TAIL_BYTES, 0))
            text = log.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [" ".join(redact(line).split()) for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[-1] if len(lines[-1]) <= SHOWN_CHARS else lines[-1][: SHOWN_CHARS - 1] + "…"


class BringUpLine:
    """Called with the seconds waited at each readiness poll; says where the start is."""

    def __init__(
        self,
        console: Console,
        log_path: Path | None,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.console, self.log_path, self.timeout, self.clock = console, log_path, timeout, clock
        self.status: Status | None = None
        self.next_plain = clock() + PLAIN_EVERY_S

    def text(self, waited: float) -> str:
        line = last_line(self.log_path)
        log = f"; log: {line}" if line else ""
        return f"waiting for the server: {waited:.0f}s of {self.timeout:g}s{log}"

    def __call__(self, waited: float) -> None:
        if self.status is not None:
            self.status.update(Text(self.text(waited)))
        elif self.clock() >= self.next_plain:
            self.next_plain = self.clock() + PLAIN_EVERY_S
            self.console.print(self.text(waited), markup=False, highlight=False, soft_wrap=True)

    def __enter__(self) -> BringUpLine:
        if self.console.is_terminal:
            self.status = self.console.status(Text(self.text(0)))
            self.status.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.status is not None:
            self.status.stop()
