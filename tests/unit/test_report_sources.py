"""Every figure of a report can be traced to the result file it was read from: report.json's
rows name their file, the file holds the same figures, and the markdown and HTML reports link to
files that exist (issue 22, item 7)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from reports.build import render_run
from reports.report_document import BENCHMARK_COLUMNS
from reports.targets import measured_figures
from tests.run_folders import Measured, eval_task, passing_run

POINTS = (Measured(concurrency=1), Measured(concurrency=4, ttft_ms=120.0, output_throughput=150.0))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("run") / "run"
    passing_run(
        folder,
        points=POINTS,
        stress=(Measured(concurrency=2),),
        tasks=[eval_task("readiness_basics", "PASS", score=0.61)],
    )
    return folder, render_run(folder).report


def _document(folder: Path, row: dict[str, Any]) -> dict[str, Any]:
    path = folder / row["result_file"]
    assert path.is_file(), f"{row['result_file']} is named by the report but does not exist"
    return json.loads(path.read_text())  # type: ignore[no-any-return]


@pytest.mark.parametrize("section", ["benchmarks", "stress_tests"])
def test_every_point_figure_is_the_one_its_result_file_holds(
    rendered: tuple[Path, dict[str, Any]], section: str
) -> None:
    folder, report = rendered
    assert report[section], f"the run has {section} rows"
    for row in report[section]:
        document = _document(folder, row)
        for column, field in BENCHMARK_COLUMNS:
            assert row[column] == document.get(field), (row["result_file"], column)


def test_a_target_check_names_the_point_it_judged(rendered: tuple[Path, dict[str, Any]]) -> None:
    folder, report = rendered
    for check in report["target_checks"]:
        document = _document(folder, check)
        assert document["concurrency"] == check["concurrency"]
        assert check["measured"] == pytest.approx(measured_figures(document))


def test_eval_and_spec_test_rows_name_their_files(rendered: tuple[Path, dict[str, Any]]) -> None:
    folder, report = rendered
    for task in report["evals"]["tasks"]:
        held = {t["task"]: t for t in _document(folder, task)["tasks"]}
        assert task["score"] == held[task["task"]]["score"] == 0.61
    for check in report["spec_tests"]["checks"]:
        held = {c["name"]: c for c in _document(folder, check)["checks"]}
        assert check["status"] == held[check["name"]]["status"]
    for row in report["server_telemetry"]:
        assert _document(folder, row)["concurrency"] == row["concurrency"]


def _links(text: str, pattern: str) -> list[str]:
    return [unquote(href) for href in re.findall(pattern, text)]


@pytest.mark.parametrize(
    ("name", "pattern"),
    [("report.md", r"\]\((\.\./[^)]+)\)"), ("report.html", r'<a href="(\.\./[^"]+)"')],
)
def test_the_result_files_section_links_to_files_that_exist(
    rendered: tuple[Path, dict[str, Any]], name: str, pattern: str
) -> None:
    folder, _ = rendered
    text = (folder / "report" / name).read_text()
    assert "Result Files" in text
    links = _links(text, pattern)
    named = {path.relative_to(folder).as_posix() for path in folder.rglob("*.json")}
    linked = {str((folder / "report" / link).resolve().relative_to(folder)) for link in links}
    point_files = {p for p in named if p.startswith(("benchmarks/", "stress_tests/"))}
    assert point_files <= linked, "every point's result file is listed"
    assert {"evals/evals.json", "spec_tests/spec_tests.json", "runtime_spec.json"} <= linked
    assert all((folder / "report" / link).is_file() for link in links)
