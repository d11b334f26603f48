"""Run-level metrics from per-request results, named as vLLM `bench serve` names them."""

from __future__ import annotations

import collections
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for annotations: the tool drivers import this module without orjson
    from benchmarking.client.result import RequestResult

METRICS = ("ttft", "tpot", "itl", "e2el")
DEFAULT_PERCENTILES = (50.0, 90.0, 99.0)
TOTALS = (
    "duration",
    "completed",
    "failed",
    "total_input_tokens",
    "total_output_tokens",
    "request_throughput",
    "request_goodput",
    "output_throughput",
    "total_token_throughput",
    "max_output_tokens_per_s",
    "max_concurrent_requests",
)
CACHE_HIT_SHARE = 0.1  # a point with more of its prompt tokens cached says so


def summary_keys(percentiles: Sequence[float] = DEFAULT_PERCENTILES) -> list[str]:
    """Every field `summarize` writes, in its order (a tool's summary is completed to these)."""
    keys = list(TOTALS)
    for name in (*METRICS, "queue_time"):
        keys += list(distribution(name, [], percentiles))
    return keys


def percentile(values: Sequence[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentile_label(p: float) -> str:
    return str(int(p)) if float(p).is_integer() else str(p)


def distribution(
    name: str, values: Sequence[float], percentiles: Sequence[float]
) -> dict[str, float]:
    stats = {
        f"mean_{name}_ms": statistics.fmean(values) if values else 0.0,
        f"median_{name}_ms": statistics.median(values) if values else 0.0,
        f"std_{name}_ms": statistics.pstdev(values) if len(values) > 1 else 0.0,
    }
    stats |= {f"p{percentile_label(p)}_{name}_ms": percentile(values, p) for p in percentiles}
    return stats


def parse_goodput(text: str | None) -> dict[str, float]:
    """'ttft:500 tpot:50' -> {'ttft': 500.0, 'tpot': 50.0} (milliseconds)."""
    slos: dict[str, float] = {}
    for item in (text or "").replace(",", " ").split():
        key, _, value = item.partition(":")
        limit = _milliseconds(value)
        if key not in ("ttft", "tpot", "e2el") or not 0 < limit < math.inf:
            raise ValueError(
                f"goodput: SLO '{item}': use ttft:MS, tpot:MS or e2el:MS, each MS a positive "
                "number of milliseconds (finite, above 0)"
            )
        slos[key] = limit
    return slos


def _milliseconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _good(result: RequestResult, slos: Mapping[str, float]) -> bool:
    values = {"ttft": result.ttft_ms, "tpot": result.tpot_ms or 0.0, "e2el": result.e2el_ms}
    return all((values[k] or 0.0) <= limit for k, limit in slos.items())


def peak_output_tokens_per_s(results: Sequence[RequestResult]) -> float:
    buckets: dict[int, int] = {}
    for result in results:
        for stamp in result.token_ns:
            buckets[stamp // 1_000_000_000] = buckets.get(stamp // 1_000_000_000, 0) + 1
    return float(max(buckets.values())) if buckets else 0.0


def max_concurrent(results: Sequence[RequestResult]) -> int:
    edges = []
    for result in results:
        if result.e2el_ms is not None:
            edges += [(result.sent_ns, 1), (result.sent_ns + int(result.e2el_ms * 1e6), -1)]
    current = peak = 0
    for _, step in sorted(edges, key=lambda e: (e[0], e[1])):
        current += step
        peak = max(peak, current)
    return peak


def summarize(
    results: Sequence[RequestResult],
    start_ns: int,
    end_ns: int,
    percentiles: Sequence[float] = DEFAULT_PERCENTILES,
    goodput: Mapping[str, float] | None = None,
) -> dict[str, object]:
    ok = [r for r in results if r.success]
    duration = max((end_ns - start_ns) / 1e9, 1e-9)
    output = sum(r.output_tokens for r in ok)
    prompt = sum(r.server_prompt_tokens or r.prompt_tokens for r in ok)
    summary: dict[str, object] = {
        "duration": duration,
        "completed": len(ok),
        "failed": len(results) - len(ok),
        "total_input_tokens": prompt,
        "total_output_tokens": output,
        "request_throughput": len(ok) / duration,
        "request_goodput": (sum(_good(r, goodput) for r in ok) / duration) if goodput else None,
        "output_throughput": output / duration,
        "total_token_throughput": (prompt + output) / duration,
        "max_output_tokens_per_s": peak_output_tokens_per_s(ok),
        "max_concurrent_requests": max_concurrent(ok),
    }
    series = {
        "ttft": [r.ttft_ms for r in ok if r.ttft_ms is not None],
        "tpot": [t for r in ok if (t := r.tpot_ms) is not None],
        "itl": [gap for r in ok for gap in r.itl_ms],
        "e2el": [r.e2el_ms for r in ok if r.e2el_ms is not None],
    }
    for name in METRICS:
        summary |= distribution(name, series[name], percentiles)
    summary |= distribution("queue_time", [r.queue_ms for r in ok], percentiles)
    return summary


def error_counts(errors: Iterable[str | None], most: int = 10) -> dict[str, int]:
    """The distinct error messages with their counts, most common first."""
    counted = collections.Counter(error for error in errors if error)
    return dict(counted.most_common(most))


def cache_summary(requests: Iterable[tuple[int, int | None, int | None]]) -> dict[str, object]:
    """From (our prompt tokens, the server's count of them or None, its cached prompt tokens or
    None if not reported) per request: the cached total, the share of our prompt tokens that
    came from the cache, and whether that share says the prompts were served from the cache.

    The server's count includes its chat template (a system prompt and role markers, the same
    for every request, so always cached after the first); the share counts only the cached
    tokens beyond those, so that only prompts sent again, not the template, make a hit."""
    reported = [(ours, server, cached) for ours, server, cached in requests if cached is not None]
    if not reported:
        return {"total_cached_tokens": None, "cached_share": None, "prompt_cache_hit": False}
    ours_cached = sum(
        max(cached - max((server or ours) - ours, 0), 0) for ours, server, cached in reported
    )
    share = ours_cached / max(sum(ours for ours, _, _ in reported), 1)
    return {
        "total_cached_tokens": sum(cached for _, _, cached in reported),
        "cached_share": share,
        "prompt_cache_hit": share > CACHE_HIT_SHARE,
    }
