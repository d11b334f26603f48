"""Acceptance against targets: tiers by status, missing data, failed requests, evals, spec
tests, waivers, crashed children and requirements files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reports.acceptance import Acceptance, judge_run
from reports.requirements import RequirementsError, check_requirements
from reports.run_data import load_run
from reports.targets import check_metric
from tests.run_folders import (
    TARGET,
    Measured,
    RunSpec,
    eval_task,
    passing_run,
    spec_check,
)


def judged(folder: Path) -> Acceptance:
    return judge_run(load_run(folder))


def keys(acceptance: Acceptance) -> list[str]:
    return [finding.key for finding in acceptance.blockers]


# A point at 20% of theoretical per-user throughput: TPOT 100 ms = 10 tok/s against 50.
AT_20_PERCENT = Measured(tpot_ms=100.0, output_throughput=10.0)


def test_a_run_meeting_every_target_is_accepted(tmp_path: Path) -> None:
    acceptance = judged(passing_run(tmp_path))
    assert acceptance.accepted and not acceptance.blockers
    statuses = {category.name: category.status for category in acceptance.categories}
    assert statuses == {
        "workflows": "PASS",
        "benchmarks": "PASS",
        "evals": "PASS",
        "spec_tests": "PASS",
    }


@pytest.mark.parametrize(
    ("status", "accepted", "failing_tiers"),
    [
        ("experimental", True, []),
        ("functional", True, []),
        ("complete", False, ["complete"]),
        ("top_perf", False, ["complete", "target"]),
    ],
)
def test_the_status_decides_which_tiers_must_pass(
    tmp_path: Path, status: str, accepted: bool, failing_tiers: list[str]
) -> None:
    folder = passing_run(tmp_path, spec=RunSpec(status=status), points=[AT_20_PERCENT])
    acceptance = judged(folder)
    assert acceptance.accepted is accepted
    blocked_tiers = sorted({key.split(".")[1] for key in keys(acceptance)})
    assert blocked_tiers == failing_tiers


def test_a_complete_model_at_the_functional_tier_only_is_not_accepted(tmp_path: Path) -> None:
    """Upstream passes a point when any tier passes; here every enforced tier must."""
    folder = passing_run(tmp_path, spec=RunSpec(status="complete"), points=[AT_20_PERCENT])
    acceptance = judged(folder)
    messages = [finding.message for finding in acceptance.blockers]
    assert "benchmarks:isl-128_osl-32_conc-1.complete.tput_user_check" in keys(acceptance)
    assert any(
        "complete tier (50% of theoretical)" in m and "needs at least 25.0 tok/s/user" in m
        for m in messages
    ), messages
    assert any("any one tier" in note for note in acceptance.notes)


def test_ttft_is_lower_is_better(tmp_path: Path) -> None:
    slow = Measured(ttft_ms=1500.0)  # functional allows 100 / 0.1 = 1000 ms
    acceptance = judged(passing_run(tmp_path, points=[slow]))
    assert keys(acceptance) == ["benchmarks:isl-128_osl-32_conc-1.functional.ttft_ms_check"]
    assert (
        "TTFT 1500 ms (95% interval [1470, 1530]), needs at most 1000 ms (150% of it)"
        in acceptance.blockers[0].message
    )


def test_check_metric_ratios_and_na() -> None:
    assert check_metric("ttft_ms", 100.0, 0.5, 150.0, (140.0, 160.0)).check == "PASS"  # 200 ms
    assert check_metric("tput", 100.0, 0.5, 49.0, (48.0, 49.5)).check == "FAIL"  # 50 tok/s
    assert check_metric("tput", None, 0.5, 49.0).check == "N/A"
    assert check_metric("tput", 100.0, 0.5, None).check == "MISSING"
    assert check_metric("tput_user", 40.0, 1.0, 50.0, (45.0, 55.0)).ratio == pytest.approx(1.25)


def test_a_check_is_decided_by_its_interval_not_by_one_draw() -> None:
    """Target 50 tok/s: an interval wholly above passes, wholly below fails, and one across
    it is decided by the mean and marked marginal (TTFT: lower is better, target 200 ms)."""
    above = check_metric("tput", 100.0, 0.5, 60.0, (55.0, 65.0))
    below = check_metric("tput", 100.0, 0.5, 40.0, (35.0, 45.0))
    across_good = check_metric("tput", 100.0, 0.5, 52.0, (45.0, 59.0))
    across_bad = check_metric("ttft_ms", 100.0, 0.5, 205.0, (190.0, 220.0))
    assert (above.check, above.marginal) == ("PASS", False)
    assert (below.check, below.marginal) == ("FAIL", False)
    assert (across_good.check, across_good.marginal) == ("PASS", True)
    assert (across_bad.check, across_bad.marginal) == ("FAIL", True)
    assert across_bad.marginal_text() == (
        "MARGINAL FAIL: TTFT 205 ms (95% interval [190, 220]) straddles the target "
        "200 ms; decided by the mean, beyond it"
    )


def test_a_figure_without_an_interval_is_not_a_pass() -> None:
    """Too few successful requests for an interval: no evidence, so not judged (fail closed)."""
    check = check_metric("ttft_ms", 100.0, 0.5, 150.0, None)
    assert check.check == "UNJUDGED" and "no 95% interval" in check.note


def test_a_point_without_intervals_blocks_and_says_why(tmp_path: Path) -> None:
    acceptance = judged(passing_run(tmp_path, points=[Measured(spread=None)]))
    assert not acceptance.accepted
    assert all("no 95% interval" in finding.message for finding in acceptance.blockers)


def test_a_marginal_check_is_a_finding_of_its_own(tmp_path: Path) -> None:
    """TTFT 1000 ms is the functional target (100 / 0.1): an interval of +-5% straddles it."""
    on_the_line = Measured(ttft_ms=990.0, spread=0.05)
    acceptance = judged(passing_run(tmp_path, points=[on_the_line]))
    assert acceptance.accepted, "decided by the mean: 990 ms is within 1000 ms"
    [finding] = acceptance.marginal
    assert finding.key == "benchmarks:isl-128_osl-32_conc-1.functional.ttft_ms_check"
    assert "MARGINAL PASS: TTFT 990 ms (95% interval [940, 1040])" in finding.message


def test_a_custom_tier_map_changes_the_targets(tmp_path: Path) -> None:
    spec = RunSpec(perf_tiers={"functional": 0.25, "complete": 0.5, "target": 1.0})
    acceptance = judged(passing_run(tmp_path, spec=spec, points=[AT_20_PERCENT]))
    assert keys(acceptance) == [
        "benchmarks:isl-128_osl-32_conc-1.functional.tput_user_check",
        "benchmarks:isl-128_osl-32_conc-1.functional.tput_check",
    ]


def test_a_target_point_that_was_not_measured_blocks(tmp_path: Path) -> None:
    other = Measured(concurrency=4)
    acceptance = judged(passing_run(tmp_path, points=[other]))
    assert keys(acceptance) == ["benchmarks:isl-128_osl-32_conc-1.not_measured"]


def test_a_point_where_every_request_failed_is_missing_data_not_a_pass(tmp_path: Path) -> None:
    dead = Measured(completed=0, failed=4)
    acceptance = judged(passing_run(tmp_path, spec=RunSpec(status="experimental"), points=[dead]))
    assert not acceptance.accepted  # failed requests block whatever the status
    assert keys(acceptance) == ["benchmarks:isl-128_osl-32_conc-1.failed_requests"]
    assert "4 of 4 requests failed" in acceptance.blockers[0].message
    tiers = acceptance.target_points[0].tiers
    assert {check.check for tier in tiers for check in tier.checks} == {"MISSING"}


def test_a_metric_without_a_theoretical_figure_is_not_applicable(tmp_path: Path) -> None:
    target = dict(TARGET, ttft_ms=None)
    folder = passing_run(
        tmp_path, spec=RunSpec(perf_reference=[target]), points=[Measured(ttft_ms=9e9)]
    )
    assert judged(folder).accepted


TARGET_CHECKS = [
    f"benchmarks:isl-128_osl-32_conc-1.functional.{metric}_check"
    for metric in ("ttft_ms", "tput_user", "tput")
]


@pytest.mark.parametrize(("cached_share", "accepted"), [(0.0, True), (0.5, True), (1.0, False)])
def test_a_target_point_served_from_an_unasked_prompt_cache_is_not_judged(
    tmp_path: Path, cached_share: float, accepted: bool
) -> None:
    """Prompts the server had cached (a second run with the same seed) measure the cache, not
    prefill: above half of the prompt tokens, the point's checks could not be judged, and an
    enforced tier blocks however good its figures look."""
    acceptance = judged(passing_run(tmp_path, points=[Measured(cached_share=cached_share)]))
    assert acceptance.accepted is accepted
    checks = acceptance.target_points[0].tiers[0].checks
    assert {check.check for check in checks} == {"PASS" if accepted else "UNJUDGED"}
    if accepted:
        return
    assert keys(acceptance) == TARGET_CHECKS
    message = acceptance.blockers[0].message
    assert "100% of its prompt tokens came from the server's prompt cache" in message
    assert "could not be judged" in message
    assert acceptance.target_points[0].tiers[0].verdict == "UNJUDGED"


def test_a_target_point_that_shares_prefixes_on_purpose_is_judged(tmp_path: Path) -> None:
    """A prefix-cache variant asks for the cache; its baseline (variant none) does not."""
    shared = {"mode": "shared", "variant": "shared", "shared_prefix_tokens": 96}
    asked = Measured(cached_share=0.9, prefix_cache=shared)
    assert judged(passing_run(tmp_path / "shared", points=[asked])).accepted
    baseline = Measured(cached_share=0.9, prefix_cache=shared | {"variant": "none"})
    assert keys(judged(passing_run(tmp_path / "none", points=[baseline]))) == TARGET_CHECKS


def test_a_known_issue_for_the_point_waives_an_unjudged_cached_point(tmp_path: Path) -> None:
    waiver = {"workflow": "benchmarks", "task": "isl-128_osl-32_conc-1", "reason": "shared box"}
    folder = passing_run(
        tmp_path, spec=RunSpec(known_issues=[waiver]), points=[Measured(cached_share=1.0)]
    )
    acceptance = judged(folder)
    assert acceptance.accepted
    assert [finding.key for finding in acceptance.waived] == TARGET_CHECKS


def test_failed_requests_within_the_allowance_pass(tmp_path: Path) -> None:
    point = Measured(failed=1, completed=99, max_failed=0.05)
    assert judged(passing_run(tmp_path, points=[point])).accepted


def test_a_failed_eval_blocks_unless_experimental(tmp_path: Path) -> None:
    tasks = [eval_task("readiness_basics", "FAIL", 0.2, reason="0.2 is below 0.5066")]
    acceptance = judged(passing_run(tmp_path / "a", tasks=tasks))
    assert keys(acceptance) == ["evals:readiness_basics"]
    assert "0.2 is below 0.5066" in acceptance.blockers[0].message
    experimental = judged(
        passing_run(tmp_path / "b", tasks=tasks, spec=RunSpec(status="experimental"))
    )
    assert experimental.accepted
    assert [finding.key for finding in experimental.advisories] == ["evals:readiness_basics"]


def test_a_known_issue_waives_a_failed_task_with_its_reason(tmp_path: Path) -> None:
    waiver = {"workflow": "evals", "task": "readiness_basics", "reason": "flaky on cpu (#12)"}
    tasks = [eval_task("readiness_basics", "FAIL", 0.2), eval_task("chat_basics", "PASS")]
    acceptance = judged(passing_run(tmp_path, tasks=tasks, spec=RunSpec(known_issues=[waiver])))
    assert acceptance.accepted
    assert [(w.key, w.reason) for w in acceptance.waived] == [
        ("evals:readiness_basics", "known issue: flaky on cpu (#12)")
    ]


def test_a_category_whose_only_check_is_waived_has_no_evidence(tmp_path: Path) -> None:
    waiver = {"workflow": "evals", "task": "readiness_basics", "reason": "flaky on cpu (#12)"}
    tasks = [eval_task("readiness_basics", "FAIL", 0.2)]
    acceptance = judged(passing_run(tmp_path, tasks=tasks, spec=RunSpec(known_issues=[waiver])))
    assert keys(acceptance) == ["evals:no_evidence"]
    assert "1 checks, none passed" in acceptance.blockers[0].message


def test_a_crashed_task_blocks_even_with_a_waiver(tmp_path: Path) -> None:
    waiver = {"workflow": "evals", "task": "readiness_basics", "reason": "flaky"}
    tasks = [eval_task("readiness_basics", "ERROR", None, reason="lm-eval exited 1")]
    acceptance = judged(passing_run(tmp_path, tasks=tasks, spec=RunSpec(known_issues=[waiver])))
    assert keys(acceptance) == ["evals:readiness_basics"]
    assert "crashed: lm-eval exited 1" in acceptance.blockers[0].message


def test_skipped_and_not_comparable_tasks_block_an_enforced_category(tmp_path: Path) -> None:
    """They used to count as N/A: a release with no usable eval evidence was ACCEPTED."""
    tasks = [
        eval_task("readiness_basics", "PASS"),
        eval_task("humaneval", "SKIPPED", None, reason="llama_cpp cannot run loglikelihood"),
        eval_task("gsm8k", "NOT_COMPARABLE", 0.0, reason="hand-picked samples"),
    ]
    acceptance = judged(passing_run(tmp_path / "a", tasks=tasks))
    assert keys(acceptance) == ["evals:humaneval", "evals:gsm8k"]
    assert "could not be judged" in acceptance.blockers[0].message
    assert "hand-picked samples" in acceptance.blockers[1].message
    waivers = [
        {"workflow": "evals", "task": "humaneval", "reason": "engine limit"},
        {"workflow": "evals", "task": "gsm8k", "reason": "no reference yet"},
    ]
    waived = judged(passing_run(tmp_path / "b", tasks=tasks, spec=RunSpec(known_issues=waivers)))
    assert waived.accepted and len(waived.waived) == 2
    experimental = judged(
        passing_run(tmp_path / "c", tasks=tasks, spec=RunSpec(status="experimental"))
    )
    assert experimental.accepted and len(experimental.advisories) == 2


def test_a_task_the_limit_mode_leaves_out_is_not_required(tmp_path: Path) -> None:
    tasks = [
        eval_task("readiness_basics", "PASS"),
        eval_task("humaneval", "SKIPPED", None, reason="not run in smoke mode", required=False),
    ]
    acceptance = judged(passing_run(tmp_path, tasks=tasks))
    evals = next(c for c in acceptance.categories if c.name == "evals")
    assert (acceptance.accepted, evals.passed, evals.skipped) == (True, 1, 1)


def test_skipped_only_categories_have_no_evidence(tmp_path: Path) -> None:
    """`evals.tasks=humaneval_packaged spec_tests.only=completions_logprobs` on llama.cpp: both
    skipped, and the release used to be ACCEPTED. An empty task list is no evidence either."""
    tasks = [eval_task("humaneval", "SKIPPED", None, reason="not run in smoke", required=False)]
    checks = [spec_check("completions_logprobs", "SKIPPED", "engine lacks it")]
    waiver = {"workflow": "spec_tests", "task": "completions_logprobs", "reason": "engine"}
    acceptance = judged(
        passing_run(tmp_path / "a", tasks=tasks, checks=checks, spec=RunSpec(known_issues=[waiver]))
    )
    assert keys(acceptance) == ["evals:no_evidence", "spec_tests:no_evidence"]
    empty = judged(passing_run(tmp_path / "b", tasks=[]))
    assert keys(empty) == ["evals:no_evidence"]


def test_an_unknown_status_blocks_naming_it(tmp_path: Path) -> None:
    tasks = [eval_task("readiness_basics", "PASS"), eval_task("qa", "PASSED", 0.9)]
    checks = [spec_check("chat"), spec_check("models_list", "OK")]
    acceptance = judged(passing_run(tmp_path, tasks=tasks, checks=checks))
    assert keys(acceptance) == ["evals:qa", "spec_tests:models_list"]
    assert "unknown status 'PASSED'" in acceptance.blockers[0].message
    waiver = {"workflow": "evals", "task": "qa", "reason": "try to waive it"}
    still = judged(passing_run(tmp_path / "b", tasks=tasks, spec=RunSpec(known_issues=[waiver])))
    assert keys(still) == ["evals:qa"], "an unreadable result is never waived"


def test_a_skipped_spec_check_blocks_unless_a_known_issue_names_it(tmp_path: Path) -> None:
    checks = [spec_check("chat"), spec_check("completions_logprobs", "SKIPPED", "engine lacks")]
    acceptance = judged(passing_run(tmp_path / "a", checks=checks))
    assert keys(acceptance) == ["spec_tests:completions_logprobs"]
    waiver = {"workflow": "spec_tests", "task": "completions_logprobs", "reason": "engine"}
    waived = judged(passing_run(tmp_path / "b", checks=checks, spec=RunSpec(known_issues=[waiver])))
    assert waived.accepted


def test_missing_or_incomplete_results_block(tmp_path: Path) -> None:
    no_evals = judged(passing_run(tmp_path / "a", tasks=None))
    assert keys(no_evals) == ["evals:no_results"]
    cut_short = judged(passing_run(tmp_path / "b", complete=False))
    assert keys(cut_short) == ["evals:incomplete", "spec_tests:incomplete"]


def test_spec_test_failures_block_and_can_be_waived(tmp_path: Path) -> None:
    checks = [spec_check("chat"), spec_check("n_choices", "FAIL", "asked 2 choices, got 1")]
    acceptance = judged(passing_run(tmp_path / "a", checks=checks))
    assert keys(acceptance) == ["spec_tests:n_choices"]
    waiver = {"workflow": "spec_tests", "task": "n_choices", "reason": "engine limit"}
    waived = judged(passing_run(tmp_path / "b", checks=checks, spec=RunSpec(known_issues=[waiver])))
    assert waived.accepted and [w.key for w in waived.waived] == ["spec_tests:n_choices"]


def test_a_crashed_child_workflow_blocks(tmp_path: Path) -> None:
    children = {"evals": "passed", "benchmarks": "crashed", "spec_tests": "not_run"}
    acceptance = judged(passing_run(tmp_path, children=children))
    assert {"workflows:benchmarks", "workflows:spec_tests"} <= set(keys(acceptance))


def test_a_left_out_child_blocks_unless_waived_or_not_enforced(tmp_path: Path) -> None:
    children = {"evals": "left_out", "benchmarks": "passed", "spec_tests": "passed"}
    blocked = judged(passing_run(tmp_path / "a", children=children, tasks=None))
    assert keys(blocked) == ["evals:not_run"]
    assert "evals did not run: no eval configuration" in blocked.blockers[0].message
    waiver = {"workflow": "evals", "reason": "no eval configuration yet (#9)"}
    waived = judged(
        passing_run(
            tmp_path / "b", children=children, tasks=None, spec=RunSpec(known_issues=[waiver])
        )
    )
    assert waived.accepted and [w.key for w in waived.waived] == ["evals:not_run"]
    experimental = judged(
        passing_run(
            tmp_path / "c", children=children, tasks=None, spec=RunSpec(status="experimental")
        )
    )
    assert experimental.accepted


def test_stress_points_with_failed_requests_block(tmp_path: Path) -> None:
    children = {"evals": "passed", "benchmarks": "passed", "spec_tests": "passed"}
    children |= {"stress_tests": "passed"}
    stress = [Measured(concurrency=8), Measured(concurrency=8, failed=2, completed=6)]
    acceptance = judged(passing_run(tmp_path, children=children, stress=stress))
    assert keys(acceptance) == ["stress_tests:isl-128_osl-32_conc-8.failed_requests"]
    assert "window 2: 2 of 8 requests failed (25%, allowed 0%)" in acceptance.blockers[0].message


# Requirements files


def requirements(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "slo": {"ttft_ms": 200, "tpot_ms": 50},
        "goodput": {"min_share": 0.75, "priority": "must"},
        # 0.55 over 30 samples: a 95% interval [0.38, 0.71] that clears it, so not marginal
        "accuracy": [{"task": "readiness_basics", "min_score": 0.2, "priority": "must"}],
    }
    return check_requirements(raw | changes, "req.yaml")


def with_requirements(folder: Path, reqs: dict[str, Any], **changes: Any) -> Acceptance:
    import json

    run = passing_run(folder, **changes)
    (run / "requirements.json").write_text(json.dumps(reqs))
    return judged(run)


def test_goodput_counts_the_requests_meeting_every_slo(tmp_path: Path) -> None:
    point = Measured(request_ttfts=[100, 150, 190, 400])  # 3 of 4 within 200 ms
    met = with_requirements(tmp_path / "a", requirements(), points=[point])
    assert met.accepted
    assert [(g.measured, g.met) for g in met.grades if g.key.startswith("goodput")] == [
        (0.75, True)
    ]
    strict = requirements(goodput={"min_share": 0.9, "priority": "must"})
    missed = with_requirements(tmp_path / "b", strict, points=[point])
    assert keys(missed) == ["benchmarks:goodput:isl-128_osl-32_conc-1"]
    assert (
        "3 of 4 requests met the SLOs (75%, 95% interval [30%, 95%]), needs 90%; MARGINAL FAIL"
        in missed.blockers[0].message
    ), "4 requests cannot tell 75% from 90%: the share decided, and says so"
    assert [f.key for f in missed.marginal] == ["benchmarks:goodput:isl-128_osl-32_conc-1"]


def test_a_goodput_share_whose_interval_clears_the_requirement_is_not_marginal(
    tmp_path: Path,
) -> None:
    many = Measured(request_ttfts=[100] * 60 + [400] * 2, completed=62)  # 97% within 200 ms
    below = Measured(request_ttfts=[100] * 20 + [400] * 42, completed=62)  # 32%
    strict = requirements(goodput={"min_share": 0.8, "priority": "must"})
    met = with_requirements(tmp_path / "a", strict, points=[many])
    missed = with_requirements(tmp_path / "b", strict, points=[below])
    assert met.accepted and not met.marginal
    assert keys(missed) == ["benchmarks:goodput:isl-128_osl-32_conc-1"] and not missed.marginal


def test_a_should_requirement_is_reported_and_does_not_block(tmp_path: Path) -> None:
    reqs = requirements(
        goodput={"min_share": 0.9, "priority": "should"},
        accuracy=[
            {"task": "readiness_basics", "min_score": 0.9, "priority": "should"},
            {"task": "chat_basics", "min_score": 0.1, "priority": "must"},  # one must: needed
        ],
    )
    tasks = [eval_task("readiness_basics", "PASS"), eval_task("chat_basics", "PASS")]
    acceptance = with_requirements(
        tmp_path, reqs, points=[Measured(request_ttfts=[100, 400])], tasks=tasks
    )
    assert acceptance.accepted
    assert sorted(f.key for f in acceptance.advisories) == [
        "benchmarks:goodput:isl-128_osl-32_conc-1",
        "evals:accuracy:readiness_basics",
    ]


def test_requirements_replace_the_registry_targets(tmp_path: Path) -> None:
    """A point far below the registry's tiers, and an eval the registry fails, pass a
    deployment whose own targets they meet."""
    tasks = [eval_task("readiness_basics", "FAIL", 0.52)]
    acceptance = with_requirements(
        tmp_path, requirements(), points=[Measured(ttft_ms=150, tpot_ms=45)], tasks=tasks,
        spec=RunSpec(status="top_perf"),
    )  # fmt: skip
    assert acceptance.accepted, keys(acceptance)
    assert acceptance.enforced_tiers == ()
    assert acceptance.source == "requirements: req.yaml"


def test_a_must_accuracy_target_for_a_task_that_did_not_run_blocks(tmp_path: Path) -> None:
    reqs = requirements(accuracy=[{"task": "gsm8k", "min_score": 0.5}])
    acceptance = with_requirements(tmp_path, reqs)
    assert keys(acceptance) == ["evals:accuracy:gsm8k"]
    assert "the task was not run" in acceptance.blockers[0].message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"slo": {"ttft": 1}, "goodput": {"min_share": 0.9}}, "unknown field ttft"),
        ({"slo": {"ttft_ms": 1}, "goodput": {"min_share": 90}}, "a share from 0 to 1"),
        ({"slo": {"ttft_ms": 1}}, "add goodput.min_share"),
        ({"accuracy": [{"task": "x", "min_score": 1, "priority": "may"}]}, "not must or should"),
        ({"accuracy": [{"task": "x"}]}, "min_score"),
        ({"name": "empty"}, "states no target"),
        ({"goodput": {"min_share": 0.5}}, "needs slo"),
        ({"schema_version": 2, "accuracy": []}, "this runner reads 1"),
    ],
)
def test_a_bad_requirements_file_names_the_field(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(RequirementsError, match=message):
        check_requirements(raw, "req.yaml")


def test_a_run_that_is_not_a_release_gets_no_release_verdict(tmp_path: Path) -> None:
    """`reports --run-dir` on a benchmarks run used to say ACCEPTED."""
    benchmarks = RunSpec(workflow="benchmarks")
    acceptance = judged(
        passing_run(tmp_path, release=False, tasks=None, checks=None, spec=benchmarks)
    )
    assert (acceptance.verdict, acceptance.accepted) == ("PARTIAL", False)
    assert acceptance.partial == ("not a release: the benchmarks workflow on its own",)


def test_a_narrowed_release_gets_no_release_verdict(tmp_path: Path) -> None:
    narrowed = ["evals.tasks=humaneval_packaged", "--eval-samples"]
    acceptance = judged(passing_run(tmp_path, narrowed=narrowed))
    assert (acceptance.verdict, acceptance.accepted) == ("PARTIAL", False)
    assert acceptance.partial == (
        "narrowed by evals.tasks=humaneval_packaged",
        "narrowed by --eval-samples",
    )
    assert judged(passing_run(tmp_path / "whole")).verdict == "ACCEPTED"


def test_a_child_the_user_left_out_is_not_a_failure_of_a_partial_release(tmp_path: Path) -> None:
    children = {"evals": "left_out", "benchmarks": "passed", "spec_tests": "passed"}
    acceptance = judged(
        passing_run(
            tmp_path,
            children=children,
            tasks=None,
            narrowed=["workflows=benchmarks,spec_tests"],
            left_out_because="left out by --workflow-args workflows=benchmarks,spec_tests",
        )
    )
    assert (acceptance.verdict, acceptance.blockers) == ("PARTIAL", [])
    evals = next(c for c in acceptance.categories if c.name == "evals")
    assert (evals.enforced, evals.skipped) == (False, 1)


def test_a_score_far_above_its_reference_is_a_finding(tmp_path: Path) -> None:
    """164/164 on HumanEval from a server that answers `sys.exit(0)` used to pass silently."""
    gamed = eval_task("readiness_basics", "PASS", 1.0) | {"interval_95": [0.89, 1.0]}
    acceptance = judged(passing_run(tmp_path / "a", tasks=[gamed]))
    [finding] = acceptance.advisories
    assert finding.key == "evals:readiness_basics.implausible"
    assert "far above its reference 0.5333" in finding.message
    assert "implausibly high" in finding.reason
    plausible = eval_task("readiness_basics", "PASS", 0.6)  # interval [0.37, 0.71] spans 0.5333
    assert not judged(passing_run(tmp_path / "b", tasks=[plausible])).advisories


def test_every_workflow_a_release_runs_brings_its_judge_in_the_release_order() -> None:
    from reports.acceptance import JUDGES
    from workflows.workflow_release import ORDER

    assert tuple(JUDGES) == ORDER


def test_goodput_on_a_point_served_from_an_unasked_cache_is_not_judged(tmp_path: Path) -> None:
    cached = Measured(request_ttfts=[100, 150, 190, 180], cached_share=1.0)
    acceptance = with_requirements(tmp_path / "a", requirements(), points=[cached])
    [grade] = [g for g in acceptance.grades if g.key.startswith("goodput")]
    assert not grade.met and "not judged: 100% of its prompt tokens came from a prompt cache" in (
        grade.detail
    )
    assert not acceptance.accepted
    fresh = Measured(request_ttfts=[100, 150, 190, 180], cached_share=0.0)
    assert with_requirements(tmp_path / "b", requirements(), points=[fresh]).accepted
