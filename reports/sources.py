"""Where a report's figures come from: every row of report.json that holds figures names the
result file it was read from (`result_file`, a path in the run folder), and the markdown and
HTML reports end with a table of those files, each a link, so a person can open the file behind
any value."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import pandas as pd
from markupsafe import Markup

from reports.escaping import markdown_text

HEADING = (
    "The result file behind each figure of this report, as a path in the run folder. A "
    "benchmark point's request rows are in the _requests.jsonl file beside it; an eval "
    "task's own lm-eval output is listed with it."
)
RUN_FILES = (  # section, what it holds, file
    ("Metadata", "the model spec and the command of the run", "runtime_spec.json"),
)


def _point(row: Mapping[str, Any]) -> str:
    label = f"ISL {row.get('isl')} OSL {row.get('osl')} C {row.get('concurrency')}"
    rate = row.get("request_rate")
    if rate not in (None, "inf"):
        label += " ramp" if rate == "ramp" else f" rate {rate}/s"
    return label + (f" window {row['window']}" if row.get("window") else "")


def _benchmark_sources(report: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    for section, key in (("Benchmarks", "benchmarks"), ("Stress tests", "stress_tests")):
        for row in report.get(key) or ():
            if row.get("result_file"):
                yield section, _point(row), row["result_file"]
    for row in report.get("target_checks") or ():
        if row.get("result_file"):
            yield "Performance targets", _point(row) + " (measured)", row["result_file"]
    for row in report.get("capacity") or ():
        if row.get("result_file"):
            over = row.get("search_over") or "load"
            yield (
                "Capacity",
                f"ISL {row.get('isl')} OSL {row.get('osl')} over {over}",
                row["result_file"],
            )


def _eval_sources(report: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    for task in (report.get("evals") or {}).get("tasks") or ():
        name = str(task.get("task"))
        if task.get("result_file"):
            yield "Evals", f"{name}: score and verdict", task["result_file"]
        files = task.get("files") or {}
        if files.get("results"):
            yield "Evals", f"{name}: lm-eval's results", files["results"]
        for samples in files.get("samples") or ():
            yield "Evals", f"{name}: lm-eval's samples", samples


def _other_sources(report: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    checks = (report.get("spec_tests") or {}).get("checks") or ()
    files = sorted({check["result_file"] for check in checks if check.get("result_file")})
    for path in files:
        yield "Spec tests", f"{len(checks)} checks", path
    if report.get("workflows"):
        yield "Verdict", "the release's steps, their exit codes and times", "release.json"
    if (report.get("acceptance") or {}).get("requirements"):
        yield "Verdict", "the requirements file the run was judged by", "requirements.json"
    yield from RUN_FILES


def source_rows(report: Mapping[str, Any]) -> list[dict[str, str]]:
    """Each file a figure of the report was read from: its section, what it holds, its path."""
    found = [*_benchmark_sources(report), *_eval_sources(report), *_other_sources(report)]
    return [{"section": s, "figures": f, "file": path} for s, f, path in found]


def file_link(path: str, markdown: bool) -> Markup:
    """A link from the report's folder (<run>/report/) to a file of the run folder."""
    href = "../" + quote(path)
    if markdown:
        return Markup(f"[{markdown_text(path)}]({href})")
    return Markup('<a href="{}">{}</a>').format(href, path)


def sources_frame(rows: list[dict[str, str]], markdown: bool) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Section": row["section"],
                "Figures": row["figures"],
                "File": file_link(row["file"], markdown),
            }
            for row in rows
        ]
    )
