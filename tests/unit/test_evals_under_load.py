"""An eval score measured under benchmark traffic beside the score alone (issue 21, part 3): the
paired test, the under-load block of an eval row, its verdict, and how the reports show it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from benchmarking.emulator.answer_key import AnswerKey
from benchmarking.emulator.openai_fields import LOADED_TOKEN_TEXT, answer, under_load
from evals.config import Limit
from evals.paired import PairingError, one_sided_p, pair, sample_outcomes
from evals.plan import TaskPlan
from evals.table import evals_table, reason_lines
from reports.acceptance import judge_run
from reports.build import render_run
from reports.run_data import load_run
from reports.status import Status
from tests.run_folders import RunSpec, eval_task, passing_run
from workflows import evals_under_load
from workflows.errors import UsageError
from workflows.registry.model_spec import PerfTarget

KEYS = ("exact_match,strict-match",)


def samples_file(path: Path, right: list[int], docs: int) -> Path:
    """lm-eval's samples file: `docs` documents, those in `right` answered right."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"doc_id": doc, "filter": "strict-match", "exact_match": float(doc in right)}
        for doc in range(docs)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


# ---- the paired test ---------------------------------------------------------------------------


def test_the_one_sided_p_value_is_the_exact_binomial_tail() -> None:
    assert one_sided_p(5, 0) == pytest.approx(1 / 32)
    assert one_sided_p(3, 0) == pytest.approx(1 / 8)
    assert one_sided_p(4, 1) == pytest.approx(6 / 32)
    assert one_sided_p(0, 0) == 1.0


def test_only_documents_that_moved_decide_and_five_to_none_is_a_drop(tmp_path: Path) -> None:
    alone = sample_outcomes([samples_file(tmp_path / "a.jsonl", list(range(12)), 24)], KEYS)
    fewer = sample_outcomes([samples_file(tmp_path / "b.jsonl", list(range(7)), 24)], KEYS)
    paired = pair(alone, fewer)
    assert (paired.samples, paired.worse, paired.better) == (24, 5, 0)
    assert paired.dropped and paired.p_value == pytest.approx(1 / 32)
    four_fewer = sample_outcomes([samples_file(tmp_path / "c.jsonl", list(range(8)), 24)], KEYS)
    assert not pair(alone, four_fewer).dropped  # p = 1/16: not significant at 0.05


def test_flips_both_ways_are_no_drop(tmp_path: Path) -> None:
    alone = sample_outcomes([samples_file(tmp_path / "a.jsonl", list(range(0, 12)), 24)], KEYS)
    moved = sample_outcomes([samples_file(tmp_path / "b.jsonl", list(range(6, 18)), 24)], KEYS)
    paired = pair(alone, moved)
    assert (paired.worse, paired.better, paired.dropped) == (6, 6, False)


def test_only_the_documents_of_both_runs_are_paired(tmp_path: Path) -> None:
    alone = sample_outcomes([samples_file(tmp_path / "a.jsonl", [0, 1, 2], 60)], KEYS)
    loaded = sample_outcomes([samples_file(tmp_path / "b.jsonl", [0, 1, 2], 24)], KEYS)
    assert pair(alone, loaded).samples == 24
    with pytest.raises(PairingError, match="no document"):
        pair(alone, {})


def test_a_score_that_is_not_right_or_wrong_cannot_be_paired() -> None:
    with pytest.raises(PairingError, match="other than 0 or 1"):
        pair({0: 0.5}, {0: 1.0})


