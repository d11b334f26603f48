"""No measured request hits a prompt cache the user did not ask for: endurance windows get
fresh prompts, and result files record the prompt tokens the server took from its cache."""

from __future__ import annotations

from pathlib import Path

from benchmarking import bench, metrics, report, stress
from benchmarking.client import driver
from benchmarking.client.connection import RawResponse
from benchmarking.client.result import build_result
from benchmarking.sweep import Point
from tests.helpers import Emulator, context, records

STREAM = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 9999\r\n\r\n"
    b'data: {"choices": [{"index": 0, "delta": {"content": " tok"}}]}\n\n'
)


def in_process(label: str) -> bench.Progress:
    del label
    return lambda plan, total: driver.run(plan)


def streamed(final_chunk: bytes) -> RawResponse:
    data = STREAM + b"data: " + final_chunk + b"\n\ndata: [DONE]\n\n"
    return RawResponse(sent_ns=0, reads=[(1_000, data)])


def test_cached_prompt_tokens_are_read_as_vllm_and_llama_cpp_report_them() -> None:
    usage = (
        b'{"choices": [], "usage": {"prompt_tokens": 40, "completion_tokens": 1, '
        b'"prompt_tokens_details": {"cached_tokens": 32}}}'
    )
    llama_cpp = b'{"choices": [], "timings": {"cache_n": 12, "prompt_n": 28}}'
    for chunk, cached in ((usage, 32), (llama_cpp, 12)):
        result = build_result(0, streamed(chunk), 0, 40, driver.count_words)
        assert result.success and result.cached_tokens == cached


def test_endurance_windows_send_fresh_prompts(emulator: Emulator, tmp_path: Path) -> None:
    """Windows repeat until the duration has passed on the endurance clock: here one far from
    its origin that moves 1 s per window, so the count does not depend on the machine's load."""
    url = emulator("--ttft-ms", "2", "--itl-ms", "1")
    ctx = context(url, tmp_path, kind="stress_test")
    now = [5000.0]

    def one_second_per_window(label: str) -> bench.Progress:
        now[0] += 1.0
        return in_process(label)

    endurance = stress.endurance(
        ctx, Point(24, 4, 2, 4), 2.5, one_second_per_window, clock=lambda: now[0]
    )
    windows = endurance["windows"]
    assert isinstance(windows, list)
    assert [w["elapsed_s"] for w in windows] == [1.0, 2.0, 3.0], "the last one is past 2.5 s"
    assert len({w["prompt_seed"] for w in windows}) == len(windows), "a seed per window"
    assert [w["cached_share"] for w in windows] == [0.0] * len(windows)
    assert all(r["cached_tokens"] == 0 for r in records(url).values()), "no prompt sent twice"
    assert endurance["prompt_cache_hit"] is False


def test_a_point_served_from_the_cache_says_so(emulator: Emulator, tmp_path: Path) -> None:
    ctx = context(emulator("--ttft-ms", "2", "--itl-ms", "1"), tmp_path)
    point = Point(24, 4, 2, 4)
    cold = bench.run_point(ctx, point, in_process("cold"))
    again = bench.run_point(ctx, point, in_process("again"))  # the same seed: the same prompts
    assert (cold["prompt_cache_hit"], cold["cached_share"], cold["total_cached_tokens"]) == (
        False,
        0.0,
        0,
    )
    assert (again["prompt_cache_hit"], again["cached_share"]) == (True, 1.0)
    assert again["total_cached_tokens"] == 4 * 24
    [note] = report.cache_notes([cold, again])
    assert note.startswith("ISL 24 OSL 4 C 2: 100% of the prompt tokens came from the server's")


def test_a_cached_chat_template_is_no_prompt_cache_hit() -> None:
    """llama.cpp keeps a chat template's system prompt cached: 23 of 60 tokens for a 32-token
    prompt. Only the prompt's own tokens count; all 60 cached is a hit."""
    template_only = metrics.cache_summary([(32, 60, 23)] * 4)
    assert (template_only["cached_share"], template_only["prompt_cache_hit"]) == (0.0, False)
    assert template_only["total_cached_tokens"] == 4 * 23
    sent_again = metrics.cache_summary([(32, 60, 60), (32, 60, 23)])
    assert (sent_again["cached_share"], sent_again["prompt_cache_hit"]) == (0.5, True)
    assert metrics.cache_summary([(32, None, None)])["cached_share"] is None, "not reported"
