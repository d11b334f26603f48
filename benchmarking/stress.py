"""Stress tests: the spec's parameter space at the edges of context and concurrency, a single
point on demand, and a bounded endurance mode that records latency drift over time.

After the last request the server must still answer; a run where it does not fails."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import requests

from benchmarking import deadline_requests
from benchmarking.bench import Context, Progress, run_point
from benchmarking.deadline import DeadlineExceeded
from benchmarking.sweep import Point, point_seed
from reports.results import document, write_json

WINDOW_KEYS = (
    "date",
    "completed",
    "failed",
    "mean_ttft_ms",
    "p99_ttft_ms",
    "mean_tpot_ms",
    "output_throughput",
    "cached_share",
    "prompt_cache_hit",
)


def still_answers(base_url: str, headers: Mapping[str, str]) -> bool:
    try:
        return deadline_requests.get(f"{base_url}/health", headers=dict(headers), timeout=30).ok
    except (requests.RequestException, DeadlineExceeded):
        return False


def endurance(
    ctx: Context,
    point: Point,
    duration_s: float,
    execute: Callable[[str], Progress],
    clock: Callable[[], float] = time.monotonic,
    stop: Callable[[], bool] = lambda: False,
) -> dict[str, object]:
    """Repeat one point under continuous load until `duration_s` has passed, or `stop` says so
    after a window; each repetition is a window with fresh prompts (a seed of its own), and the
    file is rewritten after each one so a stopped run keeps its data. The loop stops on the time
    it records, so the last window's `elapsed_s` is at least `duration_s` unless stopped."""
    started, elapsed = clock(), 0.0
    windows: list[dict[str, object]] = []
    while not windows or (elapsed < duration_s and not stop()):
        number = len(windows) + 1
        label = f"window {number} ({elapsed:.0f}s)"
        point_document = run_point(ctx, point, execute(label), window=number)
        elapsed = clock() - started
        windows.append(_window(point_document, number, ctx.settings.seed, point, elapsed))
        _save_endurance(ctx, point, windows, duration_s)
    return _save_endurance(ctx, point, windows, duration_s)


def _window(
    point_document: Mapping[str, object], number: int, seed: int, point: Point, elapsed: float
) -> dict[str, object]:
    return {
        "window": number,
        "prompt_seed": point_seed(seed, point, number),
        **{key: point_document[key] for key in WINDOW_KEYS},
        "elapsed_s": elapsed,
    }


def _drift(windows: list[dict[str, object]], key: str) -> float | None:
    first, last = windows[0].get(key), windows[-1].get(key)
    if isinstance(first, (int, float)) and isinstance(last, (int, float)) and first > 0:
        return last / first - 1
    return None


def _save_endurance(
    ctx: Context, point: Point, windows: list[dict[str, object]], duration_s: float
) -> dict[str, object]:
    endurance_document = document(
        "stress_endurance",
        ctx.identity,
        {
            "isl": point.isl,
            "osl": point.osl,
            "concurrency": point.concurrency,
            "duration_s": duration_s,
            "windows": windows,
            "ttft_drift": _drift(windows, "mean_ttft_ms"),
            "tpot_drift": _drift(windows, "mean_tpot_ms"),
            "failed": sum(int(str(w["failed"])) for w in windows),
            "prompt_cache_hit": any(w["prompt_cache_hit"] for w in windows),
        },
    )
    write_json(ctx.output_dir / "stress_endurance.json", endurance_document)
    return endurance_document
