"""The evals measured again under benchmark traffic, each beside its score alone on the same
documents (evals/paired.py): a table of its own under the evals table, shown when a run has one."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

HEADING = (
    "Each task below was measured again, on its first documents, while benchmark traffic at the "
    "spec's max concurrency ran against the same server; a significant drop (McNemar's exact "
    "test, one-sided, p < 0.05) fails the release."
)


def _score(value: object) -> str:
    return f"{float(value):.4f}" if isinstance(value, (int, float)) else ""


def _interval(bounds: object) -> str:
    if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
        return ""
    return f"[{float(bounds[0]):.3f}, {float(bounds[1]):.3f}]"


def _traffic(traffic: object) -> str:
    if not isinstance(traffic, Mapping):
        return ""
    cut = ", the last cut when the eval ended" if traffic.get("cut_at_the_end") else ""
    peak = traffic.get("server_peak")
    held = (
        f"; the server held up to {peak.get('running', 0):g} running and "
        f"{peak.get('waiting', 0):g} waiting"
        if isinstance(peak, Mapping)
        else ""
    )
    return (
        f"concurrency {traffic.get('concurrency')}, ISL {traffic.get('isl')} OSL "
        f"{traffic.get('osl')}: {traffic.get('completed')} requests in {traffic.get('waves')} "
        f"whole waves{cut}, {traffic.get('failed')} failed{held}"
    )


def loaded_tasks(tasks: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [task for task in tasks if isinstance(task.get("under_load"), Mapping)]


def under_load_frame(tasks: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = []
    for task in loaded_tasks(tasks):
        block = task["under_load"]
        p_value = block.get("p_value")
        rows.append(
            {
                "Task": task.get("task"),
                "Status": block.get("status"),
                "N": block.get("n_samples", ""),
                "Alone": _score(block.get("alone_score")),
                "Alone 95% interval": _interval(block.get("alone_interval_95")),
                "Under load": _score(block.get("score")),
                "Under load 95% interval": _interval(block.get("interval_95")),
                "Wrong / right under load": (
                    f"{block['worse']} / {block['better']}" if "worse" in block else ""
                ),
                "p (drop)": f"{p_value:.3g}" if isinstance(p_value, (int, float)) else "",
                "Traffic": _traffic(block.get("traffic")),
                "Reason": block.get("reason") or "",
            }
        )
    return pd.DataFrame(rows)
