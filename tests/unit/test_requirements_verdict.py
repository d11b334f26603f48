"""A requirements file never turns a run ACCEPTED by what it leaves out: one without a `must`
item is refused, the evals it does not grade are judged as the registry says, the saved copy in
a run folder is checked as --requirements is, and an accuracy score is judged with its interval
(audit holes H6-H8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reports.acceptance import Acceptance, judge_run
from reports.requirements import RequirementsError, check_requirements
from reports.run_data import load_run
from tests.helpers import CliResult
from tests.run_folders import Measured, RunSpec, eval_task, passing_run

Run = Callable[..., CliResult]
SLOW = Measured(request_ttfts=[900, 900, 900, 900])  # misses a 200 ms TTFT
SHOULD_ONLY = "slo: {ttft_ms: 0.001}\ngoodput: {min_share: 0.9, priority: should}\n"


def judged(folder: Path, reqs: dict[str, Any]) -> Acceptance:
    (folder / "requirements.json").write_text(json.dumps(reqs))
    return judge_run(load_run(folder))


def one_line_error(result: CliResult) -> str:
    assert result.code == 2, result.out + result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    return lines[0]


# H6: a file with no `must` item; evals the file does not grade


def test_a_requirements_file_without_a_must_item_is_refused() -> None:
    raw = {"slo": {"ttft_ms": 0.001}, "goodput": {"min_share": 0.9, "priority": "should"}}
    with pytest.raises(RequirementsError, match=r"could never fail a release.*priority: must"):
        check_requirements(raw, "should.yaml")
    accuracy = {"accuracy": [{"task": "readiness_basics", "min_score": 0.5, "priority": "should"}]}
    with pytest.raises(RequirementsError, match="no item is `priority: must`"):
        check_requirements(accuracy, "should.yaml")
    capacity = raw | {"capacity": {"min_concurrency": 2, "priority": "must"}}
    assert check_requirements(capacity, "req.yaml")["capacity"]["priority"] == "must"


def test_a_should_only_file_is_refused_before_the_report_is_rebuilt(
    run_cli: Run, tmp_path: Path
) -> None:
    """It used to turn a NOT ACCEPTED run into ACCEPTED, exit 0."""
    folder = passing_run(tmp_path / "run", points=[SLOW], tasks=[eval_task("x", "FAIL")])
    should = tmp_path / "should.yaml"
    should.write_text(SHOULD_ONLY)
    line = one_line_error(
        run_cli("--workflow", "reports", "--run-dir", str(folder), "--requirements", str(should))
    )
    assert f"--requirements {should}: " in line and "mark at least one item" in line, line
    assert not (folder / "requirements.json").exists()
    assert not (folder / "report").exists()


def goodput_only(**goodput: Any) -> dict[str, Any]:
    raw = {"slo": {"ttft_ms": 2000}, "goodput": {"min_share": 0.5, "priority": "must"} | goodput}
    return check_requirements(raw, "req.yaml")


def test_an_eval_the_requirements_file_does_not_grade_is_judged_as_the_registry_says(
    tmp_path: Path,
) -> None:
    """A file without an accuracy section used to drop every eval: a FAIL appeared nowhere."""
    tasks = [eval_task("readiness_basics", "FAIL", 0.1)]
    acceptance = judged(passing_run(tmp_path / "a", tasks=tasks), goodput_only())
    assert not acceptance.accepted
    assert [f.key for f in acceptance.blockers] == ["evals:readiness_basics"]
    passed = judged(passing_run(tmp_path / "b"), goodput_only())
    assert passed.accepted, passed.blockers


def test_a_task_the_file_grades_is_graded_by_it_and_the_others_by_the_registry(
    tmp_path: Path,
) -> None:
    tasks = [eval_task("readiness_basics", "FAIL", 0.52), eval_task("chat_basics", "FAIL", 0.1)]
    reqs = check_requirements(
        {"accuracy": [{"task": "readiness_basics", "min_score": 0.3, "priority": "must"}]},
        "req.yaml",
    )
    acceptance = judged(passing_run(tmp_path, tasks=tasks), reqs)
    assert [f.key for f in acceptance.blockers] == ["evals:chat_basics"]
    [replaced] = [f for f in acceptance.advisories if f.key == "evals:readiness_basics.registry"]
    assert "the registry's verdict FAIL" in replaced.message
    assert "replaced by the requirements file's accuracy target" in replaced.reason
    evals = next(c for c in acceptance.categories if c.name == "evals")
    outcomes = {key: outcome for key, outcome, _ in evals.checks}
    assert outcomes["evals:readiness_basics"] == "N/A"  # junit: skipped, with the message
    assert outcomes["evals:accuracy:readiness_basics"] == "PASS"
    assert outcomes["evals:chat_basics"] == "FAIL"


def test_an_experimental_model_s_ungraded_eval_failure_stays_advisory(tmp_path: Path) -> None:
    tasks = [eval_task("readiness_basics", "PASS", 0.9), eval_task("chat_basics", "FAIL", 0.1)]
    reqs = check_requirements(
        {"accuracy": [{"task": "readiness_basics", "min_score": 0.3, "priority": "must"}]},
        "req.yaml",
    )
    folder = passing_run(tmp_path, tasks=tasks, spec=RunSpec(status="experimental"))
    acceptance = judged(folder, reqs)
    assert acceptance.accepted, acceptance.blockers
    assert "evals:chat_basics" in [f.key for f in acceptance.advisories]


# H7: the saved requirements.json is checked again when the report is rebuilt

SAVED = {
    "slo": {"ttft_ms": 2000},
    "goodput": {"min_share": 0.5, "priority": "must"},
    "accuracy": [{"task": "readiness_basics", "min_score": 0.5, "priority": "must"}],
}


def test_a_saved_requirements_file_reads_back_as_it_was_checked(tmp_path: Path) -> None:
    from reports.requirements import check_saved

    for raw in (
        SAVED,
        SAVED | {"capacity": {"min_concurrency": 2, "priority": "should"}},
        SAVED | {"capacity": {"min_rate": 2.5}, "goodput": {"min_share": 0.9, "concurrency": [1]}},
    ):
        checked = check_requirements(raw, "req.yaml")
        saved = json.loads(json.dumps(checked))  # as the run folder holds it
        assert check_saved(saved, tmp_path / "requirements.json") == checked


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"slo": {"ttft_ms": float("nan")}}, "slo.ttft_ms: expected a positive number"),
        ({"goodput": {"min_share": 0, "priority": "must"}}, "goodput.min_share: expected a pos"),
        ({"goodput": {"min_share": -1, "priority": "must"}}, "goodput.min_share: expected a pos"),
        ({"goodput": {"min_share": 0.9, "priority": "should"}, "accuracy": []}, "priority: must"),
        ({"accuracy": [{"task": "readiness_basics", "min_score": 0.5, "priority": "may"}]},
         "accuracy[0].priority: 'may' is not must or should"),
        ({"capacity": {"over": "concurrency", "minimum": 1.5, "priority": "must"}},
         "capacity: min_concurrency: expected a whole number"),
    ],
)  # fmt: skip
def test_a_saved_requirements_file_edited_since_is_refused_naming_the_field(
    run_cli: Run, tmp_path: Path, change: dict[str, Any], field: str
) -> None:
    """NaN used to read 'TTFT <= nan ms: 16 of 16 met', a share of 0 or -1 passed anything, a
    should-only file turned the verdict: each gave ACCEPTED."""
    folder = passing_run(tmp_path / "run", points=[SLOW])
    saved = folder / "requirements.json"
    saved.write_text(json.dumps(SAVED | change))
    line = one_line_error(run_cli("--workflow", "reports", "--run-dir", str(folder)))
    assert line.startswith(f"error: {saved}: ") or f" {saved}: " in line, line
    assert field in line and "saved requirements" in line, line
    assert not (folder / "report").exists()


def test_a_saved_requirements_file_without_accuracy_is_judged(tmp_path: Path) -> None:
    """It used to end in `internal error: KeyError`, exit 1."""
    folder = passing_run(tmp_path, points=[SLOW])
    (folder / "requirements.json").write_text(
        json.dumps({"slo": {"ttft_ms": 200}, "goodput": {"min_share": 0.5}})
    )
    acceptance = judge_run(load_run(folder))
    assert [f.key for f in acceptance.blockers] == ["benchmarks:goodput:isl-128_osl-32_conc-1"]


# H8: an accuracy score is held to its target with its interval, and only a real one is judged

MUST_90 = {"accuracy": [{"task": "readiness_basics", "min_score": 0.9, "priority": "must"}]}


def scored(tmp_path: Path, **task: Any) -> Acceptance:
    """A run whose readiness_basics has this score and sample count (None: none recorded)."""
    folder = passing_run(tmp_path)
    path = folder / "evals" / "evals.json"
    document = json.loads(path.read_text())
    document["tasks"][0].update(task)
    path.write_text(json.dumps(document))  # NaN and Infinity as a tampered file holds them
    return judged(folder, check_requirements(MUST_90, "req.yaml"))


def accuracy_grade(acceptance: Acceptance) -> Any:
    [grade] = [g for g in acceptance.grades if g.key == "accuracy:readiness_basics"]
    return grade


@pytest.mark.parametrize(
    ("task", "why"),
    [
        ({"score": 5.0, "n_samples": 30}, "score 5.0 is not a fraction from 0 to 1"),
        ({"score": float("inf"), "n_samples": 30}, "score inf is not a fraction from 0 to 1"),
        ({"score": float("nan"), "n_samples": 30}, "score nan is not a fraction from 0 to 1"),
        ({"score": -0.1, "n_samples": 30}, "score -0.1 is not a fraction from 0 to 1"),
        ({"score": "0.95", "n_samples": 30}, "score '0.95' is not a fraction from 0 to 1"),
        ({"score": 0.95, "n_samples": 0}, "no sample count (n_samples 0)"),
        ({"score": 0.95, "n_samples": None}, "no sample count (n_samples None)"),
        ({"score": 0.95, "n_samples": 2.5}, "no sample count (n_samples 2.5)"),
    ],
)
def test_an_accuracy_score_that_is_no_fraction_or_has_no_sample_count_is_not_judged(
    tmp_path: Path, task: dict[str, Any], why: str
) -> None:
    """Each used to be ACCEPTED against a `must` min_score of 0.9."""
    acceptance = scored(tmp_path, **task)
    assert not acceptance.accepted
    assert [f.key for f in acceptance.blockers] == ["evals:accuracy:readiness_basics"]
    grade = accuracy_grade(acceptance)
    assert f"not judged: {why}" in grade.detail, grade.detail
    assert (grade.met, grade.measured, grade.interval) == (False, None, None)


def test_an_accuracy_score_is_judged_by_its_wilson_interval(tmp_path: Path) -> None:
    clear = accuracy_grade(scored(tmp_path / "a", score=0.95, n_samples=400))
    assert (clear.met, clear.marginal) == (True, False)
    assert "its 95% interval [0.9240, 0.9674] lies at or above it" in clear.detail
    below = scored(tmp_path / "b", score=0.8, n_samples=400)
    assert [f.key for f in below.blockers] == ["evals:accuracy:readiness_basics"]
    assert (accuracy_grade(below).met, accuracy_grade(below).marginal) == (False, False)


@pytest.mark.parametrize(
    ("score", "n", "met"), [(0.95, 1, True), (0.92, 50, True), (0.88, 50, False)]
)
def test_an_accuracy_score_whose_interval_straddles_its_target_is_marginal(
    tmp_path: Path, score: float, n: int, met: bool
) -> None:
    """Decided by the score, as a straddling eval or goodput share is, and shown first."""
    acceptance = scored(tmp_path, score=score, n_samples=n)
    grade = accuracy_grade(acceptance)
    assert (grade.met, grade.marginal, acceptance.accepted) == (met, True, met)
    side = "at or above" if met else "below"
    assert f"MARGINAL {'PASS' if met else 'FAIL'}: its 95% interval [" in grade.detail
    assert f"straddles 0.9; decided by the score, {side} it" in grade.detail
    assert [f.key for f in acceptance.marginal] == ["evals:accuracy:readiness_basics"]


def test_a_min_score_above_1_is_refused() -> None:
    raw = {"accuracy": [{"task": "readiness_basics", "min_score": 5, "priority": "must"}]}
    with pytest.raises(RequirementsError, match=r"min_score: expected a score from 0 to 1"):
        check_requirements(raw, "req.yaml")
