"""Scoring is strict (a missing key is an error, never another number) and the verdict accounts
for the sample size of a limited run."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from evals.config import Limit
from evals.plan import plan_task
from evals.scoring import ScoringError, extract_score, judge, wilson_interval
from evals.task_result import scored_row
from tests.helpers import EVAL_TASK as TASK
from tests.helpers import lm_eval_results


def test_the_configured_key_is_the_score() -> None:
    results = lm_eval_results({"exact_match,none": 0.9, "exact_match,strict-match": 0.5})
    assert extract_score(results, TASK) == 0.5


def test_a_missing_key_is_an_error_not_the_first_number_found() -> None:
    results = lm_eval_results({"exact_match,none": 0.9, "exact_match_stderr,none": 0.01})
    with pytest.raises(ScoringError, match=r"exact_match,strict-match not in .*exact_match,none"):
        extract_score(results, TASK)


def test_mean_of_keys() -> None:
    task = replace(TASK, result_keys=("a,none", "b,none"), combine="mean")
    assert extract_score(lm_eval_results({"a,none": 0.2, "b,none": 0.6}), task) == pytest.approx(
        0.4
    )


def test_a_non_numeric_value_is_an_error() -> None:
    with pytest.raises(ScoringError, match="not a number"):
        extract_score(lm_eval_results({"exact_match,strict-match": "N/A"}), TASK)


def test_wilson_interval_matches_the_textbook_figures() -> None:
    low, high = wilson_interval(0.5, 100)
    assert (round(low, 4), round(high, 4)) == (0.4038, 0.5962)
    assert wilson_interval(0.0, 10)[0] == 0.0
    assert wilson_interval(1.0, 10)[1] == pytest.approx(1.0)
    assert wilson_interval(0.5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)


def test_full_set_is_held_to_reference_times_one_minus_tolerance() -> None:
    full = Limit(None, TASK.reference)
    assert judge(TASK, 0.476, 300, full, False).status == "PASS"  # floor 0.475
    failing = judge(TASK, 0.47, 300, full, False)
    assert failing.status == "FAIL" and "< 0.4750" in failing.reason
    assert failing.ratio_to_reference == pytest.approx(0.94)
    assert failing.ratio_to_published == pytest.approx(0.47 / 0.6)


def test_without_reference_the_published_score_is_the_bar() -> None:
    task = replace(TASK, reference=None)
    verdict = judge(task, 0.58, 300, Limit(None, None), False)
    assert (
        verdict.status == "PASS"
        and verdict.reference == 0.6
        and verdict.reference_source == ("paper")
    )


def test_a_limited_run_is_judged_by_its_interval_against_that_limits_reference() -> None:
    smoke = TASK.limits["smoke"]
    # 10/30 = 0.333 is below 0.38 (= 0.40 x 0.95), and 30 samples cannot tell it apart from
    # 0.38: the interval straddles the floor, the score decides, and the verdict says so
    close = judge(TASK, 10 / 30, 30, smoke, False)
    assert (close.status, close.marginal, close.reference) == ("FAIL", True, 0.4)
    assert close.reason.startswith("MARGINAL FAIL: 95% interval [") and "Wilson" in close.rule
    assert "straddles 0.3800; the score decided, 0.3333 < 0.3800" in close.reason
    # 12/30 = 0.4: across the floor too, the score is above it
    assert (judge(TASK, 12 / 30, 30, smoke, False).status, close.marginal) == ("PASS", True)
    # 4/30 = 0.133: even the top of its interval (about 0.30) stays below 0.38
    poor = judge(TASK, 4 / 30, 30, smoke, False)
    assert (poor.status, poor.marginal) == ("FAIL", False) and "lies below 0.3800" in poor.reason
    # 25/30 = 0.833: even the bottom of its interval (about 0.66) is above 0.38
    good = judge(TASK, 25 / 30, 30, smoke, False)
    assert (good.status, good.marginal) == ("PASS", False)


def test_a_limit_without_its_own_reference_is_not_compared_to_the_full_set() -> None:
    verdict = judge(TASK, 0.1, 5, Limit(5, None), False)
    assert verdict.status == "NOT_COMPARABLE" and "limited to 5" in verdict.reason


def test_chosen_samples_are_not_comparable() -> None:
    verdict = judge(TASK, 0.9, 3, Limit(None, TASK.reference), True)
    assert verdict.status == "NOT_COMPARABLE" and "--eval-samples" in verdict.reason


def test_a_result_row_with_a_missing_key_is_an_error_with_lm_evals_files(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(lm_eval_results({"exact_match,none": 0.9})))
    plan = plan_task(TASK, "llama_cpp", 4096, 8, None, {})
    row = scored_row(plan, path, {"results": "evals/qa/results.json"})
    assert row["status"] == "ERROR" and "exact_match,strict-match" in row["reason"]
    assert row["files"] == {"results": "evals/qa/results.json"}
    assert "score" not in row
