"""How a point loads the server beyond its concurrency: the request rate it achieved."""

from __future__ import annotations

from collections.abc import Sequence


def achieved_rate(sent_ns: Sequence[int]) -> float | None:
    """Requests sent per second, from the first send to the last (None: fewer than two sent)."""
    if len(sent_ns) < 2:
        return None
    span_s = (max(sent_ns) - min(sent_ns)) / 1e9
    return (len(sent_ns) - 1) / span_s if span_s > 0 else None
