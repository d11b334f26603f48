"""A limited run is held to the reference run's own answers: a healthy greedy server gives them
again, a broken one strays, even where its score would pass."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from evals.agreement import compare
from evals.config import Limit, Score, load_eval_configs
from evals.plan import plan_task
from evals.task_result import scored_row
from tests.helpers import EVAL_TASK, lm_eval_results

ANSWERS = ["paris", "42", "blue", "cat", "yes", "seven"]


def write_rows(folder: Path, answers: list[str]) -> str:
    rows = [{"doc_id": i, "target": a, "response": a, "score": 1.0} for i, a in enumerate(answers)]
    (folder / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return "rows.jsonl"


def write_samples(path: Path, answers: list[str]) -> Path:
    rows = [{"doc_id": i, "filtered_resps": [answer]} for i, answer in enumerate(answers)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def scored(tmp_path: Path, answers: list[str], most: int, score: float = 0.9) -> dict[str, object]:
    """A smoke run of a task scoring `score` (well above its reference) with these answers."""
    results = tmp_path / "results.json"
    results.write_text(json.dumps(lm_eval_results({"exact_match,strict-match": score}, n=6)))
    limit = Limit(6, Score(40.0, "first 6"), max_disagreements=most)
    task = replace(
        EVAL_TASK,
        reference_samples=str(tmp_path / "rows.jsonl"),
        limits=MappingProxyType({"smoke": limit}),
    )
    write_rows(tmp_path, ANSWERS)
    plan = plan_task(task, "llama_cpp", 4096, 8, "smoke", {})
    samples = write_samples(tmp_path / "samples.jsonl", answers)
    return scored_row(plan, results, {}, [samples])


def test_the_reference_runs_answers_again_pass(tmp_path: Path) -> None:
    row = scored(tmp_path, ANSWERS, most=1)
    assert row["status"] == "PASS"
    assert row["agreement"] == {"compared": 6, "differ": 0, "max_differ": 1, "passed": True}


def test_answers_that_stray_fail_even_with_a_passing_score(tmp_path: Path) -> None:
    strayed = ["paris", "43", "red", "cat", "no", "seven"]
    row = scored(tmp_path, strayed, most=1)
    assert row["status"] == "FAIL"
    assert "3 of 6 answers differ from the reference run's, more than the 1 allowed" in str(
        row["reason"]
    )
    assert "documents 1, 2, 4" in str(row["reason"])


def test_whitespace_alone_is_no_disagreement() -> None:
    agreement = compare({0: "a  b"}, {0: "a b"}, 0)
    assert (agreement.differ, agreement.passed) == (0, True)
    assert not compare({}, {0: "a"}, 5).passed, "nothing compared is no evidence"


def test_a_limit_needs_reference_rows_to_hold_answers_to(tmp_path: Path) -> None:
    from evals.config import _load_file
    from workflows.registry.schema import RegistryError

    config = tmp_path / "x.yaml"
    config.write_text(
        "models:\n  - weights: a/b\n    tasks:\n      - task: qa\n"
        "        model_type: local-completions\n        output_type: generate_until\n"
        "        result_keys: ['exact_match,none']\n        unit: fraction\n"
        "        limits: {smoke: {samples: 30, max_disagreements: 3}}\n"
    )
    with pytest.raises(RegistryError, match="needs the task's reference_samples"):
        _load_file(config)


def test_the_cpu_release_holds_readiness_basics_to_its_reference_answers() -> None:
    config = load_eval_configs()["HuggingFaceTB/SmolLM2-135M-Instruct"]
    task = next(task for task in config.tasks if task.task == "readiness_basics")
    assert task.limits["smoke"].max_disagreements is not None
