"""Correctness under load (the answers_under_load spec test): temperature-0 answers given all at
once at max_concurrency are those given one at a time, for the spec's share of prompts; a
server whose answers change with load fails, naming each prompt with both answers, in the
result file and in every report format."""

from __future__ import annotations

import html
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import requests

from benchmarking.emulator.openai_fields import LOADED_TOKEN_TEXT, TOKEN_TEXT
from evals.spec_tests.checks_load import (
    MAX_TOKENS,
    Answer,
    Comparison,
    answers_under_load,
    failure_message,
    leads_of,
    load_prompts,
    tokens_of,
)
from evals.spec_tests.client import Client, Json
from evals.spec_tests.suite import Suite
from evals.spec_tests.verdict import CheckFailed
from reports.build import render_run
from tests.helpers import Emulator
from tests.run_folders import passing_run, spec_check
from tests.unit.test_registry import GOOD_TEMPLATE, write_registry
from tests.unit.test_spec_tests import FAST, run_suite
from workflows.registry.loader import load_registry
from workflows.registry.schema import RegistryError

ONLY = ("--only", "answers_under_load")
KEY = "spec_tests:answers_under_load"  # its key among the acceptance checks
CHANGED_PROMPT = "Question 3: The largest planet in the solar system is"


@dataclass(frozen=True)
class ShiftingClient(Client):
    """Answers every prompt the same each time, but CHANGED_PROMPT differently the second time
    (its answer at concurrency); token ids like llama.cpp's, in chat-shaped logprobs."""

    asked: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def post(self, path: str, body: Any, timeout: float = 0) -> Json:
        prompt = str(body["prompt"])
        with self.lock:
            self.asked[prompt] = self.asked.get(prompt, 0) + 1
            second = self.asked[prompt] == 2
        ids = [7042, 30] if not (second and prompt == CHANGED_PROMPT) else [7042, 11]
        text = " Jupiter." if ids[1] == 30 else " Jupiter,"
        tops = [{"id": 1, "logprob": -0.5}, {"id": 2, "logprob": -0.52}]  # a near tie
        content = [{"id": t, "token": "x", "logprob": -0.5, "top_logprobs": tops} for t in ids]
        return {"choices": [{"text": text, "logprobs": {"content": content}}]}


def shifting_suite(min_share: float) -> Suite:
    return Suite(ShiftingClient("http://unused", "m"), "llama_cpp", 4096, 8, None, min_share)


def test_one_changed_answer_of_eight_passes_at_a_share_of_0_875_and_says_so() -> None:
    found = answers_under_load(shifting_suite(0.875))
    assert found["note"] == (
        "7 of 8 answers at concurrency 8 are those given alone "
        "(share 0.875, needs 0.875; compared by tokens)"
    )
    assert found["match_by_prompt"] == {p: p != CHANGED_PROMPT for p in load_prompts(8)}
    assert found["differing"] == {
        CHANGED_PROMPT: {
            "alone": " Jupiter.",
            "together": " Jupiter,",
            "first_differing_token": 2,
            "lead_alone": 0.02,
        }
    }


def test_one_changed_answer_fails_a_spec_that_wants_every_answer() -> None:
    with pytest.raises(CheckFailed) as failed:
        answers_under_load(shifting_suite(1.0))
    assert failed.value.message == (
        "7 of 8 answers at concurrency 8 are those given alone (share 0.875, needs 1.000; "
        f'compared by tokens); differing: "{CHANGED_PROMPT}": alone " Jupiter.", '
        'together " Jupiter," (token 2 differs; alone it led the next by 0.020 logprob)'
    )
    assert failed.value.evidence["share"] == 0.875


def test_answers_are_compared_by_tokens_and_by_text_only_without_tokens() -> None:
    same_text = Comparison(["p"], [Answer(" a", (1, 2))], [Answer(" a", (3,))])
    assert (same_text.compared, same_text.matches()) == ("tokens", [False])
    assert 'alone " a" (tokens [1, 2]), together " a" (tokens [3])' in failure_message(same_text, 1)
    no_tokens = Comparison(["p"], [Answer(" a", (1, 2))], [Answer(" a", None)])
    assert (no_tokens.compared, no_tokens.matches()) == ("text", [True])


def test_where_two_answers_part_and_by_how_much_the_token_alone_led() -> None:
    alone = Answer(" a b c", (1, 2, 3), (5.0, 0.01, None))
    assert alone.first_difference(Answer(" a x c", (1, 9, 3))) == 1
    assert alone.lead_at(1) == 0.01, "a near tie"
    assert alone.first_difference(Answer(" a b", (1, 2))) == 2, "the shorter ends"
    assert alone.lead_at(2) is None and alone.first_difference(Answer(" a b c", None)) is None
    assert leads_of({"logprobs": {"top_logprobs": [{" a": -0.1, " b": -0.4}, None]}}) == (
        0.3,
        None,
    )


