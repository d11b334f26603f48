"""A release's verdict rests on what the run recorded of itself (runtime_spec.json's run
config), not only on release.json's own claims: an edit of release.json cannot make a narrowed
or incomplete release whole (issue H1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from reports.acceptance import PARTIAL, Acceptance, judge_run
from reports.run_data import NARROWED_OUT, load_run
from tests.run_folders import passing_run, spec_check


def judged(folder: Path) -> Acceptance:
    return judge_run(load_run(folder))


def edit(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def with_args(folder: Path, args: dict[str, Any]) -> Path:
    edit(folder / "runtime_spec.json", lambda doc: doc["run_config"].update(workflow_args=args))
    return folder


def test_a_release_whose_record_drops_its_narrowing_is_still_partial(tmp_path: Path) -> None:
    args = {"seed": 31, "benchmarks.num_prompts": 3, "evals.tasks": "readiness_basics"}
    folder = with_args(passing_run(tmp_path), args)  # release.json says "narrowed": []
    acceptance = judged(folder)
    assert acceptance.verdict == PARTIAL and not acceptance.accepted
    assert acceptance.partial == (
        "narrowed by benchmarks.num_prompts=3",
        "narrowed by evals.tasks=readiness_basics",
    )


def test_the_seed_and_report_options_leave_a_release_whole(tmp_path: Path) -> None:
    args = {"seed": 31, "benchmarks.seed": 4, "benchmarks.percentiles": "50,99"}
    acceptance = judged(with_args(passing_run(tmp_path), args))
    assert acceptance.accepted and acceptance.partial == ()


def test_the_narrowing_release_json_records_is_kept(tmp_path: Path) -> None:
    folder = with_args(passing_run(tmp_path, narrowed=["--eval-samples"]), {"seed": 1})
    assert judged(folder).partial == ("narrowed by --eval-samples",)


def test_a_required_child_missing_from_the_record_blocks(tmp_path: Path) -> None:
    folder = passing_run(tmp_path)
    edit(
        folder / "release.json",
        lambda doc: doc.update(children=[c for c in doc["children"] if c["workflow"] != "evals"]),
    )
    shutil.rmtree(folder / "evals")
    acceptance = judged(folder)
    assert not acceptance.accepted
    assert [finding.key for finding in acceptance.blockers] == ["workflows:evals"]
    assert "evals is missing from release.json's children" in acceptance.blockers[0].message


def test_stress_tests_asked_for_but_missing_from_the_record_block(tmp_path: Path) -> None:
    folder = with_args(passing_run(tmp_path), {"stress": True})
    assert [finding.key for finding in judged(folder).blockers] == ["workflows:stress_tests"]


def test_a_child_marked_as_left_out_by_the_user_makes_the_release_partial(
    tmp_path: Path,
) -> None:
    folder = passing_run(tmp_path)

    def leave_out_spec_tests(doc: dict[str, Any]) -> None:
        for child in doc["children"]:
            if child["workflow"] == "spec_tests":
                child.update(status="left_out", message=NARROWED_OUT + "evals,benchmarks")

    edit(folder / "release.json", leave_out_spec_tests)
    shutil.rmtree(folder / "spec_tests")
    acceptance = judged(folder)
    assert acceptance.verdict == PARTIAL
    assert acceptance.partial == ("narrowed by workflows= (release.json leaves out spec_tests)",)


def test_spec_checks_that_disagree_with_their_summary_are_not_judged(tmp_path: Path) -> None:
    """The FAIL checks removed from spec_tests.json, its summary still counting them (H5)."""
    checks = [spec_check("chat"), spec_check("completions"), spec_check("n_choices", "FAIL")]
    folder = passing_run(tmp_path, checks=checks)
    assert keys(judged(folder)) == ["spec_tests:n_choices"]
    edit(
        folder / "spec_tests" / "spec_tests.json",
        lambda doc: doc.update(checks=[c for c in doc["checks"] if c["status"] != "FAIL"]),
    )
    acceptance = judged(folder)
    assert not acceptance.accepted
    assert keys(acceptance) == ["spec_tests:summary_mismatch"]
    assert acceptance.blockers[0].message == (
        "spec_tests/spec_tests.json does not agree with itself (its summary says passed 2, "
        "failed 1, skipped 0, errors 0, its checks hold passed 2, failed 0, skipped 0, "
        "errors 0): the spec tests are not judged"
    )


COPIED = {"passed": 3, "failed": 0, "skipped": 0, "errors": 0}  # counts the copy too


@pytest.mark.parametrize(
    "change",
    [
        lambda doc: doc.update(checks=[]),
        lambda doc: doc.pop("summary"),
        lambda doc: doc.update(checks=[*doc["checks"], doc["checks"][0]], summary=COPIED),
    ],
    ids=["no checks", "no summary", "a check copied"],
)
def test_a_spec_tests_file_that_does_not_agree_with_itself_blocks(
    tmp_path: Path, change: Any
) -> None:
    folder = passing_run(tmp_path)
    edit(folder / "spec_tests" / "spec_tests.json", change)
    assert keys(judged(folder)) == ["spec_tests:summary_mismatch"]


def keys(acceptance: Acceptance) -> list[str]:
    return [finding.key for finding in acceptance.blockers]
