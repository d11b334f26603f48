"""95% intervals of the figures a verdict reads (mean TTFT, mean TPOT, output throughput), from
a point's request rows: a bootstrap over its requests with a fixed seed (the same requests give
the same interval), and over its repeats too when it was measured several times (each repeat
drawn first, then requests within it, so the spread between runs counts). Standard library
only: the tool drivers' environments compute them too."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

CONFIDENCE = 0.95
RESAMPLES = 1000
SEED = 0  # fixed: an interval is a function of the requests, never of the moment
MIN_REQUESTS = 3  # fewer successful requests give no interval, so no verdict (fail closed)
FIGURES = ("mean_ttft_ms", "mean_tpot_ms", "output_throughput")
Row = Mapping[str, object]


@dataclass(frozen=True)
class Repeat:
    """One measurement of a point: its request rows and the throughput it measured."""

    rows: Sequence[Row]
    output_throughput: float | None


def repeat_of(document: Mapping[str, object], rows: Sequence[Row]) -> Repeat:
    """A point's measurement from its result document and request rows."""
    return Repeat(rows, _number(document.get("output_throughput")))


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _successful(rows: Sequence[Row]) -> list[Row]:
    return [row for row in rows if row.get("success") and not row.get("trimmed")]


def _mean_of(key: str) -> Callable[[Sequence[Row], Repeat], float | None]:
    def mean(rows: Sequence[Row], repeat: Repeat) -> float | None:
        values = [v for row in rows if (v := _number(row.get(key))) is not None]
        return statistics.fmean(values) if values else None

    return mean


def _token_rate(rows: Sequence[Row]) -> float | None:
    tokens = sum(_number(row.get("output_tokens")) or 0.0 for row in rows)
    seconds = sum(_number(row.get("e2el_ms")) or 0.0 for row in rows)
    return tokens / seconds if seconds > 0 else None


def _throughput(rows: Sequence[Row], repeat: Repeat) -> float | None:
    """The repeat's throughput scaled by how its requests' token rate (output tokens over
    latency) moves when the requests are resampled: a run's total over its duration has one
    value, its requests say how much that value owes to chance."""
    measured, whole = repeat.output_throughput, _token_rate(_successful(repeat.rows))
    resampled = _token_rate(rows)
    if measured is None or not whole or resampled is None:
        return None
    return measured * resampled / whole


STATISTICS: dict[str, Callable[[Sequence[Row], Repeat], float | None]] = {
    "mean_ttft_ms": _mean_of("ttft_ms"),
    "mean_tpot_ms": _mean_of("tpot_ms"),
    "output_throughput": _throughput,
}


def _values(repeats: Sequence[Repeat], figure: str) -> int:
    key = {"mean_ttft_ms": "ttft_ms", "mean_tpot_ms": "tpot_ms"}.get(figure, "e2el_ms")
    return sum(
        _number(row.get(key)) is not None for repeat in repeats for row in _successful(repeat.rows)
    )


def _resample(rng: random.Random, repeats: Sequence[Repeat]) -> list[tuple[list[Row], Repeat]]:
    chosen = [rng.choice(repeats) for _ in repeats] if len(repeats) > 1 else list(repeats)
    drawn = []
    for repeat in chosen:
        rows = _successful(repeat.rows)
        drawn.append((rng.choices(rows, k=len(rows)) if rows else [], repeat))
    return drawn


def _estimate(drawn: Sequence[tuple[Sequence[Row], Repeat]], figure: str) -> float | None:
    values = [v for rows, repeat in drawn if (v := STATISTICS[figure](rows, repeat)) is not None]
    return statistics.fmean(values) if values else None


def _quantile(ordered: Sequence[float], share: float) -> float:
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bootstrap(
    repeats: Sequence[Repeat], figures: Sequence[str] = FIGURES
) -> dict[str, list[float] | None]:
    """Each figure's 95% percentile-bootstrap interval; None where fewer than MIN_REQUESTS
    successful requests measured it."""
    rng = random.Random(SEED)
    draws: dict[str, list[float]] = {figure: [] for figure in figures}
    for _ in range(RESAMPLES):
        drawn = _resample(rng, repeats)
        for figure in figures:
            value = _estimate(drawn, figure)
            if value is not None:
                draws[figure].append(value)
    tail = (1 - CONFIDENCE) / 2
    intervals: dict[str, list[float] | None] = {}
    for figure in figures:
        ordered = sorted(draws[figure])
        enough = _values(repeats, figure) >= MIN_REQUESTS and ordered
        intervals[figure] = (
            [_quantile(ordered, tail), _quantile(ordered, 1 - tail)] if enough else None
        )
    return intervals


def method(repeats: int) -> str:
    across = (
        f"over {repeats} repeats (fresh prompts each) and their requests"
        if repeats > 1
        else "over requests"
    )
    return f"percentile bootstrap {across}, {RESAMPLES} resamples, seed {SEED}"


def interval_fields(repeats: Sequence[Repeat]) -> dict[str, object]:
    """The fields a point's result file carries beside its means."""
    intervals = bootstrap(repeats)
    missing = [figure for figure, interval in intervals.items() if interval is None]
    return {
        "interval_95": intervals,
        "interval_method": method(len(repeats)),
        "interval_note": (
            f"no interval for {', '.join(missing)}: fewer than {MIN_REQUESTS} successful "
            "requests measured it, so no check can pass on it"
            if missing
            else None
        ),
    }
