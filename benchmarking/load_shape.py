"""How a point loads the server beyond its concurrency: its arrival schedule (a request count,
or a time limit), which requests its statistics trim, the request rate it achieved."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from benchmarking.schedule import ramp_offsets_ns, timed_offsets_ns
from benchmarking.shape_args import LoadShape
from benchmarking.sweep import Point


def achieved_rate(sent_ns: Sequence[int]) -> float | None:
    """Requests sent per second, from the first send to the last (None: fewer than two sent)."""
    if len(sent_ns) < 2:
        return None
    span_s = (max(sent_ns) - min(sent_ns)) / 1e9
    return (len(sent_ns) - 1) / span_s if span_s > 0 else None


Labeller = Callable[[Mapping[str, object]], str]
MAX_TIMED_REQUESTS = 20_000  # prompts made at most for a timed point
HEADROOM = 4.0  # a closed-loop timed point makes this many times the prompts it should need
# (the warm-up's one request may take longer than a loaded one: a new connection, a cold cache)


def timed_count(shape: LoadShape, point: Point, warm_latency_s: float | None) -> int:
    """How many prompts a timed closed-loop point needs: its concurrency times the requests
    one stream completes in the duration at the warm-up's latency, with headroom (a request
    count given as num_prompts caps it)."""
    assert shape.duration_s is not None
    if warm_latency_s is None or warm_latency_s <= 0:
        return min(point.num_prompts, MAX_TIMED_REQUESTS)
    per_stream = math.ceil(shape.duration_s / warm_latency_s * HEADROOM) + 1
    return min(point.concurrency * per_stream, MAX_TIMED_REQUESTS)


def closed_loop(shape: LoadShape, point: Point) -> bool:
    """All at once, up to the concurrency: no rate and no ramp."""
    return shape.ramp is None and math.isinf(point.rate)


def schedule(
    shape: LoadShape,
    point: Point,
    burstiness: float,
    seed: int,
    warm_latency_s: float | None = None,
    capped: bool = False,
) -> list[int]:
    """Each request's arrival offset (ns): the point's count, or as many as its duration takes
    (at a rate or a ramp, those arriving within it; `capped`: at most the point's count). A
    ramp moves by request for a counted point (as vLLM's), by time for a timed one."""
    rate_at = shape.ramp_rate if shape.ramp else (lambda progress: point.rate)
    if shape.duration_s is None:
        if closed_loop(shape, point):
            return [0] * point.num_prompts
        return ramp_offsets_ns(point.num_prompts, rate_at, burstiness, seed)
    if closed_loop(shape, point):
        count = timed_count(shape, point, warm_latency_s)
        return [0] * (min(count, point.num_prompts) if capped else count)
    most = point.num_prompts if capped else MAX_TIMED_REQUESTS
    return timed_offsets_ns(shape.duration_s, rate_at, burstiness, seed, most)


def trimmed_as(shape: LoadShape, sent_offset_ns: int) -> str | None:
    """'warmup' or 'cooldown' for a request the statistics leave out (by when it was sent),
    None for a measured one."""
    if not shape.timed:
        return None
    assert shape.duration_s is not None
    seconds = sent_offset_ns / 1e9
    # Without a warm-up nothing is trimmed at the start: the first send may be stamped a hair
    # before the point's own start (a negative offset), and is still measured.
    if shape.warmup_s > 0 and seconds < shape.warmup_s:
        return "warmup"
    if seconds >= shape.duration_s - shape.cooldown_s and shape.cooldown_s > 0:
        return "cooldown"
    return None


def shape_fields(
    shape: LoadShape,
    trimmed: Sequence[str | None],
    scheduled_ns: Sequence[int] = (),
    sent_ns: Sequence[int] = (),
) -> dict[str, object] | None:
    """The result file's `load_shape`: the time limit, the trimming, how many were left out; a
    ramp's rates and, per second, the rate asked (scheduled arrivals) and the rate achieved
    (requests sent). Offsets are from the point's start."""
    if not shape.timed and shape.ramp is None:
        return None
    fields: dict[str, object] = {
        "duration_s": shape.duration_s,
        "warmup_s": shape.warmup_s,
        "cooldown_s": shape.cooldown_s,
        "sent": len(trimmed),
        "trimmed_warmup": sum(t == "warmup" for t in trimmed),
        "trimmed_cooldown": sum(t == "cooldown" for t in trimmed),
        "ramp": shape.ramp,
        "ramp_start_rps": shape.ramp_start if shape.ramp else None,
        "ramp_end_rps": shape.ramp_end if shape.ramp else None,
        "rate_over_time": rate_over_time(scheduled_ns, sent_ns) if shape.ramp else None,
        "ran_out": shape.timed and bool(scheduled_ns) and len(sent_ns) == len(scheduled_ns),
    }
    return fields


def shape_notes(documents: Sequence[Mapping[str, object]], label: Labeller) -> list[str]:
    """Timed points that sent every prompt they had before their duration ended."""
    return [
        f"{label(d)}: sent all {shape['sent']} prompts it had before its duration "
        f"({shape['duration_s']:g} s) ended; give num_prompts=N for more"
        for d in documents
        if isinstance(shape := d.get("load_shape"), Mapping) and shape.get("ran_out")
    ]


MAX_BINS = 60  # rate_over_time: one-second bins, wider ones for a point longer than a minute


def rate_over_time(scheduled_ns: Sequence[int], sent_ns: Sequence[int]) -> list[dict[str, float]]:
    """Per bin from the start: its start (s), the requests per second scheduled and sent in it."""
    last = max([*scheduled_ns, *sent_ns], default=0) / 1e9
    width = max(1.0, math.ceil(last / MAX_BINS))
    bins = int(last // width) + 1

    def per_bin(offsets: Sequence[int]) -> list[int]:
        counts = [0] * bins
        for offset in offsets:
            counts[min(int(offset / 1e9 // width), bins - 1)] += 1
        return counts

    asked, achieved = per_bin(scheduled_ns), per_bin(sent_ns)
    return [
        {"t_s": i * width, "asked_rps": asked[i] / width, "achieved_rps": achieved[i] / width}
        for i in range(bins)
    ]
