"""ShareGPT prompts follow vLLM's filtering rules, repeatably."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarking.datasets import ShareGPTDataset, WordTokenizer
from benchmarking.settings import settings_from
from benchmarking.sweep import plan_sweep


def conversation(prompt_words: int, reply_words: int, turns: int = 2) -> dict[str, object]:
    messages = [
        {"from": "human", "value": " ".join(["ask"] * prompt_words)},
        {"from": "gpt", "value": " ".join(["say"] * reply_words)},
    ]
    return {"id": "x", "conversations": messages[:turns]}


@pytest.fixture
def sharegpt_file(tmp_path: Path) -> Path:
    entries = [
        conversation(5, 6),
        conversation(2, 10),
        conversation(10, 3),
        conversation(1100, 5),
        conversation(1000, 1100),
        conversation(8, 9, turns=1),
        conversation(7, 20),
    ]
    path = tmp_path / "sharegpt.json"
    path.write_text(json.dumps(entries))
    return path


def test_filtering_rules_and_oversampling(sharegpt_file: Path) -> None:
    prompts = ShareGPTDataset(sharegpt_file, seed=1).prompts(5, WordTokenizer())
    kept = {(p.prompt_tokens, p.output_tokens) for p in prompts}
    assert kept == {(5, 6), (7, 20)}, "too short, too long and one-turn entries are dropped"
    assert len(prompts) == 5
    again = ShareGPTDataset(sharegpt_file, seed=1).prompts(5, WordTokenizer())
    assert [p.text for p in again] == [p.text for p in prompts]


def test_fixed_output_length_overrides_the_reply(sharegpt_file: Path) -> None:
    prompts = ShareGPTDataset(sharegpt_file, output_len=16).prompts(3, WordTokenizer())
    assert {p.output_tokens for p in prompts} == {16}
    assert (10, 16) in {(p.prompt_tokens, p.output_tokens) for p in prompts}


def test_sharegpt_sweep_runs_each_concurrency_level() -> None:
    settings = settings_from({"dataset": "sharegpt", "concurrency": "1,4"})
    points = plan_sweep(4096, 8, settings)
    assert [(p.concurrency, p.num_prompts) for p in points] == [(1, 8), (4, 32)]


def test_a_truncated_file_keeps_its_complete_conversations(tmp_path: Path) -> None:
    text = json.dumps([conversation(5, 6), conversation(7, 8), conversation(9, 9)], indent=2)
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.rfind('"ask')])  # the last conversation is cut mid-value
    prompts = ShareGPTDataset(cut).prompts(2, WordTokenizer())
    assert {(p.prompt_tokens, p.output_tokens) for p in prompts} == {(5, 6), (7, 8)}
