"""`--requirements FILE`: a deployment's own targets instead of the registry's.

    schema_version: 1
    name: chat-assistant            # optional, shown in the report
    slo:                            # per request; a request meets the SLOs if it meets each one
      ttft_ms: 2000
      tpot_ms: 100
      e2el_ms: 30000
    goodput:                        # share of requests meeting every SLO, at each sweep point
      min_share: 0.9
      priority: must                # must: a miss blocks the release; should: reported only
      concurrency: [1, 8]           # optional: only the points at these concurrencies
    capacity:                       # optional: the highest load meeting goodput reaches this
      min_concurrency: 8            # or min_rate: 2.5 (requests per second)
      priority: must
    accuracy:                       # per eval task: the score (0 to 1) it must reach, held
                                    # to its 95% interval over the task's samples
      - {task: readiness_basics, min_score: 0.5, priority: must}

A file is checked completely when the run starts; every error names the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from evals.scoring import decide_score, wilson_interval
from reports.capacity_requirement import CapacityError, check_capacity
from reports.run_data import Point
from reports.shapes import ReportError
from reports.targets import mostly_cached, unasked_cache_share

SLO_KEYS = ("ttft_ms", "tpot_ms", "e2el_ms")
PRIORITIES = ("must", "should")
TOP_KEYS = ("schema_version", "name", "slo", "goodput", "capacity", "accuracy")


class RequirementsError(ValueError):
    """A requirements file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Grade:
    """One requirement at one place: met or not, and whether a miss blocks."""

    key: str
    what: str
    where: str
    priority: str
    required: float
    measured: float | None
    met: bool
    detail: str
    interval: tuple[float, float] | None = None  # the share's or score's 95% Wilson interval
    marginal: bool = False  # the interval straddles the requirement: the share or score decided


def load_requirements(path: Path) -> dict[str, Any]:
    """The file, checked, as plain data (saved in the run folder as JSON)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise RequirementsError(
            f"--requirements {path}: cannot read it ({error.strerror})"
        ) from None
    try:
        raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise RequirementsError(f"--requirements {path}: not valid YAML/JSON ({error})") from None
    return check_requirements(raw, str(path))


def check_saved(document: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """A run folder's `requirements.json` (check_requirements' own output, saved), checked
    again by check_requirements when a report is built from it: a file edited or damaged since
    is a ReportError naming the file and the field, never a verdict."""
    raw = dict(document)
    capacity = raw.get("capacity")
    if isinstance(capacity, Mapping) and set(capacity) == {"over", "minimum", "priority"}:
        # saved as check_capacity returns it: back to the file's words, then checked as they are
        raw["capacity"] = {
            f"min_{capacity['over']}": capacity["minimum"],
            "priority": capacity["priority"],
        }
    try:
        return check_requirements(raw, str(path))
    except RequirementsError as error:
        problem = str(error).removeprefix("--requirements ")
        raise ReportError(
            f"{problem} (the run folder's saved requirements; rebuild the report with "
            "--requirements FILE to replace them)"
        ) from None


def _fail(where: str, problem: str) -> RequirementsError:
    return RequirementsError(f"--requirements {where}: {problem}")


def _unknown(value: Mapping[str, Any], known: Sequence[str], where: str) -> None:
    extra = sorted(set(value) - set(known))
    if extra:
        raise _fail(where, f"unknown field {', '.join(extra)}; fields: {', '.join(known)}")


def _number(value: object) -> float:
    """A YAML or JSON number as a float; anything else (text, true/false) as NaN."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    return float(value)


def _positive(value: object, where: str) -> float:
    number = _number(value)
    if not 0 < number < math.inf:
        raise _fail(where, f"expected a positive number (finite, above 0), got {value!r}")
    return number


def _priority(value: Mapping[str, Any], where: str) -> str:
    priority = str(value.get("priority", "must"))
    if priority not in PRIORITIES:
        raise _fail(f"{where}.priority", f"'{priority}' is not must or should")
    return priority


def check_requirements(raw: object, where: str) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise _fail(where, "expected a mapping with slo, goodput and accuracy")
    _unknown(raw, TOP_KEYS, where)
    if raw.get("schema_version", 1) != 1:
        raise _fail(f"{where}: schema_version", f"{raw['schema_version']!r}; this runner reads 1")
    checked: dict[str, Any] = {"schema_version": 1, "name": str(raw.get("name") or where)}
    checked["slo"] = _slo(raw.get("slo") or {}, f"{where}: slo")
    checked["goodput"] = _goodput(raw.get("goodput"), checked["slo"], f"{where}: goodput")
    try:
        checked["capacity"] = check_capacity(raw.get("capacity"), checked["goodput"])
    except CapacityError as error:
        raise _fail(f"{where}: capacity", str(error)) from None
    checked["accuracy"] = _accuracy(raw.get("accuracy") or [], f"{where}: accuracy")
    if checked["goodput"] is None and not checked["accuracy"]:
        raise _fail(where, "states no target: give goodput (with slo) or accuracy")
    if "must" not in _priorities(checked):
        raise _fail(
            where,
            "no item is `priority: must`, so it could never fail a release; mark at least one "
            "item (goodput, capacity or an accuracy task) `priority: must`",
        )
    return checked


