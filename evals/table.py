"""The evals summary a person reads at the end of a run, and lm-eval's progress while it runs."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.table import Table

STATUS_STYLE = {"PASS": "green", "FAIL": "red", "ERROR": "red", "NOT_COMPARABLE": "yellow"}
PROGRESS = re.compile(r"^Requesting API:.*?\|\s*(?P<done>\d+)/(?P<total>\d+) \[")


def _fraction(value: Any) -> str:
    return "" if value is None else f"{100 * float(value):.1f}%"


def _interval(row: Mapping[str, Any]) -> str:
    bounds = row.get("interval_95")
    return "" if not bounds else f"{100 * bounds[0]:.1f}–{100 * bounds[1]:.1f}%"


def evals_table(rows: Sequence[Mapping[str, Any]], title: str) -> Table:
    """Task, samples scored, score with its 95% interval, the reference it was held to, status
    (the limit and the ratios are in evals.json; the reasons go under the table)."""
    loaded = any(isinstance(row.get("under_load"), Mapping) for row in rows)
    table = Table(title=title, title_justify="left")
    table.add_column("task", overflow="fold", min_width=18)
    for header in ("n", "score", "95% CI", "ref") + (("loaded",) if loaded else ()):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("status", no_wrap=True)
    for row in rows:
        style = STATUS_STYLE.get(str(row["status"]), "")
        status = f"{row['status']}" + (" MARGINAL" if row.get("marginal") else "")
        cells = [
            str(row["task"]),
            str(row.get("n_samples", "")),
            _fraction(row.get("score")),
            _interval(row),
            _fraction(row.get("reference")),
        ]
        if loaded:
            cells.append(_under_load(row.get("under_load")))
        table.add_row(*cells, f"[{style}]{status}[/]" if style else status)
    return table


def _under_load(block: object) -> str:
    """The score under benchmark traffic (DROP beside a significant drop), or its status."""
    if not isinstance(block, Mapping):
        return ""
    dropped = " DROP" if block.get("status") == "FAIL" else ""
    return (_fraction(block.get("score")) or str(block.get("status"))) + dropped


def reason_lines(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Why each task got its status, under the table (too long for a column); and how it
    fared under benchmark traffic."""
    lines = []
    for row in rows:
        if row.get("reason"):
            lines.append(f"  {row['task']}: {row['reason']}")
        block = row.get("under_load")
        if isinstance(block, Mapping):
            status = "" if block.get("status") in ("PASS", "FAIL") else f"{block.get('status')}: "
            lines.append(f"  {row['task']} under load: {status}{block.get('reason')}")
    return lines


class Progress:
    """Turns lm-eval's progress bars (one line per redraw) into a line every half minute: the
    first and the last always show, whatever `clock` reads (time.monotonic counts from boot)."""

    def __init__(
        self,
        task: str,
        emit: Callable[[str], None],
        every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.task = task
        self.emit = emit
        self.every = every
        self._clock = clock
        self._last: float | None = None
        self._shown: tuple[int, int] | None = None

    def __call__(self, line: str) -> None:
        found = PROGRESS.search(line)
        if found is None:
            return
        counts = (int(found["done"]), int(found["total"]))
        now = self._clock()
        if counts == self._shown or not self._due(counts, now):
            return
        self._shown, self._last = counts, now
        self.emit(f"  {self.task}: {counts[0]}/{counts[1]} requests answered")

    def _due(self, counts: tuple[int, int], now: float) -> bool:
        return self._last is None or counts[0] >= counts[1] or now - self._last >= self.every
