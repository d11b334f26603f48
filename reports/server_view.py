"""The server's own view of each benchmark and stress point, beside the client's: report.json's
`server_telemetry` section (read from the points' result files), its table, its JUnit lines and
report.html's chart of requests running and waiting over time next to the client's requests in
flight."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from reports.charts import LEGEND, MARGIN
from reports.run_data import Point, RunData, in_run
from reports.tables import cell

OLDER_FILE = "not recorded (a result file from before server telemetry)"
SUMMARY_DISPLAY = (  # summary key, header, format
    ("peak_running", "Peak running", "{:.0f}"),
    ("peak_waiting", "Peak waiting", "{:.0f}"),
    ("mean_kv_usage", "KV mean", "{:.1%}"),
    ("peak_kv_usage", "KV peak", "{:.1%}"),
    ("preemptions", "Preemptions", "{:.0f}"),
    ("prompt_tokens_per_s", "Prompt tok/s", "{:.1f}"),
    ("decode_tokens_per_s", "Decode tok/s", "{:.1f}"),
    ("prompt_tokens_per_busy_s", "Prompt tok/slot-s", "{:.1f}"),
    ("decode_tokens_per_busy_s", "Decode tok/slot-s", "{:.1f}"),
    ("prefix_cache_hit_rate", "Prefix hit rate", "{:.1%}"),
    ("scrapes", "Scrapes", "{}"),
    ("scraper_cpu_s", "Scraper CPU (s)", "{:.2f}"),
)
NOT_REPORTED = "not reported"


def telemetry_rows(run: RunData) -> list[dict[str, Any]]:
    """One row per point: which point, the telemetry's summary, and its timeline."""
    return [
        _row(workflow, point) | {"result_file": in_run(run.folder, point.path)}
        for workflow, points in (("benchmarks", run.benchmarks), ("stress_tests", run.stress))
        for point in points
    ]


def _row(workflow: str, point: Point) -> dict[str, Any]:
    document = point.document
    telemetry = document.get("server_telemetry") or {"available": False, "reason": OLDER_FILE}
    prefix = document.get("prefix_cache")
    series = telemetry.get("series") or []
    return {
        "workflow": workflow,
        "isl": document.get("isl"),
        "osl": document.get("osl"),
        "concurrency": document.get("concurrency"),
        "window": document.get("window"),
        "prefix": prefix.get("variant") if isinstance(prefix, Mapping) else None,
        "available": bool(telemetry.get("available")),
        "reason": telemetry.get("reason"),
        "source": telemetry.get("source"),
        "interval_s": telemetry.get("interval_s"),
        "summary": telemetry.get("summary"),
        "timeline": {
            "t_s": [row.get("t_s") for row in series],
            "running": [row.get("running") for row in series],
            "waiting": [row.get("waiting") for row in series],
            "client_in_flight": client_in_flight(point.request_rows()),
        },
    }


def client_in_flight(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[float]]:
    """The client's requests in flight as steps: +1 at each send, -1 at each answer's end."""
    events: list[tuple[float, int]] = []
    for row in rows:
        start, e2el = row.get("start_ms"), row.get("e2el_ms")
        if isinstance(start, (int, float)) and isinstance(e2el, (int, float)):
            events += [(start / 1000, 1), ((start + e2el) / 1000, -1)]
    t_s, count, level = [], [], 0
    for when, step in sorted(events):
        level += step
        t_s.append(round(when, 4))
        count.append(float(level))
    return {"t_s": t_s, "count": count}


def point_label(row: Mapping[str, Any]) -> str:
    label = f"ISL {row['isl']} OSL {row['osl']} C {row['concurrency']}"
    label += f" window {row['window']}" if row.get("window") else ""
    label += f" prefix {row['prefix']}" if row.get("prefix") else ""
    return ("stress " if row["workflow"] == "stress_tests" else "") + label


def telemetry_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    data = []
    for row in rows:
        summary = row.get("summary") or {}
        cells = {"Point": point_label(row), "Source": row.get("source") or ""}
        for key, header, fmt in SUMMARY_DISPLAY:
            shown = cell(summary.get(key), fmt)
            cells[header] = shown or (NOT_REPORTED if row["available"] else "")
        cells["Note"] = "" if row["available"] else str(row.get("reason") or "")
        data.append(cells)
    return pd.DataFrame(data)


def junit_line(row: Mapping[str, Any]) -> str:
    """One line per point for a JUnit suite's system-out."""
    if not row["available"]:
        return f"server telemetry {point_label(row)}: not available ({row.get('reason')})"
    summary = row.get("summary") or {}
    figures = ", ".join(
        f"{header.lower()} {cell(summary.get(key), fmt) or NOT_REPORTED}"
        for key, header, fmt in SUMMARY_DISPLAY
    )
    return f"server telemetry {point_label(row)} ({row['source']}): {figures}"


def telemetry_plots(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per point with telemetry over time (two scrapes or more; one is a dot, not a timeline):
    requests running and waiting at the server, and the requests the client had in flight."""
    return [
        _plot(index, row)
        for index, row in enumerate(rows)
        if row["available"] and len(row["timeline"]["t_s"]) >= 2
    ]


def _request_axis(timeline: Mapping[str, Any]) -> dict[str, Any]:
    """Requests are whole: ticks 1 apart, or a whole step for more than a few."""
    counts = [*timeline["running"], *timeline["waiting"], *timeline["client_in_flight"]["count"]]
    peak = max((c for c in counts if isinstance(c, (int, float))), default=1)
    return {
        "title": {"text": "requests"},
        "rangemode": "tozero",
        "dtick": max(1, math.ceil(peak / 6)),
        "tickformat": "d",
    }


def _plot(index: int, row: Mapping[str, Any]) -> dict[str, Any]:
    timeline = row["timeline"]
    client = timeline["client_in_flight"]
    server = {"type": "scatter", "mode": "lines+markers", "x": timeline["t_s"]}
    return {
        "id": f"plot-server-{index}",
        "data": [
            server | {"name": "server: running", "y": timeline["running"]},
            server | {"name": "server: waiting", "y": timeline["waiting"]},
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hv", "dash": "dot"},
                "name": "client: in flight",
                "x": client["t_s"],
                "y": client["count"],
            },
        ],
        "layout": {
            "title": {"text": f"Requests over time, {point_label(row)} ({row['source']})"},
            "xaxis": {"title": {"text": "seconds from the point's start"}},
            "yaxis": _request_axis(timeline),
            "legend": LEGEND,
            "margin": MARGIN,
        },
    }
