"""Prefix-cache benchmarks (each point without and with a shared prompt prefix) against the
emulator's block-wise prefix cache, and the client's CPU time recorded beside every point."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarking import bench, report
from benchmarking.client import driver
from benchmarking.client_cpu import busy_client_notes
from benchmarking.datasets import MultiTurnDataset, SharedPrefixDataset, WordTokenizer
from benchmarking.settings import SettingsError, settings_from
from benchmarking.sweep import Point
from tests.helpers import Emulator, context, records


def in_process(plan: driver.Plan, total: int) -> driver.RunOutcome:
    del total
    return driver.run(plan)


def test_shared_prefix_prompts_begin_alike_and_have_exact_lengths() -> None:
    tokenizer = WordTokenizer()
    prompts = SharedPrefixDataset(64, 8, 48, seed=3).prompts(5, tokenizer)
    words = [prompt.text.split() for prompt in prompts]
    assert all(len(w) == 64 and p.prompt_tokens == 64 for w, p in zip(words, prompts, strict=True))
    assert len({tuple(w[:48]) for w in words}) == 1, "one shared prefix"
    assert len({tuple(w[48:]) for w in words}) == 5, "each prompt ends its own way"


def test_a_point_measured_with_and_without_a_shared_prefix(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "1", "--itl-ms", "1", "--prefill-ms-per-token", "2")
    ctx = context(url, tmp_path, prefix_cache="shared", warmups=1)
    point = Point(96, 4, 1, 4)
    none = bench.run_point(ctx, point, in_process, prefix="none")
    shared = bench.run_point(ctx, point, in_process, prefix="shared")
    assert none["prefix_cache"] == {"mode": "shared", "variant": "none", "shared_prefix_tokens": 0}
    assert shared["prefix_cache"] == {
        "mode": "shared",
        "variant": "shared",
        "shared_prefix_tokens": 72,
    }
    assert none["cached_share"] == 0.0
    assert shared["cached_share"] == pytest.approx(64 / 96)  # 72 shared words: 4 blocks of 16
    assert float(str(shared["mean_ttft_ms"])) < 0.6 * float(str(none["mean_ttft_ms"]))
    served = records(url)
    assert {r["cached_tokens"] for k, r in served.items() if "prefix-shared" in k} == {64}
    [note] = report.prefix_cache_notes([none, shared])
    assert note.startswith("prefix cache, ISL 96 OSL 4 C 1: TTFT ")
    assert "with 72 shared tokens" in note and "67% of the shared variant's prompt tokens" in note
    names = sorted(path.name for path in tmp_path.glob("*.json"))
    assert names == [
        "benchmark_isl-96_osl-4_maxcon-1_n-4_prefix-none.json",
        "benchmark_isl-96_osl-4_maxcon-1_n-4_prefix-shared.json",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"prefix_cache": "turns"}, "use shared"),
        ({"prefix_cache": "shared", "dataset": "sharegpt"}, "dataset=random only"),
        ({"prefix_cache": "shared", "prefix_share": 1.0}, "between 0 and 1"),
        ({"prefix_cache": "shared", "tool": "aiperf"}, "does not take prefix_cache"),
    ],
)
def test_prefix_cache_settings_are_checked(args: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(args)


def test_every_point_records_the_clients_cpu_time(emulator: Emulator, tmp_path: Path) -> None:
    ctx = context(emulator("--ttft-ms", "2", "--itl-ms", "1"), tmp_path)
    document = bench.run_point(ctx, Point(16, 8, 2, 8), in_process)
    cpu, share = document["client_cpu_s"], document["client_cpu_share"]
    assert isinstance(cpu, float) and cpu > 0
    assert isinstance(share, float) and 0 < share <= 1
    [flagged] = busy_client_notes([document], report.point_label, limit=0.0)
    assert flagged.startswith("ISL 16 OSL 8 C 2: the load generator used ")
    assert busy_client_notes([document], report.point_label, limit=1.0) == []


def test_multi_turn_prompts_extend_their_conversation() -> None:
    prompts = MultiTurnDataset(60, 4, conversations=2, seed=1).prompts(6, WordTokenizer())
    lengths = [p.prompt_tokens for p in prompts]
    assert lengths == [20, 20, 40, 40, 60, 60]  # turn by turn, across the conversations
    for first, second in ((0, 2), (2, 4), (1, 3), (3, 5)):  # each turn resends the last
        assert prompts[second].text.startswith(prompts[first].text)
    baseline = MultiTurnDataset(60, 4, 2, seed=1, shared=False).prompts(6, WordTokenizer())
    assert [p.prompt_tokens for p in baseline] == lengths
    assert not baseline[2].text.startswith(baseline[0].text)


def test_multi_turn_conversations_are_served_from_the_cache(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "1", "--itl-ms", "1", "--prefill-ms-per-token", "2")
    ctx = context(url, tmp_path, prefix_cache="multi_turn", warmups=0)
    point = Point(96, 4, 2, 8)
    none = bench.run_point(ctx, point, in_process, prefix="none")
    turns = bench.run_point(ctx, point, in_process, prefix="multi_turn")
    assert turns["prefix_cache"] == {"mode": "multi_turn", "variant": "multi_turn", "turns": 4}
    assert none["cached_share"] == 0.0 and float(str(turns["cached_share"])) > 0.4
    assert float(str(turns["mean_ttft_ms"])) < float(str(none["mean_ttft_ms"]))
    [note] = report.prefix_cache_notes([none, turns])
    assert "with 4-turn conversations" in note


def test_random_prompts_of_one_run_never_repeat_one_another() -> None:
    """Each prompt starts at its own place in the seed's word pool: two from one start would be
    the same prompt, and the second a prompt-cache hit (CI saw a 0.25 cached share once)."""
    from benchmarking.datasets import RandomDataset

    prompts = RandomDataset(16, 4, seed=11).prompts(2000, WordTokenizer())
    texts = [prompt.text for prompt in prompts]
    assert len(set(texts)) == len(texts), "2000 windows of a 4096-word pool: no start twice"
    again = RandomDataset(16, 4, seed=11).prompts(2000, WordTokenizer())
    assert [prompt.text for prompt in again] == texts, "the seed still decides every prompt"
