"""report.html's trend charts: per target point, TTFT (left axis) and per-user throughput (right
axis) over the previous releases in the results store and this run, each with its 95% interval;
this run's markers are large and outlined in red, so it stands out of the series."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reports.charts import LEGEND, MARGIN, error_bars

CURRENT = "#cf222e"
AXES = (  # field, name, axis title, axis, colour
    ("mean_ttft_ms", "TTFT", "TTFT (ms)", "y", "#24292f"),
    ("tput_user", "Tput user", "tok/s per user", "y2", "#1a7f37"),
)


def _label(entry: Mapping[str, Any]) -> str:
    """A release on the x axis: when it started and its id's random suffix."""
    if entry["current"]:
        return "this run"
    return f"{str(entry['started_at']).replace('T', ' ')[:16]} {str(entry['run_id'])[-8:]}"


def _trace(
    series: Sequence[Mapping[str, Any]], axis: tuple[str, str, str, str, str]
) -> dict[str, Any]:
    field, name, _, yaxis, colour = axis
    rows = [
        {
            field: e["value"],
            f"{field}_ci95_low": e["ci95_low"],
            f"{field}_ci95_high": e["ci95_high"],
        }
        for e in series
    ]
    current = [bool(e["current"]) for e in series]
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": name,
        "x": [_label(e) for e in series],
        "y": [e["value"] for e in series],
        "yaxis": yaxis,
        "error_y": error_bars(rows, field) | {"color": colour},
        "line": {"color": colour, "width": 2},
        "marker": {
            "color": colour,
            "size": [14 if now else 7 for now in current],
            "line": {"color": CURRENT, "width": [3 if now else 0 for now in current]},
        },
        "text": [e["verdict"] for e in series],
        "hovertemplate": "%{x}<br>%{y:.3g} (%{text})<extra>" + name + "</extra>",
    }


def _chart(index: int, point: Mapping[str, Any], releases: int) -> dict[str, Any]:
    title = (
        f"ISL {point['isl']} OSL {point['osl']} concurrency {point['concurrency']}: "
        f"the last {releases} release(s) and this run"
    )
    layout: dict[str, Any] = {
        "title": {"text": title},
        "xaxis": {"type": "category", "automargin": True},
        "legend": LEGEND,
        "margin": MARGIN,
    }
    for _, _, axis_title, yaxis, _ in AXES:
        key = "yaxis" if yaxis == "y" else "yaxis2"
        layout[key] = {"title": {"text": axis_title}, "rangemode": "tozero", "automargin": True}
        if yaxis == "y2":
            layout[key] |= {"overlaying": "y", "side": "right"}
    return {
        "id": f"trend-{index}",
        "data": [_trace(point["series"][axis[0]], axis) for axis in AXES],
        "layout": layout,
    }


def trend_charts(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One chart per target point the store has earlier releases of; none without them."""
    found = report.get("trends") or {}
    points = [
        point
        for point in found.get("points") or ()
        if any(not entry["current"] for entry in point["series"]["mean_ttft_ms"])
    ]
    return [_chart(index, point, found["releases"]) for index, point in enumerate(points)]
