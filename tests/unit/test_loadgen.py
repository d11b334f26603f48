"""The load generator against the emulator, whose records say what really went over the wire.

The bounds here catch a wrong measurement (a wrong origin, gaps not split per token), with room
for a loaded machine's scheduling delays; how close the generator comes on an idle machine is
what `python -m benchmarking.selfbench` prints (docs/load-generator-accuracy.md).
"""

from __future__ import annotations

import itertools
import math
import random
import statistics
from pathlib import Path
from typing import Any

import pytest

from benchmarking import metrics
from benchmarking.client import driver
from benchmarking.client.requests import (
    CHAT,
    COMPLETIONS,
    Prompt,
    Target,
    http_request,
    request_body,
)
from benchmarking.client.result import RequestResult
from benchmarking.schedule import arrival_offsets_ns
from tests.helpers import Emulator, free_port, records


def send(
    url: str,
    count: int,
    concurrency: int,
    endpoint: str = CHAT,
    output: int = 32,
    offsets: list[int] | None = None,
) -> tuple[list[RequestResult], int]:
    target = Target.from_url(url, {})
    prompt = Prompt("w " * 64, 64, output)
    plan = driver.Plan(
        target,
        tuple(
            driver.Planned(
                i,
                http_request(target, endpoint, request_body("m", prompt, endpoint, True), str(i)),
                (offsets or [0] * count)[i],
                64,
            )
            for i in range(count)
        ),
        concurrency,
    )
    outcome = driver.run(plan)
    return outcome.results, outcome.start_ns


def truth_ttft_ms(result: RequestResult, record: dict[str, Any]) -> float:
    return float(record["chunk_ns"][0] - result.sent_ns) / 1e6


def test_one_token_chunks_chat_ttft_itl_tpot_throughput(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "40", "--itl-ms", "5")
    results, start = send(url, count=32, concurrency=8)
    truth = records(url)
    assert all(r.success for r in results)
    errors = [
        r.ttft_ms - truth_ttft_ms(r, truth[str(r.index)]) for r in results if r.ttft_ms is not None
    ]
    assert statistics.median(abs(e) for e in errors) < 5.0, errors
    gaps = [g for r in results for g in r.itl_ms]
    assert len(gaps) == 32 * 31
    wire_gaps = [
        (b - a) / 1e6
        for r in truth.values()
        for a, b in zip(r["chunk_ns"], r["chunk_ns"][1:], strict=False)
    ]
    assert statistics.fmean(gaps) == pytest.approx(statistics.fmean(wire_gaps), rel=0.05)
    for record in truth.values():  # the emulator never finishes early (it may catch up)
        assert (record["chunk_ns"][-1] - record["started_ns"]) / 1e6 >= (40 + 31 * 5) * 0.98
    tpot_errors = []
    for result in results:
        chunk_ns = truth[str(result.index)]["chunk_ns"]
        assert result.tpot_ms is not None
        tpot_errors.append(abs(result.tpot_ms - (chunk_ns[-1] - chunk_ns[0]) / 1e6 / 31))
    assert statistics.median(tpot_errors) < 0.5, "TPOT is what went on the wire (median)"
    assert max(tpot_errors) < 2.0
    assert all(r.output_tokens == r.client_output_tokens == 32 for r in results)
    end = max(r.token_ns[-1] for r in results)
    summary = metrics.summarize(results, start, end)
    wire_end = max(int(record["chunk_ns"][-1]) for record in truth.values())
    wire_throughput = 32 * 32 / ((wire_end - start) / 1e9)
    assert summary["output_throughput"] == pytest.approx(wire_throughput, rel=0.05)
    per_request_s = (40 + 31 * 5) / 1000
    assert wire_throughput <= 8 * 32 / per_request_s * 1.02, "never above the model"
    assert summary["completed"] == 32 and summary["failed"] == 0


def test_role_only_chat_chunk_does_not_count_as_first_token(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "60", "--itl-ms", "5")
    results, _ = send(url, count=4, concurrency=4)
    for result in results:
        assert result.first_chunk_ms is not None and result.ttft_ms is not None
        assert result.ttft_ms > 55, "the token comes 60 ms in, whenever the role chunk came"
        assert result.ttft_ms - result.first_chunk_ms > 30


def test_multi_token_chunks_split_gaps_per_token(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "20", "--itl-ms", "4", "--tokens-per-chunk", "4")
    results, _ = send(url, count=8, concurrency=4, endpoint=COMPLETIONS)
    truth = records(url)
    itl_errors, ttft_errors = [], []
    for result in results:
        assert result.success and result.output_tokens == 32
        assert result.server_output_tokens == 32 and result.client_output_tokens == 32
        assert len(result.itl_ms) == 32 - 1, "one ITL per token after the first"
        assert result.itl_ms[:3] == [0.0] * 3, "the first chunk's other tokens had no gap"
        chunk_ns = truth[str(result.index)]["chunk_ns"]
        wire_itl = (chunk_ns[-1] - chunk_ns[0]) / 1e6 / (32 - 4)
        itl_errors.append(abs(statistics.fmean(result.itl_ms[3:]) / wire_itl - 1))
        assert result.tpot_ms == pytest.approx(statistics.fmean(result.itl_ms), rel=1e-6)
        assert result.ttft_ms is not None
        ttft_errors.append(abs(result.ttft_ms - truth_ttft_ms(result, truth[str(result.index)])))
        assert result.ttft_ms > 20 + 3 * 4 - 2, "a 4-token chunk leaves with its 4th token"
    assert statistics.median(itl_errors) < 0.1 and max(itl_errors) < 0.3
    assert statistics.median(ttft_errors) < 5.0 and max(ttft_errors) < 20.0