def _priorities(checked: Mapping[str, Any]) -> list[str]:
    items = [checked["goodput"], checked["capacity"], *checked["accuracy"]]
    return [item["priority"] for item in items if item]


def _slo(raw: object, where: str) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise _fail(where, f"expected a mapping of {', '.join(SLO_KEYS)}")
    _unknown(raw, SLO_KEYS, where)
    return {key: _positive(value, f"{where}.{key}") for key, value in raw.items()}


def _goodput(raw: object, slo: Mapping[str, float], where: str) -> dict[str, Any] | None:
    if raw is None:
        if slo:
            raise _fail(where, "slo is given but goodput is not: add goodput.min_share")
        return None
    if not isinstance(raw, Mapping):
        raise _fail(where, "expected a mapping with min_share and priority")
    _unknown(raw, ("min_share", "priority", "concurrency"), where)
    if not slo:
        raise _fail(where, "needs slo: the per-request limits it counts against")
    share = _positive(raw.get("min_share"), f"{where}.min_share")
    if share > 1:
        raise _fail(f"{where}.min_share", f"{share} is a share from 0 to 1 (0.9: 90%)")
    levels = raw.get("concurrency")
    if levels is not None and not (
        isinstance(levels, list) and levels and all(isinstance(c, int) and c > 0 for c in levels)
    ):
        raise _fail(f"{where}.concurrency", f"expected a list of concurrencies, got {levels!r}")
    return {"min_share": share, "priority": _priority(raw, where), "concurrency": levels}


def _accuracy(raw: object, where: str) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise _fail(where, "expected a list of {task, min_score, priority}")
    targets = []
    for index, item in enumerate(raw):
        place = f"{where}[{index}]"
        if not isinstance(item, Mapping) or not item.get("task"):
            raise _fail(place, "expected {task: NAME, min_score: NUMBER, priority: must|should}")
        _unknown(item, ("task", "min_score", "priority"), place)
        score = item.get("min_score")
        if not 0 <= _number(score) <= 1:
            raise _fail(
                f"{place}.min_score", f"expected a score from 0 to 1 (finite), got {score!r}"
            )
        targets.append(
            {
                "task": str(item["task"]),
                "min_score": _number(score),
                "priority": _priority(item, place),
            }
        )
    return targets


def meets_slo(row: Mapping[str, Any], slo: Mapping[str, float]) -> bool:
    """A request that succeeded within every limit; a metric it has no value for (TPOT of a
    one-token answer) does not count against it."""
    if not row.get("success"):
        return False
    for key, limit in slo.items():
        value = row.get(key)
        if isinstance(value, (int, float)) and value > limit:
            return False
    return True


def grade_goodput(requirements: Mapping[str, Any], points: Sequence[Point]) -> list[Grade]:
    goodput = requirements.get("goodput")
    if not goodput:
        return []
    slo = requirements["slo"]
    levels = goodput.get("concurrency")
    limits = ", ".join(
        f"{key.removesuffix('_ms').upper()} <= {value:g} ms" for key, value in slo.items()
    )
    grades = []
    for point in points:
        if levels and point.concurrency not in levels:
            continue
        isl, osl, concurrency = point.key
        where = f"ISL {isl} OSL {osl} concurrency {concurrency}{point.rate_label}"
        rows = [row for row in point.request_rows() if not row.get("trimmed")]
        good = sum(meets_slo(row, slo) for row in rows)
        share = good / len(rows) if rows else None
        interval = wilson_interval(share, len(rows)) if share is not None else None
        met, marginal = _share_decision(share, interval, goodput["min_share"])
        cached = unasked_cache_share(point.document)
        detail = (
            f"{good} of {len(rows)} requests met the SLOs ({share:.0%}, 95% interval "
            f"[{interval[0]:.0%}, {interval[1]:.0%}]), needs {goodput['min_share']:.0%}"
            + (
                f"; MARGINAL {'PASS' if met else 'FAIL'}: the interval straddles it, the share "
                "decided"
                if marginal
                else ""
            )
            if share is not None and interval is not None
            else "no request rows were recorded for this point"
        )
        if mostly_cached(cached):
            detail += (
                f"; not judged: {cached:.0%} of its prompt tokens came from a prompt cache "
                "the run did not ask for"
            )
        grades.append(
            Grade(
                key=f"goodput:isl-{isl}_osl-{osl}_conc-{concurrency}{point.rate_tag}",
                what=f"goodput ({limits})",
                where=where,
                priority=goodput["priority"],
                required=goodput["min_share"],
                measured=share,
                met=met and not mostly_cached(cached),
                detail=detail,
                interval=interval,
                marginal=marginal and not mostly_cached(cached),
            )
        )
    if levels and not grades:
        grades.append(_unmeasured_goodput(goodput, levels, limits))
    return grades


