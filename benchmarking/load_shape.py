"""How a point loads the server beyond its concurrency: its arrival schedule (a request count,
or a time limit), which requests its statistics trim, the request rate it achieved."""

from __future__ import annotations

import math
from collections.abc import Sequence

from benchmarking.schedule import arrival_offsets_ns
from benchmarking.shape_args import LoadShape
from benchmarking.sweep import Point


def achieved_rate(sent_ns: Sequence[int]) -> float | None:
    """Requests sent per second, from the first send to the last (None: fewer than two sent)."""
    if len(sent_ns) < 2:
        return None
    span_s = (max(sent_ns) - min(sent_ns)) / 1e9
    return (len(sent_ns) - 1) / span_s if span_s > 0 else None


MAX_TIMED_REQUESTS = 20_000  # prompts made at most for a timed point
HEADROOM = 1.5  # a closed-loop timed point makes this many times the prompts it should need


def timed_count(shape: LoadShape, point: Point, warm_latency_s: float | None) -> int:
    """How many prompts a timed closed-loop point needs: its concurrency times the requests
    one stream completes in the duration at the warm-up's latency, with headroom (a request
    count given as num_prompts caps it)."""
    assert shape.duration_s is not None
    if warm_latency_s is None or warm_latency_s <= 0:
        return min(point.num_prompts, MAX_TIMED_REQUESTS)
    per_stream = math.ceil(shape.duration_s / warm_latency_s * HEADROOM) + 1
    return min(point.concurrency * per_stream, MAX_TIMED_REQUESTS)


def schedule(
    shape: LoadShape,
    point: Point,
    burstiness: float,
    seed: int,
    warm_latency_s: float | None = None,
    capped: bool = False,
) -> list[int]:
    """Each request's arrival offset (ns): the point's count, or as many as its duration takes
    (at a finite rate, those arriving within it; `capped`: at most the point's count)."""
    if not shape.timed:
        return arrival_offsets_ns(point.num_prompts, point.rate, burstiness, seed)
    assert shape.duration_s is not None
    if math.isinf(point.rate):
        count = timed_count(shape, point, warm_latency_s)
        return [0] * (min(count, point.num_prompts) if capped else count)
    enough = math.ceil(point.rate * shape.duration_s * 2) + 16
    offsets = arrival_offsets_ns(min(enough, MAX_TIMED_REQUESTS), point.rate, burstiness, seed)
    within = [o for o in offsets if o < shape.duration_s * 1e9]
    return within[: point.num_prompts] if capped else within


def trimmed_as(shape: LoadShape, sent_offset_ns: int) -> str | None:
    """'warmup' or 'cooldown' for a request the statistics leave out (by when it was sent),
    None for a measured one."""
    if not shape.timed:
        return None
    assert shape.duration_s is not None
    seconds = sent_offset_ns / 1e9
    if seconds < shape.warmup_s:
        return "warmup"
    if seconds >= shape.duration_s - shape.cooldown_s and shape.cooldown_s > 0:
        return "cooldown"
    return None


def shape_fields(shape: LoadShape, trimmed: Sequence[str | None]) -> dict[str, object] | None:
    """The result file's `load_shape`: the time limit, the trimming, how many were left out."""
    if not shape.timed:
        return None
    return {
        "duration_s": shape.duration_s,
        "warmup_s": shape.warmup_s,
        "cooldown_s": shape.cooldown_s,
        "sent": len(trimmed),
        "trimmed_warmup": sum(t == "warmup" for t in trimmed),
        "trimmed_cooldown": sum(t == "cooldown" for t in trimmed),
    }