def test_samples_of_another_filter_are_not_read(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    rows = [
        {"doc_id": 0, "filter": "strict-match", "exact_match": 1.0},
        {"doc_id": 0, "filter": "flexible-extract", "exact_match": 0.0},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert sample_outcomes([path], KEYS) == {0: 1.0}


# ---- the under-load block ----------------------------------------------------------------------


def traffic(**changes: Any) -> dict[str, Any]:
    files = {"log": "evals/t/under_load/traffic/traffic.log", "results": None}
    return {"concurrency": 8, "isl": 128, "osl": 32, "waves": 3, "completed": 24, "failed": 0,
            "ended_early": None, "cut_at_the_end": True, "files": files,
            "server_peak": {"running": 8.0, "waiting": 8.0, "scrapes": 20}} | changes  # fmt: skip


def plan_for(samples: int | None = 60, chosen: tuple[int, ...] | None = None) -> TaskPlan:
    task = dataclasses.replace(_any_task(), result_keys=KEYS)
    return TaskPlan(task, "smoke", Limit(samples=samples), chosen, 8, 4096, 16)


def _any_task() -> Any:
    from evals.config import eval_config_for

    return eval_config_for("HuggingFaceTB/SmolLM2-135M-Instruct", "SmolLM2-135M-Instruct").tasks[0]


def rows_for(
    run: Path, alone_right: list[int], loaded_right: list[int]
) -> tuple[dict[str, Any], dict[str, Any]]:
    alone = samples_file(run / "evals/t/a.jsonl", alone_right, 60)
    loaded = samples_file(run / "evals/t/under_load/b.jsonl", loaded_right, 24)
    alone_row = {"score": 0.5, "n_samples": 60, "files": {"samples": [str(alone.relative_to(run))]}}
    row = {"score": 0.4, "n_samples": 24, "files": {"samples": [str(loaded.relative_to(run))]}}
    return alone_row, row


def test_a_drop_under_load_fails_and_the_same_answers_pass(tmp_path: Path) -> None:
    alone, row = rows_for(tmp_path, list(range(12)), list(range(2)))
    block = evals_under_load.compared(tmp_path, plan_for(), alone, row, traffic())
    assert block["status"] is Status.FAIL and block["worse"] == 10
    assert (block["alone_score"], block["score"]) == (0.5, pytest.approx(2 / 24))
    assert "a significant drop; 10 went wrong and 0 right" in block["reason"]
    assert block["traffic"]["completed"] == 24
    alone, row = rows_for(tmp_path, list(range(12)), list(range(12)))
    block = evals_under_load.compared(tmp_path, plan_for(), alone, row, traffic())
    assert block["status"] is Status.PASS and "no significant drop" in block["reason"]
    assert block["interval_95"][0] < 0.5 < block["interval_95"][1]


def test_traffic_that_ended_before_the_eval_is_an_error(tmp_path: Path) -> None:
    alone, row = rows_for(tmp_path, [0], [0])
    load = traffic(ended_early=1)
    block = evals_under_load.compared(tmp_path, plan_for(), alone, row, load)
    assert block["status"] is Status.ERROR
    assert "the benchmark traffic ended before the eval did (exit 1" in block["reason"]


def test_an_eval_that_failed_under_load_is_an_error(tmp_path: Path) -> None:
    alone, _ = rows_for(tmp_path, [0], [0])
    row = {"status": "ERROR", "reason": "lm-eval exited 1: boom", "files": {}}
    block = evals_under_load.compared(tmp_path, plan_for(), alone, row, traffic())
    assert block["status"] is Status.ERROR
    assert block["reason"] == "lm-eval under load: lm-eval exited 1: boom"


def test_the_second_run_takes_the_first_documents_of_the_first() -> None:
    assert evals_under_load.loaded_plan(plan_for(60), 60, 24).limit.samples == 24
    assert evals_under_load.loaded_plan(plan_for(None), 10, 24).limit.samples == 10
    chosen = evals_under_load.loaded_plan(plan_for(None, (5, 9, 2)), 3, 2)
    assert chosen.samples == (5, 9)


def test_the_traffic_has_the_shape_of_the_busiest_target_point() -> None:
    spec = dataclasses.replace(
        _cpu_spec(),
        perf_reference=(PerfTarget(128, 32, 1), PerfTarget(256, 64, 4), PerfTarget(64, 8, 2)),
    )
    assert evals_under_load.traffic_shape(spec) == (256, 64)
    assert evals_under_load.traffic_shape(dataclasses.replace(spec, perf_reference=())) == (
        128,
        128,
    )


def _cpu_spec() -> Any:
    from workflows.registry.loader import load_registry

    return load_registry().find("SmolLM2-135M-Instruct", "cpu")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ({"under_load": "some"}, "under_load=some: expected one of first, all, none"),
        ({"under_load_samples": 0}, "under_load_samples must be a whole number of 1 or more"),
    ],
)
def test_bad_under_load_arguments_are_refused(args: dict[str, Any], said: str) -> None:
    with pytest.raises(UsageError, match=said):
        evals_under_load.choice(args)
        evals_under_load.sample_count(args)


# ---- the verdict and the reports ---------------------------------------------------------------


