"""Load shapes beyond a concurrency level, against the emulator with known timings: several
request rates in one run, time-limited points with warm-up and cool-down trimming, rate ramps,
and the search for the highest load that meets the goodput SLOs. The achieved rate is requests
sent per second, first send to last."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from benchmarking import bench, report
from benchmarking.capacity import Bisection, bisect
from benchmarking.client import driver
from benchmarking.search_args import Search
from benchmarking.settings import SettingsError, settings_from
from benchmarking.stress_plan import stress_plan
from benchmarking.sweep import Point, at_rates, point_seed
from reports.build import render_run
from reports.requirements import check_requirements
from reports.results import write_json
from tests.helpers import Emulator, benchmarking_process, context, point_files
from tests.run_folders import Measured, benchmark_document, passing_run, write_point

RATE_TOLERANCE = 0.05  # achieved vs asked, constant arrivals, over a second or more of sends


def test_a_rate_sweep_measures_each_rate_as_a_point_of_its_own(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "2")
    out = tmp_path / "out"
    args = {
        "rate": "20,40,inf", "burstiness": "inf", "isl": 16, "osl": 4, "concurrency": 64,
        "num_prompts": 41, "warmups": 0, "seed": 5,
    }  # fmt: skip
    process = benchmarking_process(url, out, args)
    console, _ = process.communicate(timeout=120)
    assert process.returncode == 0, console
    documents = {d["request_rate"]: (d, rows) for d, rows in point_files(out)}
    assert set(documents) == {20.0, 40.0, "inf"}
    for rate in (20.0, 40.0):
        document, rows = documents[rate]
        assert len(rows) == 41 and document["completed"] == 41
        assert document["achieved_rate"] == pytest.approx(rate, rel=RATE_TOLERANCE)
        span_s = (max(r["sent_ns"] for r in rows) - min(r["sent_ns"] for r in rows)) / 1e9
        assert span_s == pytest.approx(40 / rate, rel=RATE_TOLERANCE)
    names = sorted(p.name for p in out.glob("benchmark_*[0-9].json"))
    assert names == [
        "benchmark_isl-16_osl-4_maxcon-64_n-41.json",
        "benchmark_isl-16_osl-4_maxcon-64_n-41_rate-20.json",
        "benchmark_isl-16_osl-4_maxcon-64_n-41_rate-40.json",
    ]
    all_at_once = documents["inf"][0]
    assert all_at_once["achieved_rate"] is None, "rate=inf asks no rate: none achieved"
    assert all_at_once["achieved_rate_reason"].startswith("rate=inf: every request is due at once")
    assert documents[20.0][0]["achieved_rate_reason"] is None
    table = console[console.index("benchmarks") :]
    assert "rate" in table and "asked" in table
    rows_shown = [  # a point's row; its interval line under it may start "16" too (16-17 ms)
        line.split() for line in table.splitlines() if line.split()[:3] == ["16", "4", "64"]
    ]
    assert [row[3] for row in rows_shown] == ["20", "40", "inf"], table


def test_rates_multiply_the_sweep_points_and_give_each_its_own_prompts() -> None:
    settings = settings_from({"rate": "2,1,2", "burstiness": 0.5}, draw=lambda: 7)
    assert settings.rate == (2.0, 1.0), "each rate once, in the order given"
    assert settings_from({}, draw=lambda: 7).rate == (math.inf,)
    points = at_rates([Point(16, 4, 1, 8), Point(16, 4, 4, 8)], settings.rate)
    assert [(p.concurrency, p.rate) for p in points] == [(1, 2.0), (1, 1.0), (4, 2.0), (4, 1.0)]
    seeds = {point_seed(7, p) for p in points}
    assert len(seeds) == 4, "the same prompts at two rates would be served from a prompt cache"
    assert point_seed(7, Point(16, 4, 1, 8)) == point_seed(7, Point(16, 4, 1, 8, math.inf))


def in_process(label: str) -> bench.Progress:
    del label
    return lambda plan, total: driver.run(plan)


def test_a_timed_point_sends_for_its_duration_and_trims_warmup_and_cooldown(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "2")
    args = {"duration": 2, "warmup_s": 0.5, "cooldown_s": 0.5, "warmups": 1, "seed": 3}
    document = bench.run_point(
        context(url, tmp_path, "benchmark", **args), Point(16, 4, 2, 8), in_process("point")
    )
    [(saved, rows)] = point_files(tmp_path)
    assert saved == document
    assert (tmp_path / "benchmark_isl-16_osl-4_maxcon-2_duration-2.json").is_file()
    sent_s = [row["start_ms"] / 1e3 for row in rows]
    assert max(sent_s) < 2.0, "nothing is sent after the duration"
    assert max(sent_s) > 1.8 and len(rows) > 40, "a closed loop keeps sending until then"
    assert len(rows) == document["num_prompts"] and all(row["success"] for row in rows)
    for row, at in zip(rows, sent_s, strict=True):
        assert row["trimmed"] == ("warmup" if at < 0.5 else "cooldown" if at >= 1.5 else None)
    kept = [row for row in rows if row["trimmed"] is None]
    assert document["completed"] == len(kept) < len(rows)
    shape = saved["load_shape"]
    assert shape["sent"] == len(rows) and shape["duration_s"] == 2
    assert shape["trimmed_warmup"] + shape["trimmed_cooldown"] == len(rows) - len(kept)
    assert shape["trimmed_warmup"] > 0 and shape["trimmed_cooldown"] > 0
    assert shape["ran_out"] is False, "it made prompts enough for its duration"
    kept_ttft = sum(row["ttft_ms"] for row in kept) / len(kept)
    assert document["mean_ttft_ms"] == pytest.approx(kept_ttft), "statistics of the kept ones"


def test_a_timed_point_at_a_rate_sends_what_arrives_within_its_duration(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "2")
    args = {"duration": 2, "rate": 40, "burstiness": "inf", "cooldown_s": 0.25}
    bench.run_point(
        context(url, tmp_path, "benchmark", **args),
        Point(16, 4, 8, 8, rate=40.0),
        in_process("point"),
    )
    [(document, rows)] = point_files(tmp_path)
    assert len(rows) == 80, "40/s for 2 s, constant arrivals"
    assert document["achieved_rate"] == pytest.approx(40, rel=RATE_TOLERANCE)
    cooled = sum(row["trimmed"] == "cooldown" for row in rows)
    # Those due in the last 0.25 s (10) are sent no earlier than due; on a busy machine a send
    # may slip into that window too, so a late one counts against the upper bound.
    late = sum(row["queue_ms"] > 5 for row in rows)
    assert 9 <= cooled <= 11 + late, "those sent in the last 0.25 s (by when each was really sent)"
    assert document["completed"] == 80 - cooled


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"warmup_s": 1}, "warmup_s and cooldown_s trim a timed point: give duration=SECONDS"),
        ({"duration": 10, "warmup_s": 6, "cooldown_s": 4}, "leave nothing of duration=10"),
        ({"duration": 0}, "duration: expected a positive number of seconds"),
        ({"duration": 5, "cooldown_s": -1}, "cooldown_s: expected a number of seconds, 0 or"),
        ({"duration": 5, "warmups": 0}, "duration with rate=inf (all at once) needs warmups"),
    ],
)
def test_timed_point_arguments_that_do_not_fit_are_refused(
    args: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from(args)
    assert message in str(error.value)
    assert settings_from({"duration": 5, "warmups": 0, "num_prompts": 9}).shape.duration_s == 5


def test_a_timed_linear_ramp_records_the_rate_it_asked_and_achieved_each_second(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "2")
    args = {"duration": 3, "ramp": "linear", "ramp_start": 10, "ramp_end": 50}
    ctx = context(url, tmp_path, "benchmark", **args, burstiness="inf")
    bench.run_point(ctx, Point(16, 4, 64, 8), in_process("point"))
    [(document, rows)] = point_files(tmp_path)
    assert (
        tmp_path / "benchmark_isl-16_osl-4_maxcon-64_duration-3_ramp-linear-10-50.json"
    ).exists()
    # r(t) = 10 + 40 t / 3: 16.7, 30 and 43.3 requests in the three seconds, 90 in all
    assert len(rows) == pytest.approx(90, abs=2) and document["request_rate"] == "ramp"
    shape = document["load_shape"]
    assert (shape["ramp"], shape["ramp_start_rps"], shape["ramp_end_rps"]) == ("linear", 10, 50)
    seconds = shape["rate_over_time"]
    assert [s["t_s"] for s in seconds] == [0, 1, 2]
    for second, expected in zip(seconds, (16.7, 30.0, 43.3), strict=True):
        assert second["asked_rps"] == pytest.approx(expected, abs=1.5)
        assert second["achieved_rps"] == pytest.approx(second["asked_rps"], abs=2)
    assert report.asked_text(document) == "10-50"


def test_a_counted_exponential_ramp_moves_its_rate_by_request(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "2")
    args = {"ramp": "exponential", "ramp_start": 5, "ramp_end": 40, "burstiness": "inf"}
    bench.run_point(
        context(url, tmp_path, "benchmark", **args), Point(16, 4, 64, 25), in_process("p")
    )
    [(document, rows)] = point_files(tmp_path)
    # when each request was due: its send time less its lateness (queue_ms), so a busy machine
    # that sends one late does not move the schedule under test
    due_ms = sorted(row["start_ms"] - row["queue_ms"] for row in rows)
    gaps = [b - a for a, b in itertools.pairwise(due_ms)]
    # request i's gap is 1 / (5 * 8 ** (i / 24)) s: 200 ms first, 27 ms last
    assert gaps[0] == pytest.approx(200, rel=0.01) and gaps[-1] == pytest.approx(27, abs=1)
    assert sum(gaps) / 1e3 == pytest.approx(
        sum(1 / (5 * 8 ** (i / 24)) for i in range(24)), rel=0.01
    )
    assert document["load_shape"]["rate_over_time"][0]["asked_rps"] >= 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"ramp": "linear", "ramp_start": 1}, "ramp=linear needs ramp_start=RPS and ramp_end=RPS"),
        ({"ramp": "sine", "ramp_start": 1, "ramp_end": 2}, "ramp=sine: use linear or exponential"),
        ({"ramp": "linear", "ramp_start": 1, "ramp_end": 2, "rate": 4}, "leave rate out"),
        ({"ramp_end": 2}, "ramp_start and ramp_end belong to a ramp"),
        ({"ramp": "exponential", "ramp_start": 0, "ramp_end": 2}, "ramp_start: expected a pos"),
    ],
)
def test_ramp_arguments_that_do_not_fit_are_refused(args: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from(args)
    assert message in str(error.value)


CAPACITY_KEYS = {
    "schema_version", "kind", "run_id", "model_id", "model", "device", "served_model", "date",
    "isl", "osl", "search_over", "concurrency", "goodput", "min_share", "low", "high", "found",
    "bracket", "limited_by", "share_interval_95", "tried",
}  # fmt: skip


def test_a_goodput_search_finds_the_emulators_slot_count(
    emulator: Emulator, tmp_path: Path
) -> None:
    """4 slots, TTFT 20 ms, a request 55 ms: up to 4 streams every TTFT is about 20 ms; a fifth
    waits for a slot (TTFT about 75 ms), so past 4 fewer than 90% meet TTFT <= 40 ms."""
    url = emulator("--ttft-ms", "20", "--itl-ms", "5", "--slots", "4")
    out = tmp_path / "out"
    args = {"search": "goodput", "goodput": "ttft:40", "isl": 16, "osl": 8, "seed": 2}
    process = benchmarking_process(url, out, args)
    console, _ = process.communicate(timeout=180)
    assert process.returncode == 0, console
    capacity = json.loads((out / "capacity_isl-16_osl-8.json").read_text())
    assert set(capacity) == CAPACITY_KEYS and capacity["kind"] == "capacity_search"
    assert capacity["found"] == 4 and capacity["bracket"] == [4, 5]
    tried = [t["load"] for t in capacity["tried"]]
    assert tried == [1, 8, 4, 6, 5], "the bounds (1, the spec's max 8), then halving"
    assert [t["met"] for t in capacity["tried"]] == [True, False, True, False, False]
    low, high = capacity["share_interval_95"]
    assert low < 1 <= high, "the goodput share's 95% interval at the answer"
    files = {t["file"] for t in capacity["tried"]}
    assert files == {p.name for p in out.glob("benchmark_*[0-9].json")}, "each load a point"
    assert "concurrency 4 (met at 4, missed at 5)" in console


def test_bisection_over_a_rate_narrows_to_its_tolerance() -> None:
    search = Search(over="rate", low=1, high=100, tolerance=0.05, points=12)
    found = bisect(search, 100, lambda load: load <= 37.5)
    assert found.met is not None and found.missed is not None
    assert 37.5 / 1.05 <= found.met <= 37.5 < found.missed <= found.met * 1.05
    assert found.tried[:2] == (1, 100) and len(found.tried) <= 12
    assert bisect(search, 100, lambda load: True) == Bisection(100, None, (1, 100))
    assert bisect(search, 100, lambda load: False) == Bisection(None, 1, (1,))
    capped = bisect(
        Search(over="rate", low=1, high=100, tolerance=0.001, points=4), 100, lambda x: x < 5
    )
    assert len(capped.tried) == 4, "search_points bounds the points measured"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"search": "goodput"}, "search=goodput needs the SLOs it meets: give goodput="),
        ({"search": "latency", "goodput": "ttft:9"}, "search=latency: use goodput"),
        ({"search": "goodput", "goodput": "ttft:9", "concurrency": 4}, "leave concurrency out"),
        ({"search": "goodput", "goodput": "ttft:9", "search_over": "rate"}, "needs search_high"),
        (
            {"search": "goodput", "goodput": "ttft:9", "search_low": 8, "search_high": 4},
            "search_high (4) must be above search_low (8)",
        ),
        ({"search_low": 2}, "search_low belong to a search: give search=goodput"),
        ({"search": "goodput", "goodput": "ttft:9", "goodput_min": 2}, "goodput_min: expected"),
    ],
)
def test_search_arguments_that_do_not_fit_are_refused(
    args: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError) as error:
        settings_from(args)
    assert message in str(error.value)


def test_a_search_beside_the_sweep_takes_the_sweeps_concurrency() -> None:
    """A release with `capacity:` (search_with_sweep) narrowed to concurrency=1: the sweep
    measures concurrency 1, the search still sets its own loads."""
    args = {"search": "goodput", "goodput": "ttft:9", "concurrency": 1, "search_with_sweep": True}
    settings = settings_from(args)
    assert settings.concurrency == (1,)
    assert settings.search is not None and settings.search.with_sweep


def test_reports_show_each_rate_and_judge_targets_on_the_closed_loop_point(
    tmp_path: Path,
) -> None:
    folder = passing_run(tmp_path / "run")
    slow = benchmark_document(Measured(ttft_ms=90_000.0)) | {"request_rate": 2.0}
    bench = folder / "benchmarks"
    write_point(bench / "benchmark_isl-128_osl-32_maxcon-1_rate-2.json", slow, Measured())
    rendered = render_run(folder)
    rows = rendered.report["benchmarks"]
    assert [(row["concurrency"], row["request_rate"]) for row in rows][:2] == [(1, 2.0), (1, None)]
    assert "Rate (RPS)" in rendered.files["markdown"].read_text()
    assert (
        rendered.report["acceptance"]["verdict"]
        == render_run(passing_run(tmp_path / "alone")).report["acceptance"]["verdict"]
    ), "a target is judged on the closed-loop point, not at 2/s"


RAMP = {"request_rate": "ramp", "load_shape": {"ramp": "linear", "ramp_start_rps": 1.0,
                                                "ramp_end_rps": 8.0}}  # fmt: skip


def test_a_ramp_point_is_neither_sorted_nor_judged_nor_compared_as_the_closed_loop(
    tmp_path: Path,
) -> None:
    """A ramp at a target's (ISL, OSL, concurrency), 1000 times slower: listed after the rates
    and before the closed-loop point, its goodput keyed and labelled as a ramp, the target
    judged on the closed-loop point alone (a run with only the ramp has it not measured), and
    a comparison lines up the closed-loop points only."""
    folder = passing_run(tmp_path / "run")
    slow = benchmark_document(Measured(ttft_ms=90_000.0))
    bench = folder / "benchmarks"
    write_point(bench / "benchmark_isl-128_osl-32_maxcon-1_ramp.json", slow | RAMP, Measured())
    write_point(
        bench / "benchmark_isl-128_osl-32_maxcon-1_rate-2.json",
        slow | {"request_rate": 2.0},
        Measured(),
    )
    rendered = render_run(folder, tmp_path / "run")  # compared with itself: nothing changed
    rows = rendered.report["benchmarks"]
    assert [row["request_rate"] for row in rows] == [2.0, "ramp", None]
    passing = render_run(passing_run(tmp_path / "alone")).report["acceptance"]
    targets = rendered.report["target_checks"]
    assert targets[0]["measured"]["ttft_ms"] == 80.0, "the closed-loop point's TTFT"
    compared = [r for r in rendered.report["comparison"]["rows"] if r["metric"] == "TTFT (ms)"]
    assert [(r["before"], r["now"]) for r in compared] == [(80.0, 80.0)]
    only_ramp = passing_run(tmp_path / "ramp")
    for path in (only_ramp / "benchmarks").glob("benchmark_*.json"):
        write_json(path, json.loads(path.read_text()) | RAMP)
    missing = render_run(only_ramp).report
    assert missing["target_checks"][0]["measured"] is None
    assert missing["acceptance"]["verdict"] != passing["verdict"]
    slo = {"slo": {"ttft_ms": 1000}, "goodput": {"min_share": 0.5, "priority": "must"}}
    saved = check_requirements(slo, "slo.yaml")
    (folder / "requirements.json").write_text(json.dumps(saved))
    graded = render_run(folder).report["acceptance"]["requirements"]
    goodput = {g["key"]: g["where"] for g in graded}
    assert (
        goodput["goodput:isl-128_osl-32_conc-1_ramp"] == "ISL 128 OSL 32 concurrency 1 ramp 1-8/s"
    )


def test_a_search_beside_the_sweep_keeps_its_points_apart(
    emulator: Emulator, tmp_path: Path
) -> None:
    """What a release with `capacity:` runs: its sweep's points, then the search's in search/
    (its targets and failed requests are judged on the sweep's alone)."""
    url = emulator("--ttft-ms", "20", "--itl-ms", "5", "--slots", "2")
    out = tmp_path / "out"
    args = {
        "search": "goodput", "goodput": "ttft:40", "search_with_sweep": True, "isl": 16,
        "osl": 8, "num_prompts": 8, "search_high": 4, "seed": 4,
    }  # fmt: skip
    process = benchmarking_process(url, out, args)
    console, _ = process.communicate(timeout=180)
    assert process.returncode == 0, console
    swept = sorted(p.name for p in out.glob("benchmark_*[0-9].json"))
    assert swept == [
        "benchmark_isl-16_osl-8_maxcon-1_n-8.json",
        "benchmark_isl-16_osl-8_maxcon-8_n-8.json",
    ]
    capacity = json.loads((out / "capacity_isl-16_osl-8.json").read_text())
    assert capacity["found"] == 2 and capacity["bracket"] == [2, 3]
    assert {t["file"] for t in capacity["tried"]} == {
        p.name for p in (out / "search").glob("benchmark_*[0-9].json")
    }


def test_a_stress_single_point_runs_at_each_rate(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "2")
    out = tmp_path / "out"
    args = {
        "run_mode": "single", "isl": 16, "osl": 4, "concurrency": 8, "num_prompts": 21,
        "rate": "20,inf", "burstiness": "inf", "warmups": 0, "seed": 6,
    }  # fmt: skip
    process = benchmarking_process(url, out, args, mode="stress_tests")
    console, _ = process.communicate(timeout=120)
    assert process.returncode == 0, console
    documents = {d["request_rate"]: d for d, _ in point_files(out)}
    assert set(documents) == {20.0, "inf"} and documents[20.0]["kind"] == "stress_test"
    assert documents[20.0]["achieved_rate"] == pytest.approx(20, rel=RATE_TOLERANCE)
    with pytest.raises(SettingsError, match="an endurance run repeats one point"):
        stress_plan({"duration": 60, "rate": "1,2"}, 4096, 8)


def test_without_a_warmup_the_first_send_is_measured_even_stamped_before_the_start() -> None:
    """CI saw it: the first send stamped a hair before the point's start (a negative offset) was
    trimmed as warm-up though warmup_s was 0, and the point reported one request too few."""
    from benchmarking.load_shape import trimmed_as
    from benchmarking.shape_args import LoadShape

    no_warmup = LoadShape(duration_s=2.0, warmup_s=0.0, cooldown_s=0.25)
    assert trimmed_as(no_warmup, -50_000) is None
    assert trimmed_as(no_warmup, 1_800_000_000) == "cooldown"
    warmup = LoadShape(duration_s=2.0, warmup_s=0.5, cooldown_s=0.0)
    assert trimmed_as(warmup, -50_000) == "warmup" and trimmed_as(warmup, 600_000_000) is None
