"""Verdicts decided with statistics: each benchmark point carries a 95% interval from its
requests, a target check is decided by where that interval lies, and a check it cannot decide is
MARGINAL in every report format and on the console. Measured against the emulator with a known,
seeded jitter (each request's TTFT times a factor in [0.5, 1.5]), so the spread is far larger
than anything the machine's load adds."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from rich.console import Console

from benchmarking import __main__ as benchmarks_main
from benchmarking import bench, intervals, report
from benchmarking.client import driver
from benchmarking.settings import SettingsError, settings_from
from benchmarking.sweep import Point
from reports.build import render_run
from reports.charts import benchmark_charts
from reports.run_data import Point as ResultPoint
from reports.targets import TargetPoint, check_targets
from tests.helpers import Emulator, context
from tests.run_folders import Measured, eval_task, passing_run
from workflows.report_console import tell

JITTERY = (
    "--ttft-ms",
    "200",
    "--itl-ms",
    "2",
    "--jitter",
    "0.5",
    "--jitter-seed",
    "11",
)  # mean factor of the first 12 draws: 1.001
POINT = Point(16, 4, 1, 12)


def in_process(plan: driver.Plan, total: int) -> driver.RunOutcome:
    del total
    return driver.run(plan)


def measured(url: str, out: Path) -> dict[str, object]:
    return bench.run_point(context(url, out, seed=11), POINT, in_process)


def ttft_check(document: dict[str, object], target_ms: float, out: Path) -> TargetPoint:
    spec = {
        "status": "functional",
        "perf_tiers": {"functional": 1.0},
        "perf_reference": [{"isl": 16, "osl": 4, "concurrency": 1, "ttft_ms": target_ms}],
    }
    [point] = check_targets(spec, [ResultPoint(document, out / "point.json")])
    return point


def decisions(document: dict[str, object], out: Path) -> list[tuple[str, bool]]:
    """(check, marginal) of TTFT against targets clearly above, on and clearly below the
    emulator's mean TTFT of 200 ms."""
    checks = []
    for target in (400.0, 200.0, 100.0):
        [tier] = ttft_check(document, target, out).tiers
        check = next(c for c in tier.checks if c.metric == "ttft_ms")
        checks.append((check.check, check.marginal))
    return checks


def test_a_point_carries_an_interval_around_its_mean(emulator: Emulator, tmp_path: Path) -> None:
    document = measured(emulator(*JITTERY), tmp_path)
    interval = document["interval_95"]
    assert isinstance(interval, dict)
    low, high = interval["mean_ttft_ms"]
    assert low < float(document["mean_ttft_ms"]) < high  # type: ignore[arg-type]
    assert 10 < high - low < 150, "12 requests of 200 ms +-50%: tens of ms wide"
    assert document["interval_method"] == (
        "percentile bootstrap over requests, 1000 resamples, seed 0"
    )
    on_disk = json.loads(next(tmp_path.glob("benchmark_*_n-12.json")).read_text())
    assert on_disk["interval_95"] == interval


def test_clearly_above_clearly_below_and_on_the_line(emulator: Emulator, tmp_path: Path) -> None:
    """Target 400 ms: the interval lies below it, PASS; 100 ms: above it, FAIL; 200 ms (the
    emulator's own mean): across it, decided by the mean and MARGINAL. The same seed gives
    the same decisions again."""
    first = decisions(measured(emulator(*JITTERY), tmp_path / "a"), tmp_path)
    again = decisions(measured(emulator(*JITTERY), tmp_path / "b"), tmp_path)
    assert [first[0], first[2]] == [("PASS", False), ("FAIL", False)]
    assert first[1][1] is True, "on the line: the interval straddles 200 ms"
    assert again == first


def test_without_jitter_the_interval_is_narrow_and_decides(
    emulator: Emulator, tmp_path: Path
) -> None:
    document = measured(emulator("--ttft-ms", "200", "--itl-ms", "2"), tmp_path)
    low, high = document["interval_95"]["mean_ttft_ms"]  # type: ignore[index]
    assert high - low < 10


def test_too_few_successful_requests_give_no_interval_and_no_pass() -> None:
    rows: list[dict[str, object]] = [
        {"success": True, "ttft_ms": 10.0, "tpot_ms": 1.0, "e2el_ms": 20.0, "output_tokens": 8}
    ]
    rows += [{"success": False, "ttft_ms": None, "tpot_ms": None, "e2el_ms": None}] * 5
    fields = intervals.interval_fields([intervals.Repeat(rows, 100.0)])
    assert fields["interval_95"] == dict.fromkeys(intervals.FIGURES)
    assert "fewer than 3 successful requests" in str(fields["interval_note"])