def test_tokens_are_read_from_each_engines_answer_shape() -> None:
    assert tokens_of({"token_ids": [5, 6]}) == (5, 6)  # vLLM's return_token_ids
    assert tokens_of({"logprobs": {"content": [{"id": 5, "token": " a"}]}}) == (5,)  # llama.cpp
    assert tokens_of({"logprobs": {"tokens": [" a", " b"]}}) == (" a", " b")  # OpenAI's legacy
    assert tokens_of({"logprobs": None, "text": " a"}) is None


def test_a_prompt_per_request_in_flight_each_its_own() -> None:
    prompts = load_prompts(32)
    assert len(set(prompts)) == 32
    assert prompts[8] == "Question 9: The capital of France is"


def test_the_healthy_emulator_gives_the_same_answers_together(
    emulator: Emulator, tmp_path: Path
) -> None:
    code, output, document = run_suite(emulator(*FAST), tmp_path / "out", *ONLY)
    assert code == 0, output
    check = document["by_name"]["answers_under_load"]
    assert check["status"] == "PASS"
    assert check["message"].startswith("8 of 8 answers at concurrency 8 are those given alone")
    assert check["evidence"]["compared"] == "tokens"
    assert check["evidence"]["differing"] == {}


def test_an_emulator_whose_answers_vary_with_load_fails_naming_prompts_and_answers(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Every request is in flight for 500 ms, so the eight sent together share the server."""
    url = emulator("--ttft-ms", "500", "--itl-ms", "1", "--answers-vary-with-load")
    code, output, document = run_suite(url, tmp_path / "out", *ONLY)
    assert code == 1, output
    check = document["by_name"]["answers_under_load"]
    assert check["status"] == "FAIL"
    differing = check["evidence"]["differing"]
    assert differing, check
    alone, together = TOKEN_TEXT * MAX_TOKENS, LOADED_TOKEN_TEXT * MAX_TOKENS
    for prompt, answers in differing.items():
        assert answers == {
            "alone": alone,
            "together": together,
            "first_differing_token": 1,
            "lead_alone": 2.4,  # the emulator's " tok" (-0.1) over " tik" (-2.5)
        }
        assert f'"{prompt}": alone "{alone}", together "{together}"' in check["message"]
    assert check["evidence"]["match_by_prompt"] == {p: p not in differing for p in load_prompts(8)}


def test_the_emulators_streams_vary_with_load_too(emulator: Emulator) -> None:
    """Alone, a stream says the usual word; two streams at once (each 300 ms long) another."""
    url = emulator("--ttft-ms", "300", "--itl-ms", "1", "--answers-vary-with-load")

    def streamed(prompt: str) -> str:
        body = {"model": "m", "prompt": prompt, "max_tokens": 4, "stream": True}
        reply = requests.post(f"{url}/v1/completions", json=body, stream=True, timeout=30)
        events = [line[6:] for line in reply.iter_lines() if line.startswith(b"data: {")]
        return "".join(json.loads(event)["choices"][0]["text"] for event in events)

    assert streamed("alone") == TOKEN_TEXT * 4
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(streamed, ["one", "two"])) == [LOADED_TOKEN_TEXT * 4] * 2


def test_every_report_format_names_the_differing_prompt_with_both_answers(
    tmp_path: Path,
) -> None:
    comparison = Comparison(
        [CHANGED_PROMPT, "Question 1: The capital of France is"],
        [Answer(" Jupiter.", (1,)), Answer(" Paris", (2,))],
        [Answer(" Saturn.", (3,)), Answer(" Paris", (2,))],
    )
    message = failure_message(comparison, 0.75)
    run = passing_run(tmp_path / "run", checks=[spec_check("answers_under_load", "FAIL", message)])
    rendered = render_run(run)
    expected = f'"{CHANGED_PROMPT}": alone " Jupiter.", together " Saturn."'
    assert rendered.report["acceptance"]["verdict"] != "ACCEPTED"
    assert expected in rendered.report["acceptance_blockers"][KEY]
    written = json.loads(rendered.files["json"].read_text())
    assert expected in written["acceptance_blockers"][KEY]
    [row] = [c for c in written["spec_tests"]["checks"] if c["name"] == "answers_under_load"]
    assert expected in row["message"]
    assert expected in markdown_text(rendered.files["markdown"].read_text())
    assert expected in html.unescape(rendered.files["html"].read_text())
    junit = ElementTree.parse(rendered.files["junit"]).getroot()
    [case] = junit.findall(f".//testcase[@name='{KEY}']")
    failure = case.find("failure")
    assert failure is not None
    assert expected in (failure.get("message") or "") + (failure.text or "")


def markdown_text(markdown: str) -> str:
    """Markdown as a reader sees it: backslash escapes undone."""
    return markdown.replace("\\", "")


def test_the_share_a_spec_needs_is_registry_data(tmp_path: Path) -> None:
    cpu = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    assert 0 < cpu.answers_under_load_min_share < 1, "measured on llama.cpp's batched decoding"
    assert load_registry().find("Llama-3.1-8B-Instruct", "n150").answers_under_load_min_share == 1
    bad = write_registry(tmp_path, GOOD_TEMPLATE + "        answers_under_load_min_share: 1.5\n")
    with pytest.raises(RegistryError, match="field 'answers_under_load_min_share': expected a"):
        load_registry(bad)
