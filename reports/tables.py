"""The report's tables, built with pandas from report.json's sections: one frame per table with
the columns a person reads (display names, formatted figures), and the same frame as markdown,
HTML or CSV."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
from markupsafe import Markup

from reports.escaping import markdown_text
from reports.figures import (
    Format,
    interval_text,
    metric_text,
    ratio_text,
    score,
    share,
    significant,
)

BENCHMARK_DISPLAY: tuple[tuple[str, str, str | Format], ...] = (  # key, header, format
    ("isl", "ISL", "{}"),
    ("osl", "OSL", "{}"),
    ("concurrency", "Concurrency", "{}"),
    ("num_prompts", "N Req", "{}"),
    ("failed", "Failed", "{}"),
    ("mean_ttft_ms", "TTFT (ms)", significant),
    ("p99_ttft_ms", "P99 TTFT (ms)", significant),
    ("mean_tpot_ms", "TPOT (ms)", significant),
    ("tput_user", "Tput User (TPS)", significant),
    ("output_throughput", "Tput Output (TPS)", significant),
    ("ttft_ci95", "TTFT 95% interval (ms)", "{}"),
    ("tput_user_ci95", "Tput User 95% interval", "{}"),
    ("tput_ci95", "Tput Output 95% interval", "{}"),
    ("mean_e2el_ms", "E2EL (ms)", significant),
    ("request_throughput", "Req Tput (RPS)", significant),
    ("total_token_throughput", "Total Token Throughput (TPS)", significant),
    ("cached_share", "Prompt Cached", share),  # blank: the server did not say
)
METRIC_HEADERS = {"ttft_ms": "TTFT (ms)", "tput_user": "Tput User (TPS)", "tput": "Tput (TPS)"}
CHECK_MARKS = {
    "PASS": "PASS ✅",
    "FAIL": "FAIL ⛔",
    "MISSING": "MISSING ⛔",
    "UNJUDGED": "NOT JUDGED ⛔",  # measured a prompt cache the run did not ask for
    "N/A": "N/A",
}


def cell(value: object, fmt: str | Format = "{}") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt.format(value) if isinstance(fmt, str) else fmt(float(value))
    return str(value)


def _with_intervals(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "ttft_ci95": interval_text(
            "mean_ttft_ms", row.get("mean_ttft_ms_ci95_low"), row.get("mean_ttft_ms_ci95_high")
        ),
        "tput_user_ci95": interval_text(
            "tput_user", row.get("tput_user_ci95_low"), row.get("tput_user_ci95_high")
        ),
        "tput_ci95": interval_text(
            "output_throughput",
            row.get("output_throughput_ci95_low"),
            row.get("output_throughput_ci95_high"),
        ),
    }


def _frame(
    rows: Sequence[Mapping[str, Any]], columns: Sequence[tuple[str, str, str | Format]]
) -> pd.DataFrame:
    data = [[cell(_with_intervals(row).get(key), fmt) for key, _, fmt in columns] for row in rows]
    return pd.DataFrame(data, columns=[header for _, header, _ in columns])


def benchmark_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    columns = list(BENCHMARK_DISPLAY)
    if any("window" in row for row in rows):
        columns.insert(3, ("window", "Window", "{}"))
    if any(row.get("request_rate") not in (None, "inf") for row in rows):
        columns.insert(3, ("request_rate", "Rate (RPS)", "{:g}"))
    return _frame(rows, columns)


def benchmark_csv_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The benchmark table for programs: report.json's names, raw numbers."""
    return pd.DataFrame(list(rows))


