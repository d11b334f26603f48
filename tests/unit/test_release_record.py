"""A release's verdict rests on what the run recorded of itself (runtime_spec.json's run
config), not only on release.json's own claims: an edit of release.json cannot make a narrowed
or incomplete release whole (issue H1)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from reports.acceptance import PARTIAL, Acceptance, judge_run
from reports.run_data import NARROWED_OUT, load_run
from tests.run_folders import passing_run


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
