"""report.html: the report's content and interactive charts in one file that opens with no
network. Plotly's script is inlined from the pinned `plotly` package; the charts' data is JSON
in the page."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

from reports import server_view, tables
from reports.render import environment, template_values

TIER_DASH = {"functional": "dot", "complete": "dash", "target": "solid"}


def plotly_script() -> str:
    script = (resources.files("plotly") / "package_data" / "plotly.min.js").read_text()
    return script.replace("</script", "<\\/script")  # it cannot end the page's script early


def _by_shape(rows: Sequence[Mapping[str, Any]]) -> dict[tuple[int, int], list[Mapping[str, Any]]]:
    shapes: dict[tuple[int, int], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        shapes[(int(row["isl"]), int(row["osl"]))].append(row)
    return {
        shape: sorted(points, key=lambda r: int(r["concurrency"]))
        for shape, points in shapes.items()
    }


def _target_traces(
    targets: Sequence[Mapping[str, Any]], metric: str, span: tuple[float, float]
) -> list[dict[str, Any]]:
    """Each tier's target for the metric as a line across the measured concurrencies (one
    target point) or through its points (several)."""
    traces = []
    tiers = targets[0]["tiers"] if targets else {}
    for tier in tiers:
        points = [
            (float(t["concurrency"]), t["tiers"][tier]["checks"][metric]["target"]) for t in targets
        ]
        points = [(x, y) for x, y in points if y is not None]
        if not points:
            continue
        xs, ys = zip(*sorted(points), strict=True)
        if len(xs) == 1:
            xs, ys = span, (ys[0], ys[0])
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"{tier} target ({tiers[tier]['fraction']:.0%})",
                "x": list(xs),
                "y": list(ys),
                "line": {"dash": TIER_DASH.get(tier, "dash"), "width": 1.5},
            }
        )
    return traces


def error_bars(rows: Sequence[Mapping[str, Any]], field: str) -> dict[str, Any]:
    """Plotly's asymmetric error bars from each row's 95% interval (none: a zero bar)."""
    above, below = [], []
    for row in rows:
        value, low, high = (
            row.get(field),
            row.get(f"{field}_ci95_low"),
            row.get(f"{field}_ci95_high"),
        )
        if (
            isinstance(value, (int, float))
            and isinstance(low, (int, float))
            and isinstance(high, (int, float))
        ):
            above.append(high - value)
            below.append(value - low)
        else:
            above.append(0.0)
            below.append(0.0)
    return {"type": "data", "symmetric": False, "array": above, "arrayminus": below}


def _versus_concurrency(
    report: Mapping[str, Any], metric: str, field: str, title: str, axis: str
) -> list[dict[str, Any]]:
    plots = []
    targets = _by_shape(report["target_checks"])
    for (isl, osl), rows in _by_shape(report["benchmarks"]).items():
        xs = [int(row["concurrency"]) for row in rows]
        span = (float(min(xs)), float(max(xs)) if max(xs) > min(xs) else float(min(xs)) + 1)
        data = [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": "measured (95% interval)",
                "x": xs,
                "y": [row.get(field) for row in rows],
                "error_y": error_bars(rows, field),
            },
            *_target_traces(targets.get((isl, osl), []), metric, span),
        ]
        plots.append(
            {
                "id": f"plot-{metric}-{isl}-{osl}",
                "data": data,
                "layout": {
                    "title": {"text": f"{title}, ISL {isl} / OSL {osl}"},
                    "xaxis": {"title": {"text": "concurrency"}},
                    "yaxis": {"title": {"text": axis}, "rangemode": "tozero"},
                },
            }
        )
    return plots


def _throughput_plot(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = []
    for (isl, osl), rows in _by_shape(report["benchmarks"]).items():
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers+text",
                "name": f"ISL {isl} / OSL {osl}",
                "x": [row.get("tput_user") for row in rows],
                "y": [row.get("output_throughput") for row in rows],
                "error_x": error_bars(rows, "tput_user"),
                "error_y": error_bars(rows, "output_throughput"),
                "text": [f"c={row['concurrency']}" for row in rows],
                "textposition": "top center",
            }
        )
    for target in report["target_checks"]:
        for tier, result in target["tiers"].items():
            checks = result["checks"]
            x, y = checks["tput_user"]["target"], checks["tput"]["target"]
            if x is not None and y is not None:
                data.append(
                    {
                        "type": "scatter",
                        "mode": "markers",
                        "marker": {"symbol": "x", "size": 10},
                        "name": f"{tier} target, ISL {target['isl']} / OSL {target['osl']} "
                        f"c={target['concurrency']}",
                        "x": [x],
                        "y": [y],
                    }
                )
    if not data:
        return []
    return [
        {
            "id": "plot-throughput",
            "data": data,
            "layout": {
                "title": {"text": "Total output throughput against per-user throughput"},
                "xaxis": {"title": {"text": "tok/s per user"}, "rangemode": "tozero"},
                "yaxis": {"title": {"text": "tok/s (all users)"}, "rangemode": "tozero"},
            },
        }
    ]


def plots(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        *_versus_concurrency(report, "ttft_ms", "mean_ttft_ms", "TTFT", "TTFT (ms)"),
        *_versus_concurrency(report, "tput_user", "tput_user", "Per-user throughput", "tok/s/user"),
        *_throughput_plot(report),
    ]


def render_html(report: Mapping[str, Any]) -> str:
    charts = plots(report)
    server_charts = server_view.telemetry_plots(report["server_telemetry"])
    template = environment().get_template("report.html.j2")
    return template.render(
        **template_values(report, tables.html_table),
        accepted=report["acceptance_criteria"],
        partial=bool(report["acceptance"].get("partial")),
        plots=charts,
        server_plots=server_charts,
        plots_json=json.dumps([*charts, *server_charts]).replace("</", "<\\/"),
        plotly_js=plotly_script(),
    )