def loaded_block(status: str, reason: str) -> dict[str, Any]:
    return {
        "status": status, "reason": reason, "n_samples": 24, "score": 0.1, "alone_score": 0.5,
        "interval_95": [0.02, 0.3], "alone_interval_95": [0.3, 0.7], "worse": 10, "better": 0,
        "p_value": 0.001, "test": "McNemar", "traffic": traffic(), "files": {},
    }  # fmt: skip


def run_with(tmp_path: Path, block: dict[str, Any], **spec: Any) -> Path:
    task = eval_task("readiness_basics", "PASS", under_load=block)
    return passing_run(tmp_path, tasks=[task], spec=RunSpec(**spec))


def test_a_drop_under_load_blocks_the_release(tmp_path: Path) -> None:
    acceptance = judge_run(load_run(run_with(tmp_path, loaded_block("FAIL", "a drop"))))
    assert not acceptance.accepted
    assert [(b.key, b.message) for b in acceptance.blockers] == [
        (
            "evals:readiness_basics.under_load",
            "readiness_basics under benchmark traffic: a drop",
        )
    ]


def test_a_known_issue_naming_the_task_waives_its_drop(tmp_path: Path) -> None:
    issue = {"workflow": "evals", "task": "readiness_basics", "reason": "batching bug #12"}
    folder = run_with(tmp_path, loaded_block("FAIL", "a drop"), known_issues=[issue])
    acceptance = judge_run(load_run(folder))
    assert acceptance.accepted and [w.key for w in acceptance.waived] == [
        "evals:readiness_basics.under_load"
    ]


def test_no_drop_passes_and_an_unmeasured_load_blocks(tmp_path: Path) -> None:
    healthy = judge_run(load_run(run_with(tmp_path / "a", loaded_block("PASS", "no drop"))))
    assert healthy.accepted
    checks = {key: outcome for c in healthy.categories for key, outcome, _ in c.checks}
    assert checks["evals:readiness_basics.under_load"] == "PASS"
    broken = judge_run(load_run(run_with(tmp_path / "b", loaded_block("ERROR", "no traffic"))))
    assert [b.key for b in broken.blockers] == ["evals:readiness_basics.under_load"]
    assert "could not be judged" in broken.blockers[0].message


def test_every_report_format_shows_both_scores(tmp_path: Path) -> None:
    rendered = render_run(run_with(tmp_path, loaded_block("FAIL", "a significant drop")))
    task = rendered.report["evals"]["tasks"][0]
    assert task["under_load"]["score"] == 0.1 and task["under_load"]["alone_score"] == 0.5
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "#### Evals under benchmark traffic" in markdown
    assert "| readiness_basics | FAIL | 24 | 0.5000 | [0.300, 0.700] | 0.1000 |" in markdown
    html = (tmp_path / "report" / "report.html").read_text()
    assert "<h3>Evals under benchmark traffic</h3>" in html and "0.1000" in html
    assert (
        "24 requests in 3 whole waves, the last cut when the eval ended, 0 failed; the server "
        "held up to 8 running and 8 waiting" in markdown
    )


def test_a_report_without_a_load_measurement_has_no_such_table(tmp_path: Path) -> None:
    render_run(passing_run(tmp_path))
    assert "under benchmark traffic" not in (tmp_path / "report" / "report.md").read_text()


def test_the_console_table_shows_the_score_under_load_and_the_drop() -> None:
    from rich.console import Console

    row = eval_task("readiness_basics", "PASS", under_load=loaded_block("FAIL", "a drop"))
    console = Console(width=120, record=True)
    console.print(evals_table([row], "evals"))
    text = console.export_text()
    assert "loaded" in text and "10.0% DROP" in text and "PASS " in text
    assert "  readiness_basics under load: a drop" in reason_lines([row])
    errored = eval_task("chat_basics", "PASS", under_load=loaded_block("ERROR", "no traffic"))
    assert "  chat_basics under load: ERROR: no traffic" in reason_lines([errored])


# ---- the emulator's answers --------------------------------------------------------------------


