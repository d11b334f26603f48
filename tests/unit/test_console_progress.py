"""Progress over the whole run (issue 22, item 1): which point of how many, the time the sweep
has left, and the tokens streaming within a point (not only the requests that ended); off a
terminal, plain lines a CI log keeps."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from benchmarking import bench, progress_view
from benchmarking.client import driver
from benchmarking.progress_view import PlainLines, SweepClock, duration_text, point_work
from benchmarking.sweep import Point
from tests.helpers import CliResult, Emulator, FakeVllm, benchmarking_process, context
from workflows import bringup_line

Run = Callable[..., CliResult]


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:  # never assume a clock starts at 0
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_sweep_says_which_point_and_from_the_second_how_long_is_left() -> None:
    clock = FakeClock()
    sweep = SweepClock([100.0, 100.0, 200.0], clock)
    assert sweep.begin(0) == "point 1/3"  # no pace yet: no estimate
    clock.now += 20  # the first point, 100 units of work, took 20 s
    sweep.finish(0)
    assert sweep.begin(1) == "point 2/3 (sweep: ~1m00s left)"  # 300 units at 0.2 s each
    clock.now += 40
    sweep.finish(1)
    assert sweep.begin(2) == "point 3/3 (sweep: ~1m00s left)"  # 200 units at 0.3 s each


def test_a_points_work_counts_its_output_and_a_tenth_of_its_prompt() -> None:
    assert point_work(Point(1000, 100, 1, 4)) == 4 * (100 + 100)


@pytest.mark.parametrize(
    ("seconds", "text"), [(4.4, "4s"), (59.6, "1m00s"), (185, "3m05s"), (3720, "1h02m")]
)
def test_durations_are_short(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text


def test_off_a_terminal_a_point_is_a_start_line_heartbeats_and_an_end_line() -> None:
    out, clock = io.StringIO(), FakeClock()
    console = Console(file=out, width=40)  # narrow: the lines still do not wrap
    assert not console.is_terminal
    with PlainLines(console, "point 2/9 ISL 128 OSL 64 C 4", 8, 512, clock) as shown:
        shown.update(0, 40)
        clock.now += progress_view.HEARTBEAT_S
        shown.update(1, 130)  # one request ended, others still streaming
        clock.now += 5
        shown.update(8, 536)
    assert out.getvalue().splitlines() == [
        "point 2/9 ISL 128 OSL 64 C 4: 8 requests, ~512 tokens",
        "point 2/9 ISL 128 OSL 64 C 4: 1/8 requests, ~130 tokens streamed after 30s",
        "point 2/9 ISL 128 OSL 64 C 4: done in 35s: 8/8 requests, ~536 tokens streamed",
    ]


def test_the_counter_counts_stream_events_per_worker_slot() -> None:
    counter = driver.DoneCounter()
    first, second = driver.tally(counter, 0), driver.tally(counter, 1)
    assert first is not None and second is not None
    first.read(b'data: {"a": 1}\n\ndata: {"a": 2}\n\n')
    second.read(b'data: {"a": 3}\n\n')
    second.done()
    assert (counter.streamed, counter.value) == (3, 1)
    assert driver.tally(None, 0) is None


def test_tokens_show_while_no_request_has_ended(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One slow request (40 tokens, 50 ms apart): heartbeats count its tokens as they stream,
    long before it ends."""
    monkeypatch.setattr(progress_view, "HEARTBEAT_S", 0.5)
    url = emulator("--ttft-ms", "10", "--itl-ms", "50")
    ctx = context(url, tmp_path, isl=16, osl=40, concurrency=1, num_prompts=1)
    out = io.StringIO()
    execute = progress_view.runner(Console(file=out, width=80), "point 1/1", 1, 40)
    bench.run_point(ctx, Point(16, 40, 1, 1), execute)
    beats = [line for line in out.getvalue().splitlines() if " after " in line]
    streaming = [b for b in beats if b.startswith("point 1/1: 0/1 requests, ~")]
    assert streaming, out.getvalue()
    counts = [int(re.findall(r"~(\d+) tokens", b)[0]) for b in streaming]
    assert max(counts) > 0, "tokens counted before the request ended"
    assert out.getvalue().splitlines()[-1].startswith("point 1/1: done in ")


