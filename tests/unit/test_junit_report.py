"""junit.xml as a CI's test view reads it: every case and suite has a time, and a passing check
shows what was measured, not only that it passed."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from reports.build import render_run
from tests.run_folders import Measured, eval_task, passing_run, spec_check


@pytest.fixture
def junit(tmp_path: Path) -> ElementTree.Element:
    folder = passing_run(
        tmp_path / "run",
        points=[Measured(completed=8)],  # 8 requests at 1 request/s: an 8 s point
        tasks=[eval_task("readiness_basics", "PASS", 0.55, duration_s=41.5)],
        checks=[spec_check("chat"), spec_check("n_choices", "FAIL", "asked 2 choices, got 1")],
    )
    return ElementTree.parse(render_run(folder).files["junit"]).getroot()


def cases(root: ElementTree.Element) -> dict[str, ElementTree.Element]:
    return {str(case.get("name")): case for case in root.iter("testcase")}


def test_every_case_and_suite_has_its_time(junit: ElementTree.Element) -> None:
    found = cases(junit)
    assert found["evals:readiness_basics"].get("time") == "41.500"
    assert found["spec_tests:chat"].get("time") == "1.000"
    assert found["benchmarks:isl-128_osl-32_conc-1.functional.ttft_ms_check"].get("time") == "8.000"
    assert all(case.get("time") is not None for case in found.values())
    suites = {suite.get("name"): suite.get("time") for suite in junit.iter("testsuite")}
    # a suite takes its workflow's time (a second each in release.json), never its cases' sum:
    # four checks judge the one 8 s benchmark point
    assert suites == {"workflows": "3.000", "evals": "1.000", "benchmarks": "1.000",
                      "spec_tests": "1.000"}  # fmt: skip
    assert junit.get("time") == "3.000"  # the release's three children


def test_a_passing_check_says_what_was_measured(junit: ElementTree.Element) -> None:
    found = cases(junit)
    ttft = found["benchmarks:isl-128_osl-32_conc-1.functional.ttft_ms_check"]
    assert ttft.findtext("system-out") == (
        "TTFT 80.0 ms (95% interval [78.4, 81.6]), target at most 1000 ms (0.08 of it)"
    )
    score = found["evals:readiness_basics"].findtext("system-out")
    measured = "score 0.550 (95% interval [0.370, 0.710]) over 30 samples, reference 0.533"
    assert score == f"readiness_basics pass\n{measured}"
    failed = found["spec_tests:n_choices"]
    assert failed.find("failure") is not None and failed.find("system-out") is None
