"""`--compare-to`: a previous run's figures beside this run's, with the change, and the changes
for the worse beyond a threshold listed as regressions (branch against main, say)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reports import capacity_view, shapes
from reports.report_document import rows_by_key
from reports.run_data import ReportError, read_json

REGRESSION_THRESHOLD = 0.10  # a change for the worse above 10% is a regression
BENCHMARK_METRICS = (  # field, label, lower is better
    ("mean_ttft_ms", "TTFT (ms)", True),
    ("mean_tpot_ms", "TPOT (ms)", True),
    ("tput_user", "Tput user (tok/s)", False),
    ("output_throughput", "Tput output (tok/s)", False),
)


def baseline_report(path: Path) -> dict[str, Any]:
    """A report.json, or the report of a run folder (rendered now if the folder has none)."""
    if path.is_file():
        report = read_json(path)
    elif (path / "report" / "report.json").is_file():
        report = read_json(path / "report" / "report.json")
    elif path.is_dir():
        from reports.build import report_of_folder  # the baseline renders like any run

        report = report_of_folder(path)
    else:
        raise ReportError(f"--compare-to {path}: no such run folder or report.json")
    if report.get("kind") != "release_report":
        raise ReportError(f"--compare-to {path}: not a report.json (kind {report.get('kind')!r})")
    shapes.check_report(report, path)
    return report


def _row(
    what: str,
    metric: str,
    before: Any,
    now: Any,
    lower_better: bool,
    threshold: float,
    field: str = "",
) -> dict[str, Any]:
    change = None
    regression = False
    if isinstance(before, (int, float)) and isinstance(now, (int, float)) and before:
        change = (now - before) / abs(before)
        worse = change if lower_better else -change
        regression = worse > threshold
    return {
        "what": what,
        "metric": metric,
        "field": field,  # how the figures are written: reports.figures.METRIC_FORMATS
        "before": before,
        "now": now,
        "change": change,
        "regression": regression,
    }


def _tasks(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {str(task["task"]): task for task in (report.get("evals") or {}).get("tasks", [])}


def eval_rows(
    report: Mapping[str, Any], baseline: Mapping[str, Any], threshold: float
) -> list[dict[str, Any]]:
    """Each eval in either run: its status where it changed (a task that ran before and not
    now is there, 'not run'; one that passed and no longer does is a regression), and its
    score where both runs have one."""
    rows = []
    before, now = _tasks(baseline), _tasks(report)
    for name in [*now, *(task for task in before if task not in now)]:
        old, new = before.get(name) or {}, now.get(name) or {}
        was, status = old.get("status") or "not run", new.get("status") or "not run"
        if was != status:
            row = _row(name, "status", was, status, False, threshold, "status")
            row["regression"] = was == "PASS"
            rows.append(row)
        if old.get("score") is not None and new.get("score") is not None:
            rows.append(_row(name, "score", old["score"], new["score"], False, threshold, "score"))
    return rows


def capacity_comparison(
    report: Mapping[str, Any], baseline: Mapping[str, Any], threshold: float
) -> list[dict[str, Any]]:
    """The load each capacity search found, before and now; a capacity that fell beyond the
    threshold, or that no load tried meets any more, is a regression."""
    rows = []
    for what, metric, field, before, now in capacity_view.comparison_rows(report, baseline):
        row = _row(what, metric, before, now, False, threshold, field)
        row["regression"] = row["regression"] or (before is not None and now is None)
        rows.append(row)
    return rows


def image_note(report: Mapping[str, Any], baseline: Mapping[str, Any]) -> str | None:
    """A sentence when the baseline's container ran another image than this run's: figures
    of two images are compared (a rebuild, another engine pin)."""
    from reports.image_words import image_difference

    def ran(document: Mapping[str, Any]) -> tuple[object, object]:
        meta = document.get("metadata") or {}
        return meta.get("docker_image_id"), meta.get("docker_image_origin")

    return image_difference(ran(baseline), ran(report))


def compare(
    report: Mapping[str, Any], baseline: Mapping[str, Any], threshold: float = REGRESSION_THRESHOLD
) -> dict[str, Any]:
    rows = [
        _row(
            "verdict", "accepted", baseline.get("acceptance_criteria"),
            report.get("acceptance_criteria"), False, threshold, "accepted",
        )
    ]  # fmt: skip
    rows[0]["change"] = None  # a verdict turned from accepted to not is the regression
    rows[0]["regression"] = bool(baseline.get("acceptance_criteria")) and not report.get(
        "acceptance_criteria"
    )
    before = rows_by_key(baseline.get("benchmarks") or [])
    for key, now_row in rows_by_key(report.get("benchmarks") or []).items():
        old = before.get(key)
        if old is None:
            continue
        what = f"ISL {key[0]} OSL {key[1]} concurrency {key[2]}"
        for field, label, lower in BENCHMARK_METRICS:
            rows.append(
                _row(what, label, old.get(field), now_row.get(field), lower, threshold, field)
            )
    rows += capacity_comparison(report, baseline, threshold)
    rows += eval_rows(report, baseline, threshold)
    meta = baseline.get("metadata") or {}
    return {
        "baseline": meta.get("report_id") or "previous run",
        "baseline_runner_git_sha": meta.get("runner_git_sha"),
        "image_note": image_note(report, baseline),
        "threshold": threshold,
        "regressions": sum(bool(row["regression"]) for row in rows),
        "rows": rows,
    }