def test_a_sweep_in_a_ci_log_names_each_point_and_the_time_left(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "2")
    args = {"isl": 16, "osl": 8, "concurrency": "1,2", "num_prompts": 4, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "out", args)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    starts = [
        line for line in output.splitlines() if line.startswith("point ") and "~32 tok" in line
    ]
    assert starts[0].startswith("point 1/2 ISL")
    assert re.match(r"point 2/2 \(sweep: ~\d+s left\) ISL", starts[-1]), starts
    ends = [line for line in output.splitlines() if ": done in " in line]
    assert len(ends) == 2 and all("4/4 requests, ~" in line for line in ends), ends


def test_a_slow_start_says_the_seconds_waited_and_the_logs_last_line(
    run_cli: Run,
    tiny_registry: Path,
    fake_vllm: FakeVllm,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FAKE_VLLM_START_DELAY", "2")
    monkeypatch.setattr(bringup_line, "PLAIN_EVERY_S", 0.5)
    result = run_cli(
        *fake_vllm.args("--workflow", "server", "--model-specs-dir", str(tiny_registry))
    )
    assert result.code == 0, result.err
    waits = [line for line in result.out.splitlines() if line.startswith("waiting for the server:")]
    assert waits, result.out
    assert all(re.match(r"waiting for the server: \d+s of \d+s", line) for line in waits), waits
    assert any(line.endswith("; log: fake vllm: loading weights for 2s") for line in waits), waits
    assert result.out.index(waits[-1]) < result.out.index("server ready at")


def test_the_log_line_is_read_from_the_end_and_cut(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    assert bringup_line.last_line(log) == "" and bringup_line.last_line(None) == ""
    log.write_text("x" * 10_000 + "\n0.02.312 I  cmn     init: loading shard 3 of 4\n\n")
    assert bringup_line.last_line(log) == "0.02.312 I cmn init: loading shard 3 of 4"
    log.write_text("y" * 300 + "\n")
    assert bringup_line.last_line(log) == "y" * 99 + "…"


def test_off_a_terminal_the_bringup_line_is_plain_and_spaced(tmp_path: Path) -> None:
    out, clock = io.StringIO(), FakeClock()
    log = tmp_path / "server.log"
    log.write_text("compiling kernels\n")
    with bringup_line.BringUpLine(Console(file=out, width=40), log, 600, clock) as line:
        line(0.5)  # too soon for a line
        clock.now += bringup_line.PLAIN_EVERY_S
        line(15.2)
        line(15.7)  # the next one waits its turn
    assert out.getvalue().splitlines() == [
        "waiting for the server: 15s of 600s; log: compiling kernels"
    ]


def test_the_first_point_estimates_the_sweep_from_the_tokens_streamed_so_far() -> None:
    """No point has ended yet, but a quarter of the first point's tokens took 30 s: the
    sweep (the first point and a second twice its work) has about 330 s left."""
    out, clock = io.StringIO(), FakeClock()
    sweep = SweepClock([100.0, 200.0], clock)
    assert sweep.begin(0) == "point 1/2"
    console = Console(file=out, width=40)
    with PlainLines(console, "point 1/2", 8, 400, clock, sweep.during(0)) as shown:
        clock.now += progress_view.HEARTBEAT_S
        shown.update(0, 100)
    beat = out.getvalue().splitlines()[1]
    assert beat == "point 1/2: 0/8 requests, ~100 tokens streamed after 30s (sweep: ~5m30s left)"


def test_no_estimate_before_anything_streamed_and_requests_count_when_tokens_are_unknown() -> None:
    clock = FakeClock()
    sweep = SweepClock([100.0, 100.0], clock)
    sweep.begin(0)
    clock.now += 10
    assert sweep.left_during(0, 0.0) is None, "no pace yet"
    assert progress_view.share_done(2, 999, 8, None) == 0.25, "a dataset's own lengths"
    assert progress_view.share_done(2, 999, 8, 500) == 1.0, "never past the whole point"
    assert sweep.left_during(0, progress_view.share_done(4, 0, 8, None)) == pytest.approx(30.0)