def _share_decision(
    share: float | None, interval: tuple[float, float] | None, needed: float
) -> tuple[bool, bool]:
    """(met, marginal): met when the Wilson interval lies at or above the share needed, missed
    when below it; across it, the measured share decides and the grade is marginal."""
    if share is None or interval is None:
        return False, False
    return decide_score(share, interval, needed)


def _unmeasured_goodput(goodput: Mapping[str, Any], levels: Sequence[int], limits: str) -> Grade:
    where = f"concurrency {', '.join(map(str, levels))}"
    return Grade(
        key="goodput:not-measured",
        what=f"goodput ({limits})",
        where=where,
        priority=goodput["priority"],
        required=goodput["min_share"],
        measured=None,
        met=False,
        detail=f"no benchmark point was measured at {where}",
    )


def grade_accuracy(
    requirements: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]
) -> list[Grade]:
    """Each accuracy target against its task's score, judged as the registry's evals are: by the
    score's 95% Wilson interval over its samples (evals.scoring). A score that is not a
    fraction from 0 to 1, or has no sample count, is not judged: it never meets a target."""
    by_name = {str(task.get("task")): task for task in tasks}
    grades = []
    for target in requirements.get("accuracy") or ():
        task = by_name.get(target["task"])
        needed = target["min_score"]
        measured, interval, met, marginal = None, None, False, False
        if task is None:
            detail = "the task was not run"
        elif task.get("score") is None:
            detail = f"no score (status {task.get('status')})"
        elif (unjudged := _unjudged_score(task)) is not None:
            detail = f"not judged: {unjudged}"
        else:
            measured, n = float(task["score"]), int(task["n_samples"])
            interval = wilson_interval(measured, n)
            met, marginal = decide_score(measured, interval, needed)
            detail = f"score {measured:.4g} over {n} samples, needs {needed:.4g}: " + (
                f"MARGINAL {'PASS' if met else 'FAIL'}: its 95% interval "
                f"[{interval[0]:.4f}, {interval[1]:.4f}] straddles {needed:.4g}; decided by the "
                f"score, {'at or above' if met else 'below'} it"
                if marginal
                else f"its 95% interval [{interval[0]:.4f}, {interval[1]:.4f}] lies "
                f"{'at or above' if met else 'below'} it"
            )
        grades.append(
            Grade(
                key=f"accuracy:{target['task']}",
                what=f"accuracy of {target['task']}",
                where=target["task"],
                priority=target["priority"],
                required=needed,
                measured=measured,
                met=met,
                detail=detail,
                interval=interval,
                marginal=marginal,
            )
        )
    return grades


def _unjudged_score(task: Mapping[str, Any]) -> str | None:
    """Why a task's score cannot be held to a target, or None when it can."""
    score, n = task.get("score"), task.get("n_samples")
    if not 0 <= _number(score) <= 1:
        return f"score {score!r} is not a fraction from 0 to 1"
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        return f"no sample count (n_samples {n!r}): a score without one has no interval"
    return None


def grade_capacity(
    requirements: Mapping[str, Any], capacities: Sequence[Mapping[str, Any]]
) -> list[Grade]:
    """Per (ISL, OSL) searched: the capacity found against the minimum; none searched: missing."""
    capacity = requirements.get("capacity")
    if not capacity:
        return []
    over, minimum = capacity["over"], capacity["minimum"]
    unit = "" if over == "concurrency" else " req/s"
    what = f"capacity ({over} meeting goodput, at least {minimum:g}{unit})"
    if not capacities:
        detail = "no search for the capacity ran (benchmarks/capacity_*.json)"
        return [Grade("capacity:not-measured", what, "", capacity["priority"], minimum, None,
                      False, detail)]  # fmt: skip
    return [
        _capacity_grade(found, what, minimum, unit, capacity["priority"]) for found in capacities
    ]


def _capacity_grade(
    found: Mapping[str, Any], what: str, minimum: float, unit: str, priority: str
) -> Grade:
    load, (met_at, missed_at) = found.get("found"), found.get("bracket") or (None, None)
    where = f"ISL {found['isl']} OSL {found['osl']}"
    tried = ", ".join(f"{t['load']:g}" for t in found.get("tried") or ())
    bracket = f"met at {met_at:g}" if met_at is not None else "met at no load tried"
    bracket += f", missed at {missed_at:g}" if missed_at is not None else ", missed at none tried"
    return Grade(
        key=f"capacity:isl-{found['isl']}_osl-{found['osl']}",
        what=what,
        where=where,
        priority=priority,
        required=minimum,
        measured=load,
        met=load is not None and load >= minimum,
        detail=f"{_found_text(load, unit)} at {where} ({bracket}{unit}; tried {tried}); "
        f"needs {minimum:g}{unit}",
    )


def _found_text(load: float | None, unit: str) -> str:
    return "none found" if load is None else f"found {load:g}{unit}"
