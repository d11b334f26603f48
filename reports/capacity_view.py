"""The capacity searches of a run (`search=goodput`, benchmarks/capacity_*.json) in its report:
a section of report.json, a table of the markdown and HTML reports, and a comparison row per
(ISL, OSL) searched in both runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from reports.figures import significant

HEADING = (
    "The highest load at which the share of requests meeting every SLO reached its minimum, "
    "found by bisection (search=goodput): the load found, the loads that met and missed on "
    "either side of it, the share's 95% interval at the load found, and every load tried."
)
TRIED_KEYS = ("load", "good", "total", "share", "met", "file")


def capacity_rows(capacities: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """report.json's `capacity`: one entry per search, its loads tried without their intervals."""
    keep = (
        "isl", "osl", "search_over", "concurrency", "goodput", "min_share", "low", "high",
        "found", "bracket", "limited_by", "share_interval_95", "result_file",
    )  # fmt: skip
    return [
        {key: found.get(key) for key in keep}
        | {"tried": [{key: t.get(key) for key in TRIED_KEYS} for t in found.get("tried") or ()]}
        for found in capacities
    ]


def load_text(over: object, load: object) -> str:
    """A concurrency as a whole number, a rate with the report's significant figures."""
    if not isinstance(load, (int, float)) or isinstance(load, bool):
        return ""
    return f"{load:.0f}" if over == "concurrency" else f"{significant(float(load))} req/s"


def _bracket(row: Mapping[str, Any]) -> str:
    met, missed = (row.get("bracket") or (None, None))[:2]
    over = row.get("search_over")
    if met is not None and missed is not None:
        return f"met at {load_text(over, met)}, missed at {load_text(over, missed)}"
    return str(row.get("limited_by") or "")


def _interval(bounds: object) -> str:
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        return ""
    return f"[{bounds[0]:.0%}, {bounds[1]:.0%}]"


def _tried(row: Mapping[str, Any]) -> str:
    return ", ".join(
        f"{load_text(row.get('search_over'), t.get('load'))} ({t.get('good')}/{t.get('total')}"
        f" good{'' if t.get('met') else ', missed'})"
        for t in row.get("tried") or ()
    )


def _slos(row: Mapping[str, Any]) -> str:
    share = row.get("min_share")
    needs = f", {share:.0%} of requests" if isinstance(share, (int, float)) else ""
    return f"{row.get('goodput') or ''}{needs}"


def capacity_frame(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "ISL": row.get("isl"),
                "OSL": row.get("osl"),
                "Over": row.get("search_over"),
                "SLOs": _slos(row),
                "Capacity found": load_text(row.get("search_over"), row.get("found")) or "none",
                "Bracket": _bracket(row),
                "Share at the load found (95%)": _interval(row.get("share_interval_95")),
                "Loads tried": _tried(row),
            }
            for row in rows
        ]
    )


def comparison_rows(
    report: Mapping[str, Any], baseline: Mapping[str, Any]
) -> list[tuple[str, str, str, Any, Any]]:
    """(what, metric, its format's name in reports.figures, before, now) for each (ISL, OSL)
    and load kind searched in both runs."""
    before = _by_shape(baseline)
    pairs = []
    for key, now in _by_shape(report).items():
        if key in before:
            isl, osl, over = key
            unit = " (req/s)" if over == "rate" else ""
            metric = f"capacity: {over} meeting goodput{unit}"
            field = f"capacity_{over}"
            pairs.append((f"ISL {isl} OSL {osl}", metric, field, before[key], now))
    return pairs


def _by_shape(report: Mapping[str, Any]) -> dict[tuple[Any, Any, Any], Any]:
    return {
        (row.get("isl"), row.get("osl"), row.get("search_over")): row.get("found")
        for row in report.get("capacity") or ()
    }