def target_frame(points: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per target point and tier: theoretical target, measured, ratio and check."""
    data = []
    for point in points:
        measured = point.get("measured") or {}
        for tier, result in point["tiers"].items():
            row = {
                "ISL": point["isl"],
                "OSL": point["osl"],
                "Concurrency": point["concurrency"],
                "Tier": f"{tier} ({result['fraction']:.0%})"
                + ("" if result["enforced"] else ", not enforced"),
            }
            for metric, header in METRIC_HEADERS.items():
                check = result["checks"][metric]
                row[f"{header} target"] = metric_text(metric, check["target"])
                interval = check.get("interval") or (None, None)
                row[f"{header} measured"] = " ".join(
                    part
                    for part in (
                        metric_text(metric, measured.get(metric)),
                        interval_text(metric, *interval),
                    )
                    if part
                )
                ratio = check["ratio"]
                row[f"{header} check"] = (
                    CHECK_MARKS[check["check"]]
                    + (" MARGINAL" if check.get("marginal") else "")
                    + (f" ({ratio_text(ratio)})" if ratio is not None else "")
                )
            data.append(row)
    return pd.DataFrame(data)


def eval_frame(tasks: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    def interval(task: Mapping[str, Any]) -> str:
        return interval_text("score", *(task.get("interval_95") or (None, None)))

    return pd.DataFrame(
        [
            {
                "Task": task.get("task"),
                "Status": task.get("status"),
                "Score": cell(task.get("score"), score),
                "N": cell(task.get("n_samples")),
                "95% interval": interval(task),
                "Reference": cell(task.get("reference"), score),
                "Ratio to reference": cell(task.get("ratio_to_reference"), ratio_text),
                "Published": cell(task.get("published"), score),
                "Limit": cell(task.get("limit_mode")),
                "Reason": task.get("reason") or "",
            }
            for task in tasks
        ]
    )


def spec_test_frame(checks: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Status": check.get("status"),
                "Test Name": check.get("name"),
                "Duration (s)": cell(check.get("duration_s"), "{:.2f}"),
                "Attempts": cell(check.get("attempts")),
                "Message": check.get("message") or "",
            }
            for check in checks
        ]
    )


def _unrepeated(text: str, said: str) -> str:
    """`text` without a leading `said` (and the ': ', ', ' or ' is ' after it) that a column
    beside it already shows."""
    if not said or not text.startswith(said):
        return text
    rest = text[len(said) :]
    for joint in (": ", ", ", " is ", " "):
        if rest.startswith(joint):
            return rest[len(joint) :]
    return text


def findings_frame(findings: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Check, where and what, each saying something the others do not: a where that the check's
    name already is stays blank, and the message does not open by repeating either."""
    rows = []
    for finding in findings:
        name = str(finding["key"]).split(":", 1)[-1]
        where = str(finding["where"])
        rows.append(
            {
                "Check": finding["key"],
                "Where": "" if where == name else where,
                "What": _unrepeated(str(finding["message"]), where if where != name else name),
                **({"Why it does not block": finding["reason"]} if "reason" in finding else {}),
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty and not frame["Where"].any():
        frame = frame.drop(columns="Where")
    return frame


CATEGORY_COUNTS = (  # report.json key, header
    ("status", "Status"),
    ("total", "Total"),
    ("passed", "Passed"),
    ("failed", "Failed"),
    ("na", "N/A"),
    ("skipped", "Skipped"),
    ("blockers", "Blockers"),
    ("waived", "Waived"),
)


def category_frame(categories: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per category: whether the status requires it, what ran, and how it was judged."""
    return pd.DataFrame(
        [
            {"Name": category["name"], "Required": "yes" if category["enforced"] else "no"}
            | {header: category[key] for key, header in CATEGORY_COUNTS}
            for category in categories
        ]
    )


VERDICT_WORDS = {True: "ACCEPTED", False: "NOT ACCEPTED"}


def comparison_value(row: Mapping[str, Any], value: object) -> str:
    """A compared value as the report writes that metric elsewhere: a verdict in words, a
    figure with the metric's significant figures, a status as it is."""
    field = str(row.get("field") or "")
    if field == "accepted":
        return VERDICT_WORDS.get(bool(value), "") if value is not None else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return metric_text(field, value)
    return "" if value is None else str(value)


def comparison_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "What": row["what"],
                "Metric": row["metric"],
                "Before": comparison_value(row, row["before"]),
                "Now": comparison_value(row, row["now"]),
                "Change": cell(row["change"], "{:+.1%}"),
                "Regression": "REGRESSION ⛔" if row["regression"] else "",
            }
            for row in rows
        ]
    )


def _markdown_cell(value: object) -> str:
    return value if isinstance(value, Markup) else markdown_text(value)  # Markup: a link made safe


def markdown_table(frame: pd.DataFrame) -> Markup:
    """The frame as a markdown table, every cell escaped (a server's words are text, never HTML,
    a link or a cell break); Markup, so that the template does not escape it again."""
    if frame.empty:
        return Markup("_none_")
    header = "| " + " | ".join(markdown_text(column) for column in frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = [
        "| " + " | ".join(_markdown_cell(value) for value in row) + " |"
        for row in frame.itertuples(index=False)
    ]
    return Markup("\n".join([header, rule, *body]))


STATUS_CSS = {  # a status word at the start of an HTML cell, in its colour
    "NOT ACCEPTED": "fail",
    "NOT JUDGED": "fail",
    "REGRESSION": "fail",
    "MISSING": "fail",
    "FAIL": "fail",
    "ERROR": "fail",
    "PARTIAL": "warn",
    "MARGINAL": "warn",
    "SKIPPED": "warn",
    "ACCEPTED": "pass",
    "PASS": "pass",
}
_CELL = re.compile(r"<td>(.*?)</td>", re.DOTALL)
_EMOJI = re.compile("\\s*(?:\u2705|\u26d4|\u26a0\ufe0f?)")  # emoji a browser may lack a font for
_LEADING_STATUS = re.compile(rf"({'|'.join(STATUS_CSS)})(?!\w)(\s*)")  # longest first


def _coloured_cell(match: re.Match[str]) -> str:
    """A cell whose text starts with status words: each word in its colour, emoji dropped."""
    rest, words = _EMOJI.sub("", match.group(1)), []
    while found := _LEADING_STATUS.match(rest):
        word, space = found.groups()
        words.append(f'<span class="{STATUS_CSS[word]}">{word}</span>{space}')
        rest = rest[found.end() :]
    return f"<td>{''.join(words)}{rest}</td>"


def html_table(frame: pd.DataFrame, wrap: bool = False) -> str:
    """The frame as an HTML table in a box it scrolls in when wide; `wrap`: a table of words
    (metadata, paths) whose cells break long words instead, so a phone shows it whole."""
    if frame.empty:
        return "<p><em>none</em></p>"
    classes = "table wrap" if wrap else "table"
    if any(isinstance(value, Markup) for value in frame.to_numpy().ravel()):  # a link made safe
        frame = frame.map(lambda value: value if isinstance(value, Markup) else escape(value))
        table: str = frame.to_html(index=False, escape=False, border=0, classes=classes)
    else:
        table = frame.to_html(index=False, escape=True, border=0, classes=classes)
    table = _CELL.sub(_coloured_cell, table)
    return f'<div class="table-box">{table}</div>'  # a wide table scrolls inside its box


FRAMES: Mapping[str, Callable[[Any], pd.DataFrame]] = {
    "benchmarks": benchmark_frame,
    "stress_tests": benchmark_frame,
    "target_checks": target_frame,
    "evals": eval_frame,
    "spec_tests": spec_test_frame,
}


def escape(text: object) -> str:
    return html.escape(str(text))
