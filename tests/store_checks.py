"""What a results store holds of a run, checked against the run's own report.json: every
benchmark figure with its interval, every eval score, spec check and verdict check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from reports.store import schema
from reports.store.run_record import POINT_FIELDS


def stored_rows(url: str, table: sa.Table) -> list[dict[str, Any]]:
    engine = sa.create_engine(url.replace("postgresql:", "postgresql+psycopg:", 1))
    with engine.connect() as connection:
        found = [dict(row._mapping) for row in connection.execute(sa.select(table))]
    engine.dispose()
    return found


def assert_stored_as_reported(url: str, folder: Path) -> None:
    report = json.loads((folder / "report" / "report.json").read_text())
    (run,) = [r for r in stored_rows(url, schema.runs) if r["run_id"] == folder.name]
    assert run["verdict"] == report["acceptance"]["verdict"]
    assert run["runner_git_sha"] == report["metadata"]["runner_git_sha"]
    assert run["engine_version"] == report["metadata"]["engine_version"]
    for name in ("docker_image", "docker_image_id", "docker_image_origin"):
        assert run[name] == report["metadata"].get(name), name
    mine = {
        table.name: [row for row in stored_rows(url, table) if row["run"] == run["id"]]
        for table in (schema.benchmark_points, schema.eval_scores, schema.spec_checks)
    }
    points = [p for p in mine["benchmark_points"] if p["kind"] == "benchmark"]
    assert len(points) == len(report["benchmarks"])
    for row, point in zip(report["benchmarks"], points, strict=True):
        for name in POINT_FIELDS:
            if isinstance(row.get(name), float):
                assert point[name] == pytest.approx(row[name], rel=1e-12), name
            else:
                assert point[name] == row.get(name), name
    scores = {task["task"]: task for task in mine["eval_scores"]}
    for task in report["evals"]["tasks"]:
        assert scores[task["task"]]["score"] == task["score"]
        assert scores[task["task"]]["status"] == task["status"]
    checks = {check["name"]: check["status"] for check in mine["spec_checks"]}
    assert checks == {check["name"]: check["status"] for check in report["spec_tests"]["checks"]}
    verdict_checks = [r for r in stored_rows(url, schema.verdict_checks) if r["run"] == run["id"]]
    assert len(verdict_checks) == len(report["acceptance"]["checks"])
