"""A point's server telemetry: the scraper's lines between the point's two marks, turned into the
result file's `server_telemetry` object (written here and nowhere else). Standard library only:
the point document imports it in every generator's environment."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

NOT_SCRAPED = "the server's metrics were not scraped for this point"


@dataclass(frozen=True)
class SeriesRow:
    """One answered scrape: seconds from the point's start, gauges, cumulative counters."""

    t_s: float
    values: Mapping[str, float | None]

    def as_dict(self) -> dict[str, object]:
        return {"t_s": self.t_s, **self.values}


@dataclass(frozen=True)
class Summary:
    """The server's view of the point. Rates are over `elapsed_s` (the point's duration); the
    `_per_busy_s` ones over the seconds the server says its slots spent (llama.cpp only)."""

    scrapes: int
    failed_scrapes: int
    elapsed_s: float
    peak_running: float | None
    peak_waiting: float | None
    mean_kv_usage: float | None
    peak_kv_usage: float | None
    preemptions: float | None
    prompt_tokens: float | None  # llama.cpp: those it computed (its cache's are not counted)
    cached_prompt_tokens: float | None  # llama.cpp: those its prompt cache served
    decode_tokens: float | None
    prompt_tokens_per_s: float | None
    decode_tokens_per_s: float | None
    prompt_tokens_per_busy_s: float | None
    decode_tokens_per_busy_s: float | None
    prefix_cache_hit_rate: float | None
    scrapes_per_s: float
    scraper_cpu_s: float


@dataclass(frozen=True)
class ServerTelemetry:
    available: bool
    reason: str | None = None
    source: str | None = None
    interval_s: float | None = None
    series: tuple[SeriesRow, ...] = ()
    summary: Summary | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "available": self.available,
            "reason": self.reason,
            "source": self.source,
            "interval_s": self.interval_s,
            "series": [row.as_dict() for row in self.series],
            "summary": asdict(self.summary) if self.summary is not None else None,
        }


def duration_of(summary: Mapping[str, object]) -> float:
    """A point's measured duration (its rates are over it); 0 when it has none."""
    duration = summary.get("duration")
    return float(duration) if isinstance(duration, (int, float)) else 0.0


def unavailable(reason: str, interval_s: float | None = None) -> ServerTelemetry:
    return ServerTelemetry(False, reason, interval_s=interval_s)


Line = Mapping[str, object]


def point_telemetry(
    lines: Sequence[Line], start_ns: int, duration_s: float, interval_s: float
) -> ServerTelemetry:
    """The point's telemetry from the scraper's lines (its start mark to its end mark)."""
    answered = [line for line in lines if line.get("error") is None and "gauges" in line]
    if not answered:
        errors = [str(line["error"]) for line in lines if line.get("error")]
        return unavailable(errors[0] if errors else "the scraper wrote nothing", interval_s)
    series = tuple(_row(line, start_ns) for line in answered)
    elapsed = duration_s if duration_s > 0 else series[-1].t_s - series[0].t_s
    summary = _summary(series, elapsed, len(lines) - len(answered), _cost(lines))
    return ServerTelemetry(True, None, str(answered[0]["source"]), interval_s, series, summary)


def _row(line: Line, start_ns: int) -> SeriesRow:
    gauges, counters = line["gauges"], line["counters"]
    assert isinstance(gauges, Mapping) and isinstance(counters, Mapping)
    t_s = (_int(line["t_ns"]) - start_ns) / 1e9
    return SeriesRow(round(t_s, 4), {**gauges, **counters})


def _int(value: object) -> int:
    return int(str(value))


def _cost(lines: Sequence[Line]) -> tuple[float, float]:
    """Scrapes per second and the scraper's CPU seconds, from the first line to the last."""
    first, last = lines[0], lines[-1]
    span = (_int(last["t_ns"]) - _int(first["t_ns"])) / 1e9
    cpu = float(str(last["cpu_s"])) - float(str(first["cpu_s"]))
    return (len(lines) / span if span > 0 else 0.0), round(cpu, 4)


def _summary(
    series: Sequence[SeriesRow], elapsed: float, failed: int, cost: tuple[float, float]
) -> Summary:
    kv = _values(series, "kv_usage")
    prompt, decode = _delta(series, "prompt_tokens"), _delta(series, "decode_tokens")
    return Summary(
        scrapes=len(series) + failed,
        failed_scrapes=failed,
        elapsed_s=round(elapsed, 4),
        peak_running=_peak(series, "running"),
        peak_waiting=_peak(series, "waiting"),
        mean_kv_usage=statistics.fmean(kv) if kv else None,
        peak_kv_usage=max(kv) if kv else None,
        preemptions=_delta(series, "preemptions"),
        prompt_tokens=prompt,
        cached_prompt_tokens=_delta(series, "cached_prompt_tokens"),
        decode_tokens=decode,
        prompt_tokens_per_s=_ratio(prompt, elapsed),
        decode_tokens_per_s=_ratio(decode, elapsed),
        prompt_tokens_per_busy_s=_ratio(prompt, _delta(series, "prompt_seconds")),
        decode_tokens_per_busy_s=_ratio(decode, _delta(series, "decode_seconds")),
        prefix_cache_hit_rate=_ratio(
            _delta(series, "prefix_cache_hits"), _delta(series, "prefix_cache_queries")
        ),
        scrapes_per_s=round(cost[0], 3),
        scraper_cpu_s=cost[1],
    )


def _values(series: Sequence[SeriesRow], name: str) -> list[float]:
    return [float(v) for row in series if (v := row.values.get(name)) is not None]


def _peak(series: Sequence[SeriesRow], name: str) -> float | None:
    values = _values(series, name)
    return max(values) if values else None


def _delta(series: Sequence[SeriesRow], name: str) -> float | None:
    """The counter's growth from the first scrape that reports it to the last; None when it is
    not reported twice, or went down (the server restarted)."""
    values = _values(series, name)
    if len(values) < 2 or values[-1] < values[0]:
        return None
    return round(values[-1] - values[0], 6)


def _ratio(part: float | None, whole: float | None) -> float | None:
    if part is None or whole is None or whole <= 0:
        return None
    return round(part / whole, 6)
