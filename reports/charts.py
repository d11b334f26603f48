"""report.html's benchmark charts as Plotly figures (JSON data): one chart per target metric
against concurrency, a line per (ISL, OSL) with each point's 95% interval as its error bar, and
each tier's targets as markers at their own points, in the tier's colour; then total against
per-user throughput. Latency axes are logarithmic (a functional-tier target can be 400 times the
measured figure); concurrency is on a log2 scale with a tick at each whole number measured."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

TIER_COLOURS = {"functional": "#9a6700", "complete": "#8250df", "target": "#0969da"}
SHAPE_COLOURS = ("#24292f", "#1a7f37", "#bc4c00", "#6e7781", "#0e7c86", "#953800")
METRIC_CHARTS = (  # target metric, benchmark field, title, axis title, axis type, lower is better
    ("ttft_ms", "mean_ttft_ms", "TTFT", "TTFT (ms)", "log", True),
    ("tput_user", "tput_user", "Per-user throughput", "tok/s per user", "linear", False),
    ("tput", "output_throughput", "Total output throughput", "tok/s (all users)", "linear", False),
)
LEGEND = {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0, "x": 0}
MARGIN = {"l": 60, "r": 16, "t": 48, "b": 40}

Rows = Sequence[Mapping[str, Any]]


def by_shape(rows: Rows) -> dict[tuple[int, int], list[Mapping[str, Any]]]:
    """Rows by (ISL, OSL), each shape's rows by concurrency."""
    shapes: dict[tuple[int, int], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        shapes[(int(row["isl"]), int(row["osl"]))].append(row)
    return {
        shape: sorted(points, key=lambda r: int(r["concurrency"]))
        for shape, points in sorted(shapes.items())
    }


def shape_name(shape: tuple[int, int]) -> str:
    return f"ISL {shape[0]} / OSL {shape[1]}"


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _bar(row: Mapping[str, Any], field: str) -> tuple[float, float]:
    """(above, below) the figure to its interval's ends; (0, 0) without an interval."""
    value = _number(row.get(field))
    low, high = _number(row.get(f"{field}_ci95_low")), _number(row.get(f"{field}_ci95_high"))
    if value is None or low is None or high is None:
        return 0.0, 0.0
    return high - value, value - low


def error_bars(rows: Rows, field: str) -> dict[str, Any]:
    """Plotly's asymmetric error bars from each row's 95% interval (none: a zero bar)."""
    bars = [_bar(row, field) for row in rows]
    return {
        "type": "data",
        "symmetric": False,
        "array": [above for above, _ in bars],
        "arrayminus": [below for _, below in bars],
    }


def _measured_trace(shape: tuple[int, int], rows: Rows, field: str, colour: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": shape_name(shape),
        "legendgroup": "measured",
        "legendgrouptitle": {"text": "measured (95% interval)"},
        "x": [int(row["concurrency"]) for row in rows],
        "y": [row.get(field) for row in rows],
        "error_y": error_bars(rows, field) | {"color": colour},
        "line": {"color": colour, "width": 2},
        "marker": {"color": colour, "size": 7},
    }


def _tier_targets(points: Rows, metric: str) -> dict[str, list[tuple[Mapping[str, Any], float]]]:
    """Each tier's (target point, target value) for the metric, where the metric has one."""
    found: dict[str, list[tuple[Mapping[str, Any], float]]] = defaultdict(list)
    for point in points:
        for tier, result in point["tiers"].items():
            target = result["checks"][metric]["target"]
            if isinstance(target, (int, float)):
                found[tier].append((point, float(target)))
    return found


def _fraction(points: Rows, tier: str) -> str:
    for point in points:
        if tier in point["tiers"]:
            return f"{point['tiers'][tier]['fraction']:.0%}"
    return ""


def _target_traces(points: Rows, metric: str, lower_is_better: bool) -> list[dict[str, Any]]:
    """One marker trace per tier: a bar at each target point, in the tier's colour."""
    bound = "at most" if lower_is_better else "at least"
    traces = []
    for tier, found in _tier_targets(points, metric).items():
        colour = TIER_COLOURS.get(tier, "#57606a")
        at: dict[tuple[int, float], list[str]] = {}  # two shapes' equal targets: one marker
        for point, value in found:
            shape = shape_name((point["isl"], point["osl"]))
            at.setdefault((int(point["concurrency"]), value), []).append(
                f"{tier} tier, {shape}: {bound} {value:.4g}"
            )
        trace = _tier_marker_trace(
            points,
            tier,
            [x for x, _ in at],
            [y for _, y in at],
            ["<br>".join(texts) for texts in at.values()],
            {"symbol": "line-ew", "size": 22, "color": colour},
        )
        trace["hoverinfo"] = "text"
        trace["marker"]["line"] = {"color": colour, "width": 3}
        traces.append(trace)
    return traces


def _tier_marker_trace(
    points: Rows,
    tier: str,
    xs: list[Any],
    ys: list[Any],
    texts: list[str],
    marker: dict[str, Any],
) -> dict[str, Any]:
    """A tier's targets as markers, in the legend's "targets by tier" group."""
    return {
        "type": "scatter",
        "mode": "markers",
        "name": f"{tier} ({_fraction(points, tier)})",
        "legendgroup": "targets",
        "legendgrouptitle": {"text": "targets by tier"},
        "x": xs,
        "y": ys,
        "text": texts,
        "marker": marker,
    }


def log_ticks(values: Sequence[float]) -> list[float]:
    """Ticks at 1, 2 and 5 times each power of ten from below the smallest positive value to
    above the largest, so a log axis reads in whole figures (50, 100, 200), not '2' and '5'."""
    positive = [value for value in values if value > 0]
    if not positive:
        return []
    low, high = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    ticks = [step * 10.0**power for power in range(low, high + 1) for step in (1, 2, 5)]
    below = [tick for tick in ticks if tick <= min(positive)]
    above = [tick for tick in ticks if tick >= max(positive)]
    return [tick for tick in ticks if below[-1] <= tick <= above[0]]


def tick_text(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def concurrency_axis(values: Sequence[int]) -> dict[str, Any]:
    """A log2-spaced axis with a tick at each whole-number concurrency and none between."""
    ticks = sorted(set(values))
    return {
        "title": {"text": "concurrency"},
        "type": "log",
        "tickmode": "array",
        "tickvals": ticks,
        "ticktext": [str(tick) for tick in ticks],
        "automargin": True,
    }


def _metric_chart(
    report: Mapping[str, Any], chart: tuple[str, str, str, str, str, bool]
) -> dict[str, Any]:
    metric, field, title, axis, axis_type, lower = chart
    shapes = by_shape(report["benchmarks"])
    data = [
        _measured_trace(shape, rows, field, SHAPE_COLOURS[index % len(SHAPE_COLOURS)])
        for index, (shape, rows) in enumerate(shapes.items())
    ]
    data += _target_traces(report["target_checks"], metric, lower)
    concurrencies = [
        int(row["concurrency"]) for row in [*report["benchmarks"], *report["target_checks"]]
    ]
    yaxis: dict[str, Any] = {"title": {"text": axis}, "type": axis_type, "automargin": True}
    if axis_type == "linear":
        yaxis["rangemode"] = "tozero"
    else:
        ticks = log_ticks(_plotted(data))
        yaxis |= {"tickmode": "array", "tickvals": ticks, "ticktext": [tick_text(t) for t in ticks]}
        if ticks:  # from the tick below the lowest figure to the one above the highest
            yaxis["range"] = [math.log10(ticks[0]), math.log10(ticks[-1])]
    return {
        "id": f"plot-{metric}",
        "data": data,
        "layout": {
            "title": {"text": f"{title} against concurrency"},
            "xaxis": concurrency_axis(concurrencies),
            "yaxis": yaxis,
            "legend": LEGEND,
            "margin": MARGIN,
        },
    }


def _plotted(data: Sequence[Mapping[str, Any]]) -> list[float]:
    """Every y a chart draws, error bars' ends included."""
    values: list[float] = []
    for trace in data:
        ys = [_number(y) for y in trace["y"]]
        bars = trace.get("error_y") or {"array": [0.0] * len(ys), "arrayminus": [0.0] * len(ys)}
        for y, above, below in zip(ys, bars["array"], bars["arrayminus"], strict=True):
            if y is not None:
                values += [y - below, y + above]
    return values


def _tradeoff_targets(points: Rows) -> list[dict[str, Any]]:
    """Each tier's (per-user, total) throughput targets as crosses in the tier's colour."""
    traces = []
    totals = _tier_targets(points, "tput")
    for tier, found in _tier_targets(points, "tput_user").items():
        total_at = {id(point): value for point, value in totals.get(tier, [])}
        pairs = [(point, x, total_at[id(point)]) for point, x in found if id(point) in total_at]
        if not pairs:
            continue
        colour = TIER_COLOURS.get(tier, "#57606a")
        traces.append(
            _tier_marker_trace(
                points,
                tier,
                [x for _, x, _ in pairs],
                [y for _, _, y in pairs],
                [
                    f"{tier} tier, {shape_name((p['isl'], p['osl']))}, c={p['concurrency']}"
                    for p, _, _ in pairs
                ],
                {"symbol": "x", "size": 11, "color": colour},
            )
        )
    return traces


def _tradeoff_trace(shape: tuple[int, int], rows: Rows, colour: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines+markers+text",
        "name": shape_name(shape),
        "legendgroup": "measured",
        "legendgrouptitle": {"text": "measured (95% interval)"},
        "x": [row.get("tput_user") for row in rows],
        "y": [row.get("output_throughput") for row in rows],
        "error_x": error_bars(rows, "tput_user") | {"color": colour},
        "error_y": error_bars(rows, "output_throughput") | {"color": colour},
        "text": [f"c={row['concurrency']}" for row in rows],
        "textposition": "top center",
        "line": {"color": colour, "width": 2},
        "marker": {"color": colour, "size": 7},
    }


def _tradeoff_chart(report: Mapping[str, Any]) -> dict[str, Any]:
    shapes = by_shape(report["benchmarks"])
    data = [
        _tradeoff_trace(shape, rows, SHAPE_COLOURS[index % len(SHAPE_COLOURS)])
        for index, (shape, rows) in enumerate(shapes.items())
    ]
    return {
        "id": "plot-throughput",
        "data": data + _tradeoff_targets(report["target_checks"]),
        "layout": {
            "title": {"text": "Total against per-user throughput"},
            "xaxis": {
                "title": {"text": "tok/s per user"},
                "rangemode": "tozero",
                "automargin": True,
            },
            "yaxis": {
                "title": {"text": "tok/s (all users)"},
                "rangemode": "tozero",
                "automargin": True,
            },
            "legend": LEGEND,
            "margin": MARGIN,
        },
    }


def benchmark_charts(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The metric charts and the throughput trade-off; none without a measured point."""
    if not report["benchmarks"]:
        return []
    return [*(_metric_chart(report, chart) for chart in METRIC_CHARTS), _tradeoff_chart(report)]
