"""evals.json must agree with itself before a verdict reads it. An audit made a release with a
failing eval ACCEPTED by editing only evals.json: the failing task removed, or turned SKIPPED
and not required, or its status set to PASS over a score of 0.01. The tasks must now be the
ones the file's summary counts, and a PASS must follow from the task's own score, samples,
reference and tolerance (evals.scoring's rule), and from its agreement with the reference run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reports.acceptance import Acceptance, judge_run
from reports.run_data import load_run
from tests.run_folders import eval_task, passing_run

FAILING = [eval_task("readiness_basics", "PASS"), eval_task("chat_basics", "FAIL", 0.1)]


def edited(folder: Path, change: Any) -> Acceptance:
    """The verdict after `change(document)` edits evals.json in place."""
    path = folder / "evals" / "evals.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return judge_run(load_run(folder))


def blocker_messages(acceptance: Acceptance) -> list[str]:
    return [finding.message for finding in acceptance.blockers]


def test_an_untouched_run_with_a_failing_eval_is_not_accepted(tmp_path: Path) -> None:
    acceptance = judge_run(load_run(passing_run(tmp_path, tasks=FAILING)))
    assert not acceptance.accepted
    assert not any("not judged" in message for message in blocker_messages(acceptance))


def test_removing_the_failing_task_leaves_the_summary_to_say_so(tmp_path: Path) -> None:
    def drop_failure(document: dict[str, Any]) -> None:
        document["tasks"] = [t for t in document["tasks"] if t["status"] != "FAIL"]

    acceptance = edited(passing_run(tmp_path, tasks=FAILING), drop_failure)
    assert not acceptance.accepted
    [message] = [m for m in blocker_messages(acceptance) if "evals.json" in m]
    assert message == (
        "evals/evals.json is not judged: its summary counts pass 1, fail 1, skipped 0, "
        "not_comparable 0, error 0, its tasks hold pass 1"
    )


def test_a_failure_turned_into_an_optional_skip_is_caught(tmp_path: Path) -> None:
    def skip_failure(document: dict[str, Any]) -> None:
        for task in document["tasks"]:
            if task["status"] == "FAIL":
                task.update(status="SKIPPED", required=False)

    acceptance = edited(passing_run(tmp_path, tasks=FAILING), skip_failure)
    assert not acceptance.accepted
    assert any("its summary counts" in m for m in blocker_messages(acceptance))


def test_a_pass_its_own_figures_do_not_give_blocks(tmp_path: Path) -> None:
    """Summary edited too, so only the task's figures can tell."""

    def claim_pass(document: dict[str, Any]) -> None:
        document["tasks"][1]["status"] = "PASS"
        document["summary"] |= {"pass": 2, "fail": 0}

    acceptance = edited(passing_run(tmp_path, tasks=FAILING), claim_pass)
    assert not acceptance.accepted
    assert blocker_messages(acceptance) == [
        "chat_basics says PASS, but its score 0.1000 over 30 samples falls short of 0.5066 "
        "(could not be judged: no evidence is no pass)"
    ]


def test_a_pass_whose_answers_disagree_with_the_reference_run_blocks(tmp_path: Path) -> None:
    disagreeing = {"passed": False, "compared": 30, "differ": 9, "allowed": 2}
    tasks = [eval_task("readiness_basics", "PASS", agreement=disagreeing)]
    acceptance = judge_run(load_run(passing_run(tmp_path, tasks=tasks)))
    assert not acceptance.accepted
    assert any("disagree with the reference run's" in m for m in blocker_messages(acceptance))
    tasks = [eval_task("readiness_basics", "PASS", agreement=disagreeing | {"passed": True})]
    assert judge_run(load_run(passing_run(tmp_path / "agreeing", tasks=tasks))).accepted


def test_a_pass_needs_the_lm_eval_output_that_backs_its_sample_count(tmp_path: Path) -> None:
    """The audit deleted every lm-eval results and samples file and kept ACCEPTED."""
    folder = passing_run(tmp_path / "run")
    assert judge_run(load_run(folder)).accepted
    task = json.loads((folder / "evals" / "evals.json").read_text())["tasks"][0]
    samples = folder / task["files"]["samples"][0]
    samples.write_text("".join(samples.read_text().splitlines(keepends=True)[:10]))
    assert blocker_messages(judge_run(load_run(folder))) == [
        "readiness_basics says PASS, but its samples files hold 10 answers, not the 30 it "
        "counts (could not be judged: no evidence is no pass)"
    ]
    samples.unlink()
    [message] = blocker_messages(judge_run(load_run(folder)))
    assert f"its lm-eval output is missing ({task['files']['samples'][0]})" in message

    def no_files(document: dict[str, Any]) -> None:
        del document["tasks"][0]["files"]

    assert "lists no lm-eval output files" in blocker_messages(edited(folder, no_files))[0]


def test_a_repeated_task_counts_the_answers_of_every_run(tmp_path: Path) -> None:
    """A task measured twice keeps each run's files; its sample count is their sum."""
    first = passing_run(tmp_path / "one")
    task = json.loads((first / "evals" / "evals.json").read_text())["tasks"][0]
    runs = [{"run": 1, "files": task["files"]}, {"run": 2, "files": task["files"]}]

    def repeated(document: dict[str, Any]) -> None:
        document["tasks"][0] |= {"runs": runs, "n_samples": 60}

    assert edited(first, repeated).accepted, "30 answers in each of the two runs' files"

    def overcounted(document: dict[str, Any]) -> None:
        document["tasks"][0]["n_samples"] = 90

    assert any(
        "hold 60 answers, not the 90" in m for m in blocker_messages(edited(first, overcounted))
    )