def test_emulator_itl_follows_the_batch_token_by_token(emulator: Emulator) -> None:
    """A stream's tokens slow down as soon as a second stream joins it (ITL doubles here)."""
    url = emulator("--ttft-ms", "10", "--itl-ms", "5", "--batch-itl-factor", "1")
    results, _ = send(url, count=2, concurrency=2, output=40, offsets=[0, 100_000_000])
    assert all(result.success for result in results)
    first = records(url)["0"]["chunk_ns"]
    # Tokens are due on an absolute clock, so a late one is followed by a short gap: compare
    # spans over several tokens, where one late callback moves the mean by a fraction of a gap.
    alone = (first[10] - first[0]) / 1e6 / 10
    joined = (first[-1] - first[-16]) / 1e6 / 15
    assert alone >= 5.0 * 0.8 and joined >= 10.0 * 0.9, "alone: 5 ms, joined: 10 ms"
    assert joined > alone * 1.6, "the second stream slowed the first"


def test_errors_mid_stream_are_failed_requests_with_partial_data(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "10", "--itl-ms", "2", "--error-mid-stream-every", "2")
    results, start = send(url, count=8, concurrency=2)
    failed = [r for r in results if not r.success]
    assert len(failed) == 4
    for result in failed:
        assert result.error == "error in stream: injected mid-stream error"
        assert result.client_output_tokens == 16
    summary = metrics.summarize(results, start, max(r.token_ns[-1] for r in results))
    assert summary["failed"] == 4 and summary["completed"] == 4


def test_http_errors_and_refused_connections_are_data(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "1", "--fail-every", "3")
    results, _ = send(url, count=9, concurrency=3)
    failed = [r for r in results if not r.success]
    assert len(failed) == 3 and all(r.error == "HTTP 500: injected failure" for r in failed)
    nobody = f"http://127.0.0.1:{free_port()}"
    refused, _ = send(nobody, count=2, concurrency=2)
    assert all(not r.success and "connect failed" in (r.error or "") for r in refused)


def test_max_concurrency_bounds_requests_in_flight(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "20", "--itl-ms", "2")
    results, _ = send(url, count=20, concurrency=3, output=8)
    truth = list(records(url).values())
    edges = sorted(
        [(int(r["started_ns"]), 1) for r in truth] + [(int(r["chunk_ns"][-1]), -1) for r in truth]
    )
    level = peak = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    assert peak == 3
    assert metrics.max_concurrent(results) == 3


def test_poisson_arrivals_follow_the_absolute_schedule(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "1")
    offsets = arrival_offsets_ns(40, rate=40.0, burstiness=1.0, seed=7)
    results, start = send(url, count=40, concurrency=0, output=4, offsets=offsets)
    lateness_ms = sorted((r.sent_ns - start - offsets[r.index]) / 1e6 for r in results)
    # Never early by more than the wake-up margin; lateness does not pile up (the schedule is
    # absolute, not gap after gap). How few ms late on an idle machine is no unit test's to say.
    assert lateness_ms[0] > -2.0
    assert statistics.median(lateness_ms) < 10 and lateness_ms[int(0.9 * len(lateness_ms))] < 50
    achieved = (len(results) - 1) / ((results[-1].sent_ns - results[0].sent_ns) / 1e9)
    scheduled = (len(offsets) - 1) / (offsets[-1] / 1e9)
    assert achieved == pytest.approx(scheduled, rel=0.05)


def test_arrival_schedules() -> None:
    assert arrival_offsets_ns(3, math.inf) == [0, 0, 0]
    constant = arrival_offsets_ns(5, 10.0, burstiness=math.inf)
    assert constant == [0, 100_000_000, 200_000_000, 300_000_000, 400_000_000]
    poisson = arrival_offsets_ns(2000, 100.0, seed=1)
    assert poisson == arrival_offsets_ns(2000, 100.0, seed=1), "seeded: repeatable"
    assert poisson[-1] / 1e9 == pytest.approx(20.0, rel=0.1)
    gaps = [b - a for a, b in itertools.pairwise(poisson)]
    bursty = arrival_offsets_ns(2000, 100.0, burstiness=0.2, seed=1)
    bursty_gaps = [b - a for a, b in itertools.pairwise(bursty)]
    assert statistics.pstdev(bursty_gaps) > 1.5 * statistics.pstdev(gaps)


def test_percentiles_match_linear_interpolation() -> None:
    values = [random.Random(3).uniform(0, 100) for _ in range(101)]
    ordered = sorted(values)
    assert metrics.percentile(values, 50) == ordered[50]
    assert metrics.percentile([1.0, 2.0, 3.0, 4.0], 90) == pytest.approx(3.7)
    stats = metrics.distribution("ttft", [1.0, 2.0, 3.0, 4.0], (99.9,))
    assert set(stats) == {"mean_ttft_ms", "median_ttft_ms", "std_ttft_ms", "p99.9_ttft_ms"}


def test_goodput_counts_requests_meeting_every_slo(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator("--ttft-ms", "30", "--itl-ms", "2")
    results, start = send(url, count=6, concurrency=6)
    end = max(r.token_ns[-1] for r in results)
    assert metrics.summarize(results, start, end, goodput={"ttft": 1000})[
        "request_goodput"
    ] == pytest.approx(6 / ((end - start) / 1e9))
    assert metrics.summarize(results, start, end, goodput={"ttft": 1})["request_goodput"] == 0
    with pytest.raises(ValueError, match="use ttft:MS"):
        metrics.parse_goodput("latency:5")