def test_the_emulator_answers_from_its_key_and_otherwise_under_load(tmp_path: Path) -> None:
    key_file = tmp_path / "key.jsonl"
    key_file.write_text(json.dumps({"question": "What is 2 + 2?", "answer": "4"}) + "\n")
    key = AnswerKey(key_file)
    prompt = "Question: What is 1 + 1?\nAnswer: 2\n\nQuestion: What is 2 + 2?\nAnswer:"
    assert key.words(prompt) == (" 4",)
    assert key.words("Question: unknown\nAnswer:") == () and AnswerKey().words(prompt) == ()
    said = answer({"stop": ["\n"]}, 16, False, key.words(prompt))
    assert said.text == " 4"
    assert under_load(said).text == LOADED_TOKEN_TEXT


# ---- the release, and the traffic's start and end ----------------------------------------------


def release(args: str) -> Any:
    from workflows.run_config import RunConfig
    from workflows.workflow_args import parse_workflow_args

    return RunConfig(
        model="SmolLM2-135M-Instruct", device="cpu", workflow="release", local_server=True,
        workflow_args=parse_workflow_args(args),
    )  # fmt: skip


def test_a_release_measures_its_first_task_under_load_unless_told_not_to() -> None:
    from workflows.workflow_evals import EVALS
    from workflows.workflow_release import child_config, narrowing

    spec = _cpu_spec()
    evals = child_config(release(""), "evals", spec)
    assert evals.workflow_args["under_load"] == "first"
    assert {venv.name for venv in EVALS.environments(evals)} == {"evals", "benchmarks"}
    assert (
        child_config(release("evals.under_load=all"), "evals", spec).workflow_args["under_load"]
        == "all"
    )
    assert narrowing(release(""), spec) == []
    assert narrowing(release("evals.under_load=none"), spec) == ["evals.under_load=none"]
    alone = child_config(release("evals.under_load=none"), "evals", spec)
    assert [venv.name for venv in EVALS.environments(alone)] == ["evals"]


def test_endurance_traffic_ends_after_the_window_in_flight_once_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from benchmarking import stress
    from benchmarking.sweep import Point

    told = {"stop": False}
    windows: list[int] = []

    def run_window(ctx: Any, point: Any, execute: Any, window: int = 0) -> dict[str, object]:
        windows.append(window)
        told["stop"] = window == 3  # the runner says stop while window 3 runs
        return {**dict.fromkeys(stress.WINDOW_KEYS, 0), "prompt_cache_hit": False}

    monkeypatch.setattr(stress, "run_point", run_window)
    stress.endurance(
        _stress_context(tmp_path), Point(8, 4, 2, 2), 3600.0, lambda label: None,  # type: ignore[arg-type,return-value]
        clock=lambda: 0.0, stop=lambda: told["stop"],
    )  # fmt: skip
    assert windows == [1, 2, 3]
    saved = json.loads((tmp_path / "stress_endurance.json").read_text())
    assert len(saved["windows"]) == 3


def _stress_context(folder: Path) -> Any:
    from benchmarking.bench import Context
    from benchmarking.settings import Settings
    from reports.results import Identity

    identity = Identity("run", "model-id", "model", "cpu", "model")
    return Context(None, "model", Settings(seed=1), None, folder, identity, "stress_test")  # type: ignore[arg-type]


def test_the_load_generator_holds_its_first_request_until_told(tmp_path: Path) -> None:
    import threading

    from benchmarking.__main__ import wait_for_start

    waiter = threading.Thread(target=wait_for_start, args=(tmp_path / "start", 0.01))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive(), "it went before it was told"
    (tmp_path / "start").touch()
    waiter.join(5)
    assert not waiter.is_alive()


@pytest.mark.parametrize(("status", "fails"), [("PASS", False), ("FAIL", True), ("ERROR", True)])
def test_the_evals_workflow_fails_on_a_drop_or_an_unmeasured_load(status: str, fails: bool) -> None:
    from evals.task_result import failed

    row = eval_task("readiness_basics", "PASS", under_load=loaded_block(status, "why"))
    assert failed([row]) is fails


def test_the_servers_peak_while_the_traffic_ran_is_read_from_its_metrics(tmp_path: Path) -> None:
    samples = tmp_path / "server_metrics.jsonl"
    lines = [
        {"gauges": {"running": 8.0, "waiting": 2.0}},
        {"gauges": {"running": 8.0, "waiting": 7.0}},
        {"gauges": {"running": None, "waiting": None}},  # a scrape the server did not answer
    ]
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert evals_under_load.server_peak(samples) == {"running": 8.0, "waiting": 7.0, "scrapes": 3}
    assert evals_under_load.server_peak(tmp_path / "none.jsonl") is None
