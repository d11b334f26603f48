"""One figure, one way of writing it, in every part of a report: ratios that never contradict
their verdict, significant figures chosen per metric, headers and rows that say a thing once,
a comparison that keeps every eval, metadata traced to the result files, and a catalogue whose
words and links read right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reports.build import render_run
from reports.figures import ratio_text, significant
from reports.merge import render_catalogue
from tests.run_folders import Measured, RunSpec, eval_task, make_run, passing_run, spec_check

JUST_MISSED = {"isl": 128, "osl": 32, "concurrency": 1, "ttft_ms": 100.0}


def rewrite_runtime(folder: Path, **changes: Any) -> None:
    path = folder / "runtime_spec.json"
    runtime = json.loads(path.read_text())
    config = runtime["run_config"] | changes.pop("run_config", {})
    path.write_text(json.dumps(runtime | changes | {"run_config": config}))


@pytest.mark.parametrize(
    ("ratio", "percent", "text"),
    [
        (0.996, False, "0.996"),
        (1.004, False, "1.004"),
        (0.99996, False, "0.99996"),
        (1.0, False, "1.00"),
        (0.5, False, "0.50"),
        (0.996, True, "99.6%"),
        (1.5, True, "150%"),
    ],
)
def test_a_ratio_never_rounds_to_one_unless_it_is(ratio: float, percent: bool, text: str) -> None:
    assert ratio_text(ratio, percent) == text


def test_a_fail_just_beyond_its_target_shows_how_far(tmp_path: Path) -> None:
    spec = RunSpec(perf_reference=[JUST_MISSED], perf_tiers={"functional": 1.0})
    folder = make_run(tmp_path / "run", spec, [Measured(ttft_ms=100.4, spread=0.001)], [], [])
    rendered = render_run(folder)
    text = rendered.files["markdown"].read_text()
    assert "FAIL ⛔ (1.004)" in text and "(1.00)" not in text
    [blocker] = [b for b in rendered.report["acceptance"]["blockers"] if "ttft" in b["key"]]
    assert blocker["message"].endswith("needs at most 100 ms (100.4% of it)")


@pytest.mark.parametrize(
    ("value", "text"),
    [(2275.2, "2275"), (877.4, "877"), (80.68, "80.7"), (81.1, "81.1"), (14.6, "14.6"),
     (0.7512, "0.751"), (9.996, "10.0"), (0.0, "0")],
)  # fmt: skip
def test_latency_and_throughput_keep_three_significant_figures(value: float, text: str) -> None:
    assert significant(value) == text


def test_category_counts_are_headed_in_words(tmp_path: Path) -> None:
    text = render_run(passing_run(tmp_path / "run")).files["markdown"].read_text()
    assert "| Failed | N/A | Skipped |" in text and "| Na |" not in text


def test_a_blocker_row_names_its_task_once(tmp_path: Path) -> None:
    folder = passing_run(
        tmp_path / "run",
        tasks=[eval_task("readiness_basics", "FAIL", 0.2, reason="FAIL: 0.2000 is below 0.5067")],
        checks=[spec_check("n_choices", "FAIL", "asked 2 choices, got 1")],
    )
    text = render_run(folder).files["markdown"].read_text()
    rows = [line for line in text.splitlines() if line.startswith("| evals:readiness_basics")]
    assert rows and all(row.count("readiness_basics") == 1 for row in rows), rows
    assert "| spec_tests:n_choices | asked 2 choices, got 1 |" in text  # no Where column


def test_a_comparison_writes_each_metric_one_way_and_the_verdict_in_words(tmp_path: Path) -> None:
    before = passing_run(tmp_path / "before", points=[Measured(ttft_ms=81.1)])
    render_run(before)
    failing = [Measured(ttft_ms=80.68, completed=4, failed=4)]
    now = render_run(passing_run(tmp_path / "now", points=failing), before)
    text = now.files["markdown"].read_text()
    assert "| verdict | accepted | ACCEPTED | NOT ACCEPTED |" in text
    assert "| TTFT (ms) | 81.1 | 80.7 |" in text
    assert "True" not in text and "False" not in text


def test_an_eval_that_did_not_run_again_is_in_the_comparison(tmp_path: Path) -> None:
    failed = passing_run(tmp_path / "before", tasks=[eval_task("chat_basics", "FAIL", 0.2)])
    now = render_run(passing_run(tmp_path / "now", tasks=[]), failed).report
    rows = {(r["what"], r["metric"]): r for r in now["comparison"]["rows"]}
    gone = rows[("chat_basics", "status")]
    assert (gone["before"], gone["now"], gone["regression"]) == ("FAIL", "not run", False)
    passed = passing_run(tmp_path / "passed", tasks=[eval_task("chat_basics", "PASS")])
    again = render_run(passing_run(tmp_path / "again", tasks=[]), passed).report
    assert again["comparison"]["regressions"] >= 1  # a pass that did not run again


def test_the_eval_limit_comes_from_the_evals_when_the_command_gave_none(tmp_path: Path) -> None:
    folder = passing_run(tmp_path / "run")
    rewrite_runtime(folder, run_config={"limit_samples_mode": None})
    report = render_run(folder).report
    assert report["metadata"]["limit_samples_mode"] == "smoke"  # as evals.json's tasks say


@pytest.mark.parametrize(
    ("mode", "shown"), [("external", False), ("local", False), ("docker", True)]
)
def test_the_docker_image_is_shown_only_when_the_server_ran_in_it(
    tmp_path: Path, mode: str, shown: bool
) -> None:
    folder = passing_run(tmp_path / "run")
    rewrite_runtime(folder, server_mode=mode)
    text = render_run(folder).files["markdown"].read_text()
    assert ("| Docker image |" in text) is shown


def test_the_run_command_is_code_in_markdown_and_plain_in_html(tmp_path: Path) -> None:
    rendered = render_run(passing_run(tmp_path / "run"))
    assert "| Command | `python3 run.py" in rendered.files["markdown"].read_text()
    assert "<td>`python3" not in rendered.files["html"].read_text()


def test_the_catalogue_reads_right(tmp_path: Path) -> None:
    rejected = passing_run(tmp_path / "a", tasks=None, checks=[spec_check("chat", "FAIL")])
    report = render_run(rejected).files["json"]
    catalogue = render_catalogue([report], tmp_path / "out")
    markdown = catalogue.files["markdown"].read_text()
    page = catalogue.files["html"].read_text()
    assert "1 run: 0 accepted, 1 not accepted" in markdown and "1 runs" not in page
    assert '<span class="fail">NOT ACCEPTED</span>' in page
    assert "| not run |" in markdown  # evals did not run: said, not a blank cell
    href = "../a/report/report.html"
    assert f'<a href="{href}">2026-12-01_10-00-00_TinyModel_cpu_release_0000abcd</a>' in page
    assert f"_0000abcd]({href})" in markdown
    assert (catalogue.files["html"].parent / href).resolve() == report.with_name("report.html")
