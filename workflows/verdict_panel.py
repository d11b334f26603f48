"""The verdict as it stands out on the console: a panel with the verdict in its colour, what
blocks it, and a compact table of the target checks (each enforced tier's metrics, and each
tier the status does not enforce in one row)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from reports.acceptance import ACCEPTED, NOT_ACCEPTED

MAX_KEYS = 8  # blockers named in the panel; each is listed in full under it
COLOUR = {ACCEPTED: "green", NOT_ACCEPTED: "red"}  # anything else (PARTIAL): yellow
CHECK_COLOUR = {"PASS": "green", "FAIL": "red", "MISSING": "red"}
METRICS = {"ttft_ms": ("TTFT ms", "<="), "tput_user": ("tok/s/u", ">="), "tput": ("tok/s", ">=")}
TABLE_CAPTION = "ISL/OSL cC; tok/s/u: per user; ratio: measured/target; *: not enforced"


def colour(verdict: str) -> str:
    return COLOUR.get(verdict, "yellow")


def figure(value: object) -> str:
    """Three significant figures (all digits above 100), no exponent: 0.0532, 2.50, 50.6, 9500."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "-"
    for floor, decimals in ((100, 0), (10, 1), (1, 2)):
        if abs(value) >= floor:
            return f"{value:.{decimals}f}"
    return f"{value:.3g}" if abs(value) >= 0.001 else f"{value:.1e}"


def interval(pair: object) -> str:
    if isinstance(pair, Sequence) and len(pair) == 2:
        return f"{figure(pair[0])}-{figure(pair[1])}"
    return ""


def check_text(check: Mapping[str, Any]) -> Text:
    outcome = str(check.get("check"))
    label = f"MARGINAL {outcome}" if check.get("marginal") else outcome
    style = "yellow" if check.get("marginal") else CHECK_COLOUR.get(outcome, "yellow")
    return Text(label, style=f"bold {style}")


def _point(point: Mapping[str, Any]) -> str:
    return f"{point['isl']}/{point['osl']} c{point['concurrency']}"


def _metric_rows(tier: str, checks: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for name, check in checks.items():
        label, bound = METRICS.get(name, (name, ""))
        rows.append(
            [
                tier,
                label,
                f"{bound}{figure(check.get('target'))}",
                figure(check.get("measured")),
                interval(check.get("interval")),
                figure(check.get("ratio")),
                check_text(check),
            ]
        )
    return rows


def _tier_row(tier: str, body: Mapping[str, Any]) -> list[Any]:
    verdict = str(body.get("verdict"))
    style = f"bold {CHECK_COLOUR.get(verdict, 'yellow')}"
    return [f"{tier}*", "all", "", "", "", "", Text(verdict, style=style)]


def _point_rows(point: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for tier, body in point.get("tiers", {}).items():
        if body.get("enforced"):
            rows += _metric_rows(tier, body.get("checks", {}))
        else:
            rows.append(_tier_row(tier, body))
    return rows


def _width(cell: object) -> int:
    return len(cell.plain if isinstance(cell, Text) else str(cell))


def target_table(target_checks: Sequence[Mapping[str, Any]]) -> Group:
    """Per point (its ISL/OSL cC on a line of its own, so a long one never widens the
    table), a row per tier and metric: target, measured, its 95% interval, ratio, check. The
    points' tables share their column widths, and only the first has the header."""
    per_point = [(_point(point), _point_rows(point)) for point in target_checks]
    widths = [
        max([len(header)] + [_width(row[i]) for _, rows in per_point for row in rows])
        for i, header in enumerate(HEADERS)
    ]
    parts: list[RenderableType] = [_columns(widths, header=True)]
    for label, rows in per_point:
        table = _columns(widths, header=False)
        for row in rows:
            table.add_row(*row)
        parts += [Text(label, style="bold"), table]
    parts.append(Text(TABLE_CAPTION, style="dim"))
    return Group(*parts)


def _columns(widths: Sequence[int], header: bool) -> Table:
    table = Table(
        box=None, pad_edge=False, padding=(0, 0, 0, 1), header_style="bold", show_header=header
    )
    for name, width in zip(HEADERS, widths, strict=True):
        left = name in ("tier", "metric", "check")
        table.add_column(name, justify="left" if left else "right", width=width, no_wrap=True)
    return table


HEADERS = ("tier", "metric", "target", "measured", "95%", "ratio", "check")


def headline(report: Mapping[str, Any]) -> Text:
    meta, verdict = report["metadata"], report["acceptance"]["verdict"]
    text = Text(f"release report: {meta['model_name']} on {meta['device']}: ")
    text.append(verdict, style=f"bold {colour(verdict)}")
    return text


def _counts(acceptance: Mapping[str, Any]) -> Text:
    parts = [
        f"{len(acceptance.get(key) or ())} {name}"
        for key, name in (
            ("blockers", "blocking"),
            ("marginal", "marginal"),
            ("waived", "waived"),
            ("advisories", "not blocking"),
        )
    ]
    return Text(", ".join(parts) + " (each in full below)", style="dim")


def _blocker_keys(blockers: Sequence[Mapping[str, Any]]) -> list[Text]:
    lines = [
        Text(f"  x {finding['key']}", style="red", no_wrap=True, overflow="ellipsis")
        for finding in blockers[:MAX_KEYS]
    ]
    if len(blockers) > MAX_KEYS:
        lines.append(Text(f"  ... and {len(blockers) - MAX_KEYS} more", style="red"))
    return lines


def verdict_panel(report: Mapping[str, Any]) -> Panel:
    acceptance = report["acceptance"]
    parts: list[RenderableType] = [headline(report), _counts(acceptance)]
    parts += _blocker_keys(acceptance["blockers"])
    if report.get("target_checks"):
        parts += [Text(""), target_table(report["target_checks"])]
    return Panel(Group(*parts), border_style=colour(acceptance["verdict"]), expand=False)
