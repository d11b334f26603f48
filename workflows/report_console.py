"""Rendering a run's report from the runner, and what the console says about it: the verdict
in its panel (workflows/verdict_panel.py), each blocker in full, and where the files are."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from reports.acceptance import ACCEPTED, NOT_ACCEPTED
from reports.build import Rendered, render_run
from reports.requirements import RequirementsError, load_requirements
from reports.run_data import ReportError
from reports.store.url import is_baseline
from reports.tables import comparison_value
from workflows.errors import ExitCode, UsageError
from workflows.verdict_panel import verdict_panel

MAX_LISTED = 20  # blockers listed on the console; the report has them all


def load_requirements_or_fail(path: Path) -> dict[str, Any]:
    try:
        return load_requirements(path)
    except RequirementsError as error:
        raise UsageError(str(error)) from None


def render_and_tell(
    console: Console,
    folder: Path,
    compare_to: Path | None,
    environ: Mapping[str, str] | None = None,
) -> ExitCode:
    """Render the run's report and say its verdict; with a results store (that of `environ`)
    the report charts the previous releases' trends, and `--compare-to baseline` compares it
    with the store's last accepted release, whose regression gate can turn the exit code."""
    from workflows.store_view import store_view

    wants_baseline = is_baseline(compare_to)
    view = store_view(
        folder, environ if environ is not None else os.environ, console, wants_baseline
    )
    try:
        rendered = render_run(
            folder, None if wants_baseline else compare_to, view.baseline, view.previous
        )
    except ReportError as error:
        raise UsageError(str(error)) from None
    tell(console, rendered)
    code = verdict_exit_code(rendered.verdict, bool(rendered.report["acceptance"]["blockers"]))
    return gated_exit_code(code, rendered.report.get("comparison"))


def gated_exit_code(code: ExitCode, comparison: Mapping[str, Any] | None) -> ExitCode:
    """A regression beyond the baseline's interval fails an accepted or partial run with an
    exit code of its own; a run not accepted keeps its 5 (the worse news)."""
    gate = (comparison or {}).get("gate") or {}
    if gate.get("regressions") and code in (ExitCode.OK, ExitCode.PARTIAL):
        return ExitCode.REGRESSED
    return code


def verdict_exit_code(verdict: str, blocked: bool) -> ExitCode:
    """0 only when accepted; 5 whenever a check blocks (a partial run too: what it measured
    already rules the release out); 6 for a partial run in which nothing blocks."""
    if verdict == ACCEPTED:
        return ExitCode.OK
    if blocked or verdict == NOT_ACCEPTED:
        return ExitCode.NOT_ACCEPTED
    return ExitCode.PARTIAL


def regression_line(row: Mapping[str, Any]) -> str:
    """A regression as the report's comparison table writes it: a verdict in words, each
    figure in its metric's format, the change in percent where both runs have a figure."""
    before, now = comparison_value(row, row["before"]), comparison_value(row, row["now"])
    change = f" ({row['change']:+.1%})" if row.get("change") is not None else ""
    what = f"{row['what']} {row['metric']}"
    return f"  regression: {what}: {before or 'none'} -> {now or 'none'}{change}"


def say(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False)


def tell(console: Console, rendered: Rendered) -> None:
    report = rendered.report
    acceptance = report["acceptance"]
    console.print(verdict_panel(report))
    for reason in acceptance.get("partial") or ():
        say(console, f"  partial: {reason}; a partial run gets no release verdict")
    for finding in acceptance.get("marginal") or ():
        say(console, f"  marginal: {finding['message']}")
    for finding in acceptance["blockers"][:MAX_LISTED]:
        say(console, f"  blocker: {finding['message']}")
    if len(acceptance["blockers"]) > MAX_LISTED:
        say(console, f"  ... and {len(acceptance['blockers']) - MAX_LISTED} more in the report")
    for finding in acceptance["waived"]:
        say(console, f"  waived: {finding['message']} ({finding['reason']})")
    for finding in acceptance["advisories"]:
        say(console, f"  not blocking: {finding['message']} ({finding['reason']})")
    comparison = report.get("comparison")
    if comparison and comparison.get("gate"):
        tell_gate(console, comparison["gate"])
    if comparison:
        say(
            console,
            f"  compared with {comparison['baseline']}: {comparison['regressions']} regression(s)",
        )
        for row in comparison["rows"]:
            if row["regression"]:
                say(console, regression_line(row))
    for what, path in rendered.files.items():
        say(console, f"  {what}: {path}")


def tell_gate(console: Console, gate: Mapping[str, Any]) -> None:
    regressions = gate["regressions"]
    say(
        console,
        f"  regression gate against {gate['baseline']}: {len(regressions)} figure(s) worse "
        f"beyond their 95% intervals"
        + (f" ({gate['unjudged']} without an interval, not judged)" if gate["unjudged"] else ""),
    )
    for item in regressions:
        say(console, f"  regressed: {item['message']}")
