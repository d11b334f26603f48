"""report.html's benchmark charts: one chart per target metric with a line per (ISL, OSL), a
log latency axis, whole-number concurrency ticks, targets as markers in their tier's colour,
and error bars from each point's 95% interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from reports.build import render_run
from reports.charts import TIER_COLOURS, benchmark_charts, log_ticks
from reports.server_view import telemetry_plots
from reports.tables import html_table
from tests.run_folders import TARGET, Measured, RunSpec, make_run, server_telemetry

AT_4 = {"isl": 128, "osl": 32, "concurrency": 4, "ttft_ms": 400.0, "tput_user": 40.0, "tput": 160.0}
LONG = {"isl": 512, "osl": 64, "concurrency": 2, "ttft_ms": 300.0, "tput_user": 40.0, "tput": 80.0}


def two_shapes(folder: Path) -> dict[str, Any]:
    spec = RunSpec(status="complete", perf_reference=[dict(TARGET), AT_4, LONG])
    points = [
        Measured(),
        Measured(concurrency=4, ttft_ms=900.0, tpot_ms=100.0),
        Measured(isl=512, osl=64, concurrency=2, ttft_ms=120.0),
    ]
    return render_run(make_run(folder, spec, points, [], [])).report


@pytest.fixture
def charts(tmp_path: Path) -> dict[str, dict[str, Any]]:
    return {chart["id"]: chart for chart in benchmark_charts(two_shapes(tmp_path / "run"))}


def test_one_chart_per_metric_with_a_line_per_shape(charts: dict[str, dict[str, Any]]) -> None:
    assert list(charts) == ["plot-ttft_ms", "plot-tput_user", "plot-tput", "plot-throughput"]
    lines = [t for t in charts["plot-ttft_ms"]["data"] if t["mode"] == "lines+markers"]
    assert [(t["name"], t["x"]) for t in lines] == [
        ("ISL 128 / OSL 32", [1, 4]),
        ("ISL 512 / OSL 64", [2]),
    ]


def test_latency_is_on_a_log_axis_with_whole_figures(charts: dict[str, dict[str, Any]]) -> None:
    ttft = charts["plot-ttft_ms"]["layout"]["yaxis"]
    assert ttft["type"] == "log"
    assert ttft["ticktext"][:3] == ["50", "100", "200"]  # the lowest figure, 78.4 ms, above 50
    assert "50,000" not in ttft["ticktext"] and ttft["ticktext"][-1] == "5,000"  # 4,000 ms
    assert charts["plot-tput_user"]["layout"]["yaxis"]["type"] == "linear"


def test_concurrency_ticks_are_whole_numbers_on_a_log2_scale(
    charts: dict[str, dict[str, Any]],
) -> None:
    axis = charts["plot-tput"]["layout"]["xaxis"]
    assert axis["type"] == "log"
    assert (axis["tickvals"], axis["ticktext"]) == ([1, 2, 4], ["1", "2", "4"])


def test_targets_are_markers_at_their_points_in_the_tiers_colours(
    charts: dict[str, dict[str, Any]],
) -> None:
    targets = [t for t in charts["plot-ttft_ms"]["data"] if t["mode"] == "markers"]
    assert [t["name"] for t in targets] == ["functional (10%)", "complete (50%)", "target (100%)"]
    complete = targets[1]
    assert (complete["x"], complete["y"]) == ([1, 4, 2], [200.0, 800.0, 600.0])
    for chart in charts.values():
        for trace in chart["data"]:
            if trace["legendgroup"] == "targets":
                tier = trace["name"].split()[0]
                assert trace["marker"]["color"] == TIER_COLOURS[tier], chart["id"]


def test_two_shapes_equal_target_at_one_concurrency_is_one_marker_naming_both(
    tmp_path: Path,
) -> None:
    """Two markers drawn on one spot showed one shape's hover text and hid the other's."""
    twin = dict(AT_4, isl=512, osl=64)  # the same targets as ISL 128 / OSL 32 at c4
    spec = RunSpec(status="complete", perf_reference=[dict(TARGET), AT_4, twin])
    points = [Measured(), Measured(concurrency=4), Measured(isl=512, osl=64, concurrency=4)]
    report = render_run(make_run(tmp_path / "run", spec, points, [], [])).report
    chart = next(c for c in benchmark_charts(report) if c["id"] == "plot-ttft_ms")
    target = next(t for t in chart["data"] if t["name"].startswith("target"))
    assert (target["x"], target["y"]) == ([1, 4], [100.0, 400.0])
    assert target["text"][1] == (
        "target tier, ISL 128 / OSL 32: at most 400<br>target tier, ISL 512 / OSL 64: at most 400"
    )


def test_error_bars_reach_each_points_interval(charts: dict[str, dict[str, Any]]) -> None:
    first = charts["plot-ttft_ms"]["data"][0]
    bars = first["error_y"]
    assert bars["array"] == pytest.approx([1.6, 18.0])  # +-2% of 80 and 900 ms
    assert bars["arrayminus"] == pytest.approx([1.6, 18.0])


def test_no_benchmark_point_no_chart(tmp_path: Path) -> None:
    report = render_run(make_run(tmp_path / "run", points=[], tasks=[], checks=[])).report
    assert benchmark_charts(report) == []


@pytest.mark.parametrize(
    ("values", "ticks"),
    [
        ([78.4, 4000.0], [50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0]),
        ([100.0], [100.0]),
        ([0.3, 0.9], [0.2, 0.5, 1.0]),
        ([], []),
    ],
)
def test_log_ticks_run_one_two_five(values: list[float], ticks: list[float]) -> None:
    assert log_ticks(values) == pytest.approx(ticks)


def test_every_html_table_colours_its_status_words(tmp_path: Path) -> None:
    """The target checks, evals and spec tests alike: PASS green, FAIL red, MARGINAL amber,
    each word its own colour; a phrase is coloured whole ('NOT ACCEPTED', never 'ACCEPTED')."""
    frame = pd.DataFrame(
        [{"Check": "FAIL ⛔ MARGINAL (0.91)", "Status": "PASS", "Verdict": "NOT ACCEPTED ⛔"}]
    )
    table = html_table(frame)
    assert '<td><span class="fail">FAIL</span> <span class="warn">MARGINAL</span> (0.91)</td>' in (
        table
    )
    assert '<td><span class="pass">PASS</span></td>' in table
    assert '<td><span class="fail">NOT ACCEPTED</span></td>' in table
    assert "⛔" not in table and table.startswith('<div class="table-box">')  # scrolls in a box


def test_words_that_only_start_like_a_status_stay_plain() -> None:
    table = html_table(pd.DataFrame([{"Message": "PASSED through", "Other": "the FAIL case"}]))
    assert "<span" not in table


def test_server_charts_count_whole_requests_and_skip_a_single_scrape(tmp_path: Path) -> None:
    points = [
        Measured(server_telemetry=server_telemetry([0, 1, 1, 0], [0, 0, 0, 0])),
        Measured(concurrency=4, server_telemetry=server_telemetry([4], [0])),  # one dot
    ]
    report = render_run(make_run(tmp_path / "run", points=points, tasks=[], checks=[])).report
    [chart] = telemetry_plots(report["server_telemetry"])
    assert chart["id"] == "plot-server-0"
    assert (chart["layout"]["yaxis"]["dtick"], chart["layout"]["yaxis"]["tickformat"]) == (1, "d")