def test_the_interval_of_the_same_requests_is_the_same() -> None:
    rows = [
        {"success": True, "ttft_ms": t, "tpot_ms": t / 10, "e2el_ms": t * 2, "output_tokens": 8}
        for t in (90.0, 110.0, 100.0, 130.0, 70.0)
    ]
    first = intervals.bootstrap([intervals.Repeat(rows, 40.0)])
    assert first == intervals.bootstrap([intervals.Repeat(rows, 40.0)])
    low, high = first["mean_ttft_ms"]  # type: ignore[misc]
    assert 70.0 <= low < 100.0 < high <= 130.0


def test_repeats_widen_the_interval_by_their_spread() -> None:
    """Two runs whose means differ by 40 ms: the interval over both covers the spread between
    them, which the requests of one run cannot show."""

    def run(ttft: float) -> intervals.Repeat:
        rows = [
            {"success": True, "ttft_ms": ttft + d, "e2el_ms": 100.0, "output_tokens": 8}
            for d in (-1.0, 0.0, 1.0, 2.0)
        ]
        return intervals.Repeat(rows, 40.0)

    low, high = intervals.bootstrap([run(100.0), run(140.0)])["mean_ttft_ms"]  # type: ignore[misc]
    assert low < 101.0 and high > 139.0
    assert "over 2 repeats" in intervals.method(2)


def marginal_run(folder: Path) -> Path:
    """TTFT 990 ms against the functional target of 1000 ms, +-5%: straddles, passes by mean."""
    return passing_run(folder, points=[Measured(ttft_ms=990.0, spread=0.05)])


def test_a_marginal_check_shows_first_in_every_format(tmp_path: Path) -> None:
    rendered = render_run(marginal_run(tmp_path / "run"))
    report: dict[str, Any] = rendered.report
    [finding] = report["acceptance"]["marginal"]
    assert "MARGINAL PASS: TTFT 990 ms (95% interval [940, 1040])" in finding["message"]
    markdown = rendered.files["markdown"].read_text()
    assert markdown.index("#### Marginal") < markdown.index("#### Blockers")
    assert "Verdict: ACCEPTED ✅ (1 marginal: decided by the mean)" in markdown
    assert "PASS ✅ MARGINAL" in markdown and "990 [940, 1040]" in markdown
    html = rendered.files["html"].read_text()
    assert html.index('id="marginal"') < html.index("<h3>Blockers</h3>")
    cases = ElementTree.parse(rendered.files["junit"]).getroot().iter("testcase")
    flagged = [c.get("name") for c in cases if c.find("properties/property") is not None]
    assert flagged == ["benchmarks:isl-128_osl-32_conc-1.functional.ttft_ms_check"]
    assert "mean_ttft_ms_ci95_low" in rendered.files["csv"].read_text().splitlines()[0]


def test_the_console_names_a_marginal_check_before_anything_else(tmp_path: Path) -> None:
    out = io.StringIO()
    tell(Console(file=out, width=300), render_run(marginal_run(tmp_path / "run")))
    lines = out.getvalue().splitlines()
    bottom = next(i for i, line in enumerate(lines) if line.startswith("╰"))
    assert lines[1].strip("│ ").endswith(": ACCEPTED"), "the panel's first line: the verdict"
    after = lines[bottom + 1]  # the first line under the verdict's panel
    assert after.startswith("  marginal: ISL 128 OSL 32 concurrency 1, functional tier")
    assert "straddles the target 1000" in after and "decided by the mean, within it" in after


def test_html_charts_draw_each_points_interval_as_error_bars(tmp_path: Path) -> None:
    report = render_run(marginal_run(tmp_path / "run")).report
    ttft = next(plot for plot in benchmark_charts(report) if plot["id"].startswith("plot-ttft_ms"))
    bars = ttft["data"][0]["error_y"]
    assert bars["array"][0] > 0 and bars["arrayminus"][0] > 0


def spec_with_ttft_target(target_ms: float, **more: object) -> dict[str, Any]:
    return {
        "status": "functional",
        "perf_tiers": {"functional": 1.0},
        "perf_reference": [{"isl": 16, "osl": 4, "concurrency": 1, "ttft_ms": target_ms}],
        **more,
    }


def measured_point(url: str, out: Path, spec: dict[str, Any], repeat: int = 1) -> dict[str, Any]:
    """The benchmarks child's way to measure a point: repeats on request or on a straddle."""
    ctx = context(url, out, seed=11, repeat=repeat)
    console = Console(file=io.StringIO())
    return benchmarks_main.measured(ctx, console, POINT, None, lambda label: in_process, spec)


def repeat_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.glob("benchmark_*_repeat-*[0-9].json"))


