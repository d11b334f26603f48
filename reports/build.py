"""Render a run folder's report: report.json (the figures and the verdict), report.md,
report.html, junit.xml and benchmarks.csv, all under `<run>/report/`, from the result files
alone."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.acceptance import judge_run
from reports.compare import baseline_report, compare
from reports.gate import gate
from reports.html_report import render_html
from reports.redaction import redact, redact_data
from reports.render import render_csv, render_junit, render_markdown
from reports.report_document import report_document
from reports.results import write_all_atomic
from reports.run_data import load_run
from reports.trends import trends

REPORT_FOLDER = "report"


@dataclass(frozen=True)
class Rendered:
    report: dict[str, Any]
    files: dict[str, Path]  # what -> where

    @property
    def accepted(self) -> bool:
        return bool(self.report["acceptance_criteria"])

    @property
    def verdict(self) -> str:
        return str(self.report["acceptance"]["verdict"])


def report_of_folder(
    folder: Path,
    compare_to: Path | None = None,
    baseline: Mapping[str, Any] | None = None,
    previous: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The run's report; compared with a previous run (`compare_to`), or with the store's
    baseline (report-shaped), which the regression gate judges too; with the store's previous
    releases (`previous`, their benchmark rows), each target point's trend."""
    run = load_run(folder)
    report = report_document(run, judge_run(run))
    if compare_to is not None:
        report["comparison"] = compare(report, baseline_report(compare_to))
    elif baseline is not None:
        report["comparison"] = compare(report, baseline) | {"gate": gate(report, baseline)}
    if previous is not None:
        report["trends"] = trends(report, previous, len({row["run_id"] for row in previous}))
    return report


def render_run(
    folder: Path,
    compare_to: Path | None = None,
    baseline: Mapping[str, Any] | None = None,
    previous: Sequence[Mapping[str, Any]] | None = None,
) -> Rendered:
    report = redact_data(report_of_folder(folder, compare_to, baseline, previous))
    out = folder / REPORT_FOLDER
    texts = {
        "json": ("report.json", json.dumps(report, indent=2) + "\n"),
        "markdown": ("report.md", render_markdown(report)),
        "html": ("report.html", render_html(report)),
        "junit": ("junit.xml", render_junit(report)),
        "csv": ("benchmarks.csv", render_csv(report)),
    }
    files = {what: out / name for what, (name, _) in texts.items()}
    # all five or none (a full disk): a set half new, half old would disagree with itself
    write_all_atomic({out / name: redact(text) for name, text in texts.values()})
    return Rendered(report, files)
