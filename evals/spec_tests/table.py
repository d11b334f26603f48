"""What the console shows: one progress line per finished check, a table at the end."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from evals.spec_tests.results import summary
from evals.spec_tests.runner import CheckResult
from evals.spec_tests.verdict import ERROR, FAIL, PASS, SKIPPED
from reports.redaction import redact

STYLE: dict[str, str] = {PASS: "green", FAIL: "red", SKIPPED: "yellow", ERROR: "red"}


def progress_line(index: int, total: int, result: CheckResult) -> str:
    width = len(str(total))
    return (
        f"[{index:>{width}}/{total}] {result.name:<28} {result.status:<7} "
        f"{result.duration_s:>6.1f}s  {result.message}"
    ).rstrip()


def results_table(results: Sequence[CheckResult], engine: str) -> Table:
    counts = summary(results)
    table = Table(
        title=f"spec tests ({engine}): " + ", ".join(f"{n} {k}" for k, n in counts.items())
    )
    for column in ("check", "status", "time", "tries", "message"):
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_row(
            escape(result.name),
            f"[{STYLE[result.status]}]{result.status}[/]",
            f"{result.duration_s:.1f}s",
            str(result.attempts),
            escape(redact(result.message)),  # folded in its cell: masked before, not after
        )
    return table


def show(console: Console, results: Sequence[CheckResult], engine: str) -> None:
    console.print(results_table(results, engine))
