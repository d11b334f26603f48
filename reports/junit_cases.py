"""What junit.xml says about each check beside its outcome: how long the thing it judged took
(a workflow, an eval task, a spec test, a benchmark point) and what was measured, so that a
passing check in a CI's test view shows its figure and not only a green mark. Everything comes
from report.json's sections; a benchmark point's time is its completed requests over its
request rate (the load generator's own duration)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.figures import interval_text, metric_text, ratio_text

METRIC_WORDS = {  # target metric: label, unit, lower is better
    "ttft_ms": ("TTFT", "ms", True),
    "tput_user": ("Tput user", "tok/s/user", False),
    "tput": ("Tput", "tok/s", False),
}


@dataclass(frozen=True)
class CaseFacts:
    time_s: float | None  # None: the result files do not say
    measured: str = ""


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _workflows(children: Sequence[Mapping[str, Any]]) -> dict[str, CaseFacts]:
    return {
        f"workflows:{child['workflow']}": CaseFacts(_number(child.get("duration_s")))
        for child in children
    }


def _eval_measured(task: Mapping[str, Any]) -> str:
    if _number(task.get("score")) is None:
        return ""
    interval = interval_text("score", *(task.get("interval_95") or (None, None)))
    reference = metric_text("score", task.get("reference"))
    return (
        f"score {metric_text('score', task['score'])}"
        + (f" (95% interval {interval})" if interval else "")
        + (f" over {task['n_samples']} samples" if task.get("n_samples") else "")
        + (f", reference {reference}" if reference else "")
    )


def _evals(tasks: Sequence[Mapping[str, Any]]) -> dict[str, CaseFacts]:
    return {
        f"evals:{task['task']}": CaseFacts(_number(task.get("duration_s")), _eval_measured(task))
        for task in tasks
    }


def _spec_tests(checks: Sequence[Mapping[str, Any]]) -> dict[str, CaseFacts]:
    return {
        f"spec_tests:{check['name']}": CaseFacts(
            _number(check.get("duration_s")), str(check.get("message") or "")
        )
        for check in checks
    }


def point_key(row: Mapping[str, Any]) -> str:
    return f"isl-{row['isl']}_osl-{row['osl']}_conc-{row['concurrency']}"


def point_seconds(row: Mapping[str, Any]) -> float | None:
    completed, rate = _number(row.get("completed")), _number(row.get("request_throughput"))
    return completed / rate if completed and rate else None


def target_measured(metric: str, check: Mapping[str, Any]) -> str:
    label, unit, lower = METRIC_WORDS[metric]
    if _number(check.get("measured")) is None or _number(check.get("target")) is None:
        return ""
    interval = interval_text(metric, *(check.get("interval") or (None, None)))
    ratio = _number(check.get("ratio"))
    return (
        f"{label} {metric_text(metric, check['measured'])} {unit}"
        + (f" (95% interval {interval})" if interval else "")
        + f", target {'at most' if lower else 'at least'} {metric_text(metric, check['target'])}"
        + f" {unit}"
        + (f" ({ratio_text(ratio)} of it)" if ratio is not None else "")
    )


def _benchmarks(report: Mapping[str, Any]) -> dict[str, CaseFacts]:
    seconds = {point_key(row): point_seconds(row) for row in report["benchmarks"]}
    facts = {
        f"benchmarks:{point_key(row)}.failed_requests": CaseFacts(
            seconds[point_key(row)],
            f"{row.get('failed') or 0} of {row.get('num_prompts')} requests failed",
        )
        for row in report["benchmarks"]
    }
    for point in report["target_checks"]:
        key = point_key(point)
        for tier, result in point["tiers"].items():
            for metric, check in result["checks"].items():
                facts[f"benchmarks:{key}.{tier}.{metric}_check"] = CaseFacts(
                    seconds.get(key), target_measured(metric, check)
                )
    return facts


def case_facts(report: Mapping[str, Any]) -> dict[str, CaseFacts]:
    """Each check's time and measured figure, by the check's key in report.json."""
    return {
        **_workflows(report.get("workflows") or ()),
        **_evals(report["evals"]["tasks"]),
        **_spec_tests(report["spec_tests"]["checks"]),
        **_benchmarks(report),
    }


def _workflow_seconds(report: Mapping[str, Any]) -> dict[str, float]:
    children = report.get("workflows") or ()
    found = {str(child["workflow"]): _number(child.get("duration_s")) for child in children}
    return {name: seconds for name, seconds in found.items() if seconds is not None}


def suite_seconds(report: Mapping[str, Any], category: str, case_seconds: Sequence[float]) -> float:
    """A suite's time: its workflow's (the release's children for `workflows`), else its cases'
    (several checks judge one benchmark point, so their sum would count it again and again)."""
    workflows = _workflow_seconds(report)
    if category == "workflows" and workflows:
        return sum(workflows.values())
    return workflows.get(category, sum(case_seconds))


def run_seconds(report: Mapping[str, Any], suites: Mapping[str, float]) -> float:
    """The whole run's time: its workflows', else the suites'."""
    workflows = _workflow_seconds(report)
    return sum(workflows.values()) if workflows else sum(suites.values())
