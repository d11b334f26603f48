"""What the console shows of the spec tests: one line per finished check as it finishes, its
status in colour, then one line of counts (each check is printed once)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from evals.spec_tests.results import summary
from evals.spec_tests.runner import CheckResult
from evals.spec_tests.verdict import ERROR, FAIL, PASS, SKIPPED
from reports.redaction import redact

STYLE: dict[str, str] = {PASS: "green", FAIL: "bold red", SKIPPED: "yellow", ERROR: "bold red"}


def progress_line(index: int, total: int, result: CheckResult) -> Text:
    width = len(str(total))
    line = Text(f"[{index:>{width}}/{total}] {result.name:<28} ")
    line.append(f"{result.status:<7}", style=STYLE[result.status])
    tries = f" ({result.attempts} tries)" if result.attempts > 1 else ""
    line.append(f" {result.duration_s:>6.1f}s{tries}  {redact(result.message)}".rstrip())
    return line


def counts_line(results: Sequence[CheckResult], engine: str) -> str:
    counts = summary(results)
    return f"spec tests ({engine}): " + ", ".join(f"{n} {k}" for k, n in counts.items())


def show(console: Console, results: Sequence[CheckResult], engine: str) -> None:
    console.print(counts_line(results, engine), markup=False, highlight=False)
