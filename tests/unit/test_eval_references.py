"""Every eval reference figure is what the reference run's own per-sample rows give."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from evals.config import Limit, Score, eval_config_for, load_eval_configs
from evals.references import derived_figures, mismatches


def test_every_stated_reference_is_re_derived_from_its_rows() -> None:
    figures = [
        figure
        for config in load_eval_configs().values()
        for task in config.tasks
        for figure in derived_figures(task)
    ]
    assert figures, "no task names its reference run's rows"
    assert mismatches(figures) == []


def test_the_cpu_models_tasks_keep_their_reference_rows() -> None:
    config = eval_config_for("HuggingFaceTB/SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct")
    assert all(task.reference_samples for task in config.tasks)


def test_a_figure_that_does_not_follow_from_the_rows_is_named(tmp_path: Path) -> None:
    rows = [{"doc_id": i, "target": "a", "response": "a", "score": float(i % 2)} for i in range(4)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    config = eval_config_for("HuggingFaceTB/SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct")
    task = replace(
        config.tasks[0],
        reference=Score(0.5, "2/4"),
        limits={"smoke": Limit(2, Score(0.9, "made up"))},
        reference_samples="rows.jsonl",
    )
    figures = derived_figures(task, evals_dir=tmp_path)
    assert [figure.matches for figure in figures] == [True, False]
    assert mismatches(figures) == [
        "readiness_basics smoke: first 2: the config states 0.9000, "
        "the reference rows give 1/2 = 0.5000"
    ]
