"""Stress tests: the spec's parameter space at the edges of context and concurrency, a single
point on demand, and a bounded endurance mode that records latency drift over time.

After the last request the server must still answer; a run where it does not fails."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

import requests

from benchmarking.bench import Context, Progress, run_point
from benchmarking.sweep import Point


def still_answers(base_url: str, headers: Mapping[str, str]) -> bool:
    try:
        return requests.get(f"{base_url}/health", headers=dict(headers), timeout=30).ok
    except requests.RequestException:
        return False


def endurance(
    ctx: Context, point: Point, duration_s: float, execute: Callable[[str], Progress]
) -> dict[str, object]:
    """Repeat one point under continuous load until `duration_s` has passed; each repetition
    is a window, and the file is rewritten after each one so a stopped run keeps its data."""
    started = time.monotonic()
    windows: list[dict[str, object]] = []
    while time.monotonic() - started < duration_s or not windows:
        label = f"window {len(windows) + 1} ({time.monotonic() - started:.0f}s)"
        document = run_point(ctx, point, execute(label), suffix=f"_window-{len(windows) + 1:04d}")
        windows.append(
            {
                key: document[key]
                for key in (
                    "date",
                    "completed",
                    "failed",
                    "mean_ttft_ms",
                    "p99_ttft_ms",
                    "mean_tpot_ms",
                    "output_throughput",
                )
            }
            | {"elapsed_s": time.monotonic() - started}
        )
        _save_endurance(ctx, point, windows, duration_s)
    return _save_endurance(ctx, point, windows, duration_s)


def _drift(windows: list[dict[str, object]], key: str) -> float | None:
    first, last = windows[0].get(key), windows[-1].get(key)
    if isinstance(first, (int, float)) and isinstance(last, (int, float)) and first > 0:
        return last / first - 1
    return None


def _save_endurance(
    ctx: Context, point: Point, windows: list[dict[str, object]], duration_s: float
) -> dict[str, object]:
    document = {
        "schema_version": "1",
        "kind": "stress_endurance",
        **ctx.identity,
        "isl": point.isl,
        "osl": point.osl,
        "concurrency": point.concurrency,
        "duration_s": duration_s,
        "windows": windows,
        "ttft_drift": _drift(windows, "mean_ttft_ms"),
        "tpot_drift": _drift(windows, "mean_tpot_ms"),
        "failed": sum(int(str(w["failed"])) for w in windows),
    }
    ctx.output_dir.mkdir(parents=True, exist_ok=True)
    target = ctx.output_dir / "stress_endurance.json"
    temp = target.with_name(".stress_endurance.json.tmp")
    temp.write_text(json.dumps(document, indent=2) + "\n")
    temp.replace(target)
    return document
