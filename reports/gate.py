"""The regression gate of `--compare-to baseline`: a figure is a regression when its 95%
interval lies wholly on the worse side of the baseline's (the two runs' spreads do not overlap),
so noise between two releases never trips it. A figure without an interval in either run is not
judged, and said so. Reads only report-shaped mappings: no database here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from reports.report_document import rows_by_key

GATED = (  # report row field (its interval: <field>_ci95_low/_high), label, unit, lower is better
    ("mean_ttft_ms", "TTFT", "ms", True),
    ("tput_user", "Tput user", "tok/s/user", False),
    ("output_throughput", "Tput", "tok/s", False),
)
Interval = tuple[float, float]


@dataclass(frozen=True)
class Regression:
    what: str  # the point or the eval task
    metric: str
    unit: str
    baseline: float
    baseline_interval: Interval
    now: float
    now_interval: Interval

    def message(self) -> str:
        def figure(value: float, bounds: Interval) -> str:
            return f"{value:.4g} {self.unit} [{bounds[0]:.4g}, {bounds[1]:.4g}]"

        return (
            f"{self.what}, {self.metric}: {figure(self.baseline, self.baseline_interval)} -> "
            f"{figure(self.now, self.now_interval)}"
        )


def worse_beyond(now: Interval, before: Interval, lower_is_better: bool) -> bool:
    """The whole of `now` on the worse side of the whole of `before`."""
    return now[0] > before[1] if lower_is_better else now[1] < before[0]


def _interval(row: Mapping[str, Any], field: str) -> Interval | None:
    low, high = row.get(f"{field}_ci95_low"), row.get(f"{field}_ci95_high")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        return (float(low), float(high))
    return None


def _point_regressions(
    report: Mapping[str, Any], baseline: Mapping[str, Any]
) -> tuple[list[Regression], int]:
    found, unjudged = [], 0
    before = rows_by_key(baseline.get("benchmarks") or [])
    for key, row in rows_by_key(report.get("benchmarks") or []).items():
        old = before.get(key)
        if old is None:
            continue
        what = f"ISL {key[0]} OSL {key[1]} concurrency {key[2]}"
        for field, label, unit, lower in GATED:
            now_bounds, old_bounds = _interval(row, field), _interval(old, field)
            if now_bounds is None or old_bounds is None or row.get(field) is None:
                unjudged += 1
            elif worse_beyond(now_bounds, old_bounds, lower):
                found.append(
                    Regression(what, label, unit, old[field], old_bounds, row[field], now_bounds)
                )
    return found, unjudged


def _score_interval(task: Mapping[str, Any]) -> Interval | None:
    bounds = task.get("interval_95")
    if isinstance(bounds, (list, tuple)) and len(bounds) == 2 and None not in bounds:
        return (float(bounds[0]), float(bounds[1]))
    return None


def _eval_regressions(
    report: Mapping[str, Any], baseline: Mapping[str, Any]
) -> tuple[list[Regression], int]:
    found, unjudged = [], 0
    before = {task["task"]: task for task in (baseline.get("evals") or {}).get("tasks", [])}
    for task in (report.get("evals") or {}).get("tasks", []):
        old = before.get(task["task"])
        if old is None:
            continue
        now_bounds, old_bounds = _score_interval(task), _score_interval(old)
        if now_bounds is None or old_bounds is None:
            unjudged += 1
        elif worse_beyond(now_bounds, old_bounds, lower_is_better=False):
            found.append(
                Regression(
                    task["task"], "score", "", old["score"], old_bounds, task["score"], now_bounds
                )
            )
    return found, unjudged


def gate(report: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """The gate's finding: the regressions (each point and figure) and how many figures had no
    interval to judge by."""
    points, points_unjudged = _point_regressions(report, baseline)
    scores, scores_unjudged = _eval_regressions(report, baseline)
    regressions = points + scores
    return {
        "baseline": (baseline.get("metadata") or {}).get("run_id"),
        "rule": "worse when the 95% interval lies wholly beyond the baseline's",
        "regressions": [asdict(item) | {"message": item.message()} for item in regressions],
        "unjudged": points_unjudged + scores_unjudged,
    }