def ttft_decision(document: dict[str, Any], spec: dict[str, Any], out: Path) -> tuple[str, bool]:
    [point] = check_targets(spec, [ResultPoint(document, out / "point.json")])
    check = next(c for c in point.tiers[0].checks if c.metric == "ttft_ms")
    return check.check, check.marginal


@pytest.mark.parametrize(
    ("target", "expected"), [(400.0, ("PASS", False)), (100.0, ("FAIL", False))]
)
def test_a_point_its_interval_decides_is_measured_once(
    emulator: Emulator, tmp_path: Path, target: float, expected: tuple[str, bool]
) -> None:
    spec = spec_with_ttft_target(target)
    document = measured_point(emulator(*JITTERY), tmp_path, spec)
    assert ttft_decision(document, spec, tmp_path) == expected
    assert repeat_files(tmp_path) == [] and document["repeats"] is None


def test_a_straddling_point_is_measured_again_up_to_max_repeats(
    emulator: Emulator, tmp_path: Path
) -> None:
    """On the line (200 ms, the emulator's mean): measured again with fresh prompts until the
    spec's cap of 3, then decided by the mean and still marginal."""
    spec = spec_with_ttft_target(200.0, max_repeats=3)
    document = measured_point(emulator(*JITTERY), tmp_path, spec)
    assert repeat_files(tmp_path) == [
        f"benchmark_isl-16_osl-4_maxcon-1_n-12_repeat-{r}.json" for r in (1, 2, 3)
    ]
    assert [r["repeat"] for r in document["repeats"]] == [1, 2, 3]
    assert len({r["prompt_seed"] for r in document["repeats"]}) == 3, "fresh prompts each time"
    assert document["repeat_reason"] == (
        "the interval straddled an enforced target (functional ttft_ms): measured 3 times, at "
        "most max_repeats 3"
    )
    assert document["completed"] == 36 and "over 3 repeats" in document["interval_method"]
    assert ttft_decision(document, spec, tmp_path)[1] is True
    kinds = sorted(json.loads(path.read_text())["kind"] for path in tmp_path.glob("*.json"))
    assert kinds == ["benchmark"] + ["benchmark_repeat"] * 3, "a report reads one point"


def test_repeat_asks_for_several_measurements_and_summarises_them(
    emulator: Emulator, tmp_path: Path
) -> None:
    document = measured_point(emulator(*JITTERY), tmp_path, spec_with_ttft_target(400.0), repeat=2)
    assert len(repeat_files(tmp_path)) == 2 and document["completed"] == 24
    rows = (tmp_path / "benchmark_isl-16_osl-4_maxcon-1_n-12_requests.jsonl").read_text()
    assert len(rows.splitlines()) == 24, "the point's rows are every repeat's"
    means = [r["mean_ttft_ms"] for r in document["repeats"]]
    low, high = document["interval_95"]["mean_ttft_ms"]
    assert low < min(means) < max(means) < high


def test_a_marginal_eval_score_is_a_finding_and_its_status_stands(tmp_path: Path) -> None:
    reason = "MARGINAL FAIL: 95% interval [0.37, 0.71] over 30 samples straddles 0.5067"
    task = eval_task("readiness_basics", "FAIL", 0.5, marginal=True, reason=reason)
    rendered = render_run(passing_run(tmp_path / "run", tasks=[task]))
    acceptance = rendered.report["acceptance"]
    assert [f["key"] for f in acceptance["marginal"]] == ["evals:readiness_basics"]
    assert [f["key"] for f in acceptance["blockers"]] == ["evals:readiness_basics"]
    assert "1 marginal" in rendered.files["markdown"].read_text()


def test_repeat_is_our_generators_own() -> None:
    with pytest.raises(SettingsError, match="tool=aiperf does not take repeat"):
        settings_from({"tool": "aiperf", "repeat": 2})


def test_the_benchmarks_console_table_shows_each_points_interval_in_80_columns() -> None:
    """A CI log and a laptop's terminal are 80 columns wide: no header or figure is cut."""
    document = {
        "isl": 1024, "osl": 1024, "concurrency": 128, "num_prompts": 1280,
        "mean_ttft_ms": 12345.6, "median_ttft_ms": 12000.1, "p99_ttft_ms": 23456.7,
        "mean_tpot_ms": 123.45,
        "output_throughput": 1234.5, "request_throughput": 12.34, "failed": 12,
        "interval_95": {"mean_ttft_ms": [11800.0, 12921.5], "output_throughput": [1201.0, 1260.0]},
    }  # fmt: skip
    console = Console(record=True, width=80)
    console.print(report.summary_table([document]))
    text = console.export_text()
    assert "…" not in text, text
    for figure in ("12345.6", "11800-12922", "23457", "1234.5", "1201-1260", "8.1"):
        assert figure in text
    assert "TTFT" in text and "/user" in text and "95%" in text
