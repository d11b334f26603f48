"""What a person asks the store: the series of a metric over a (model, device)'s runs, with the
pins and verdict of each, and the last accepted release (the baseline), also in the shape of a
report.json so `--compare-to` lines it up like any previous run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from reports.store import schema

ACCEPTED = "ACCEPTED"


@dataclass(frozen=True)
class Metric:
    column: str  # benchmark_points column (its interval: <column>_ci95_low / _high)
    label: str
    unit: str
    lower_is_better: bool


METRICS = {
    "ttft": Metric("mean_ttft_ms", "TTFT", "ms", True),
    "tpot": Metric("mean_tpot_ms", "TPOT", "ms", True),
    "tput_user": Metric("tput_user", "Tput user", "tok/s/user", False),
    "tput": Metric("output_throughput", "Tput", "tok/s", False),
}
PINS = (
    "spec_version",
    "engine_version",
    "tt_metal_commit",
    "vllm_commit",
    "docker_image",
    "docker_image_id",
    "docker_image_origin",
    "runner_version",
    "runner_git_sha",
)
Point = tuple[int, int, int]


def _same_target(model: str, device: str) -> sa.ColumnElement[bool]:
    runs = schema.runs.c
    return sa.and_(sa.func.lower(runs.model) == model.lower(), runs.device == device.lower())


def history(
    connection: Connection, model: str, device: str, metric: str, point: Point | None = None
) -> list[dict[str, Any]]:
    """Every stored benchmark point of (model, device) over its runs, oldest first: the metric
    with its 95% interval, the run's pins and verdict."""
    runs, points, chosen = schema.runs.c, schema.benchmark_points.c, METRICS[metric]
    columns = (
        *(runs[name] for name in ("run_id", "started_at", "workflow", "verdict", *PINS)),
        *(points[name] for name in ("isl", "osl", "concurrency")),
        points[chosen.column].label("value"),
        points[f"{chosen.column}_ci95_low"].label("ci95_low"),
        points[f"{chosen.column}_ci95_high"].label("ci95_high"),
    )
    query = (
        sa.select(*columns)
        .join(schema.benchmark_points, points.run == runs.id)
        .where(_same_target(model, device), points.kind == "benchmark")
        .order_by(points.isl, points.osl, points.concurrency, runs.started_at, runs.run_id)
    )
    if point is not None:
        query = query.where(
            points.isl == point[0], points.osl == point[1], points.concurrency == point[2]
        )
    return [dict(row._mapping) for row in connection.execute(query)]


def baseline(
    connection: Connection,
    model: str,
    device: str,
    before: str | None = None,
    other_than: str | None = None,
) -> dict[str, Any] | None:
    """The last accepted release of (model, device): started before `before` if given, and
    not the run `other_than` (a run is never its own baseline)."""
    runs = schema.runs.c
    query = (
        sa.select(schema.runs)
        .where(_same_target(model, device), runs.workflow == "release", runs.verdict == ACCEPTED)
        .order_by(runs.started_at.desc(), runs.run_id.desc())
        .limit(1)
    )
    if before is not None:
        query = query.where(runs.started_at <= before)
    if other_than is not None:
        query = query.where(runs.run_id != other_than)
    row = connection.execute(query).first()
    return None if row is None else dict(row._mapping)


def run_as_report(connection: Connection, run: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run in the shape of report.json, as far as `--compare-to` reads one."""
    points = connection.execute(
        sa.select(schema.benchmark_points)
        .where(schema.benchmark_points.c.run == run["id"])
        .where(schema.benchmark_points.c.kind == "benchmark")
    )
    scores = connection.execute(
        sa.select(schema.eval_scores).where(schema.eval_scores.c.run == run["id"])
    )
    return {
        "kind": "release_report",
        "metadata": {
            "report_id": run["run_id"],
            "run_id": run["run_id"],
            "runner_git_sha": run["runner_git_sha"],
            "model_name": run["model"],
            "device": run["device"],
            "docker_image_id": run["docker_image_id"],
            "docker_image_origin": run["docker_image_origin"],
        },
        "acceptance_criteria": bool(run["accepted"]),
        "acceptance": {"verdict": run["verdict"]},
        "benchmarks": [dict(row._mapping) for row in points],
        "evals": {"tasks": [_eval_task(dict(row._mapping)) for row in scores]},
    }


def _eval_task(row: Mapping[str, Any]) -> dict[str, Any]:
    low, high = row["score_ci95_low"], row["score_ci95_high"]
    return {
        "task": row["task"],
        "status": row["status"],
        "score": row["score"],
        "interval_95": [low, high] if low is not None and high is not None else None,
    }


TREND_FIELDS = (
    *(f"mean_ttft_ms{end}" for end in ("", "_ci95_low", "_ci95_high")),
    *(f"tput_user{end}" for end in ("", "_ci95_low", "_ci95_high")),
    *(f"output_throughput{end}" for end in ("", "_ci95_low", "_ci95_high")),
)


def previous_releases(
    connection: Connection, model: str, device: str, before: str | None, other_than: str, n: int
) -> list[dict[str, Any]]:
    """The benchmark points of (model, device)'s last `n` releases before `before` (whatever
    their verdict), oldest first: the trend a report draws beside the run's own figures."""
    runs, points = schema.runs.c, schema.benchmark_points.c
    chosen = (
        sa.select(runs.id)
        .where(_same_target(model, device), runs.workflow == "release", runs.run_id != other_than)
        .order_by(runs.started_at.desc(), runs.run_id.desc())
        .limit(n)
    )
    if before is not None:
        chosen = chosen.where(runs.started_at <= before)
    query = (
        sa.select(
            runs.run_id,
            runs.started_at,
            runs.verdict,
            *(points[name] for name in ("isl", "osl", "concurrency", *TREND_FIELDS)),
        )
        .join(schema.benchmark_points, points.run == runs.id)
        .where(runs.id.in_(chosen.scalar_subquery()), points.kind == "benchmark")
        .order_by(runs.started_at, runs.run_id)
    )
    return [dict(row._mapping) for row in connection.execute(query)]
