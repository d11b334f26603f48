"""Trends: per target point, each verdict figure over the previous releases in the results store
and this run, oldest first, this run marked; what report.html charts. Built from rows the store
gave (report-shaped), so no database is touched here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

TREND_METRICS = (  # report row field, title, unit
    ("mean_ttft_ms", "TTFT", "ms"),
    ("tput_user", "Per-user throughput", "tok/s/user"),
    ("output_throughput", "Total output throughput", "tok/s"),
)


def _entry(row: Mapping[str, Any], field: str, current: bool) -> dict[str, Any]:
    return {
        "run_id": row.get("run_id"),
        "started_at": row.get("started_at"),
        "verdict": row.get("verdict"),
        "value": row.get(field),
        "ci95_low": row.get(f"{field}_ci95_low"),
        "ci95_high": row.get(f"{field}_ci95_high"),
        "current": current,
    }


def trends(
    report: Mapping[str, Any], previous: Sequence[Mapping[str, Any]], releases: int
) -> dict[str, Any]:
    """Each target point's series per metric: the stored releases' rows, then this run's."""
    meta = report["metadata"]
    now = {
        (row.get("isl"), row.get("osl"), row.get("concurrency")): row
        for row in report.get("benchmarks") or ()
    }
    current_run = {
        "run_id": meta.get("run_id"),
        "started_at": "this run",
        "verdict": report["acceptance"]["verdict"],
    }
    points = []
    for target in report.get("target_checks") or ():
        key = (target["isl"], target["osl"], target["concurrency"])
        stored = [row for row in previous if (row["isl"], row["osl"], row["concurrency"]) == key]
        own = now.get(key)
        series = {
            field: [_entry(row, field, False) for row in stored]
            + ([_entry({**own, **current_run}, field, True)] if own is not None else [])
            for field, _, _ in TREND_METRICS
        }
        points.append({"isl": key[0], "osl": key[1], "concurrency": key[2], "series": series})
    return {"releases": releases, "points": points}


CATALOGUE_FIELD = ("tput_user", "Tput user", "tok/s/user")  # the figure a catalogue row tracks


def catalogue_trend(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """A (model, device)'s releases (the store's point rows, oldest first) as one series: per-user
    throughput at the point most of them measured (the smallest such point on a tie)."""
    if not rows:
        return None
    keys = [(row["isl"], row["osl"], row["concurrency"]) for row in rows]
    point = min(set(keys), key=lambda key: (-keys.count(key), key))
    field, label, unit = CATALOGUE_FIELD
    chosen = [row for row, key in zip(rows, keys, strict=True) if key == point]
    return {
        "label": f"{label} at ISL {point[0]} OSL {point[1]} concurrency {point[2]} ({unit})",
        "point": list(point),
        "field": field,
        "values": [row[field] for row in chosen],
        "verdicts": [row["verdict"] for row in chosen],
        "run_ids": [row["run_id"] for row in chosen],
    }
