"""The two metric families we read from a server's `/metrics`: vLLM's (`vllm:`) and llama.cpp's
(`llamacpp:`), each mapped onto one set of names. Parsed with prometheus_client's text parser;
series a server labels (vLLM: `model_name`, `engine`) are summed over their labels, ratios take
the fullest series. A metric the server does not export is None ("not reported")."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

GAUGES = ("running", "waiting", "kv_usage", "kv_tokens", "busy_slots_per_decode")
COUNTERS = (
    "prompt_tokens",
    "decode_tokens",
    "prompt_seconds",  # llama.cpp: seconds its slots spent on prompts
    "decode_seconds",  # llama.cpp: seconds its slots spent generating
    "decode_calls",
    "cached_prompt_tokens",
    "preemptions",
    "prefix_cache_hits",
    "prefix_cache_queries",
)


@dataclass(frozen=True)
class Family:
    """A server's metric names for our gauges and counters; several names: the first found."""

    source: str
    prefix: str
    gauges: Mapping[str, tuple[str, ...]]
    counters: Mapping[str, tuple[str, ...]]


VLLM = Family(
    "vllm",
    "vllm:",
    {
        "running": ("num_requests_running",),
        "waiting": ("num_requests_waiting",),
        "kv_usage": ("kv_cache_usage_perc", "gpu_cache_usage_perc"),  # a fraction, despite "perc"
    },
    {
        "prompt_tokens": ("prompt_tokens",),
        "decode_tokens": ("generation_tokens",),
        "preemptions": ("num_preemptions",),
        "prefix_cache_hits": ("prefix_cache_hits",),
        "prefix_cache_queries": ("prefix_cache_queries",),
    },
)
LLAMA_CPP = Family(
    "llama.cpp",
    "llamacpp:",
    {
        "running": ("requests_processing",),
        "waiting": ("requests_deferred",),
        "kv_usage": ("kv_cache_usage_ratio",),
        "kv_tokens": ("kv_cache_tokens",),
        "busy_slots_per_decode": ("n_busy_slots_per_decode",),
    },
    {
        "prompt_tokens": ("prompt_tokens",),
        "decode_tokens": ("tokens_predicted",),
        "prompt_seconds": ("prompt_seconds",),
        "decode_seconds": ("tokens_predicted_seconds",),
        "decode_calls": ("n_decode",),
        "cached_prompt_tokens": ("prompt_tokens_cached",),
    },
)
FAMILIES = (VLLM, LLAMA_CPP)


class NotMetrics(ValueError):
    """An answer that is not Prometheus text, or has neither family's metrics."""


@dataclass(frozen=True)
class Reading:
    """One scrape's values in our names; None: the server does not report it."""

    source: str
    gauges: Mapping[str, float | None]
    counters: Mapping[str, float | None]


def read_metrics(text: str) -> Reading:
    """The values of the family the text carries; NotMetrics when it carries neither."""
    totals, fullest = _samples(text)
    family = next((f for f in FAMILIES if any(n.startswith(f.prefix) for n in totals)), None)
    if family is None:
        raise NotMetrics("the answer has no vLLM (vllm:) or llama.cpp (llamacpp:) metrics")
    gauges = {name: _gauge(family, name, totals, fullest) for name in GAUGES}
    counters = {name: _counter(family, name, totals) for name in COUNTERS}
    return Reading(family.source, gauges, counters)


def _samples(text: str) -> tuple[dict[str, float], dict[str, float]]:
    """Each sample name's sum over its labels, and its largest value."""
    totals: dict[str, float] = defaultdict(float)
    fullest: dict[str, float] = {}
    try:
        for metric in text_string_to_metric_families(text):
            for sample in metric.samples:
                totals[sample.name] += float(sample.value)
                fullest[sample.name] = max(fullest.get(sample.name, -1.0), float(sample.value))
    except (ValueError, IndexError, TypeError) as error:  # a line that is not Prometheus text
        raise NotMetrics(f"the answer is not Prometheus text ({error})") from None
    return dict(totals), fullest


def _gauge(
    family: Family, name: str, totals: Mapping[str, float], fullest: Mapping[str, float]
) -> float | None:
    values = fullest if name == "kv_usage" else totals  # a ratio: the fullest engine's
    return _first(family, family.gauges.get(name, ()), values)


def _counter(family: Family, name: str, totals: Mapping[str, float]) -> float | None:
    return _first(family, family.counters.get(name, ()), totals)


def _first(family: Family, bases: tuple[str, ...], values: Mapping[str, float]) -> float | None:
    """The first of the names the server exports. The parser keeps `_total` on a counter's
    samples (dropping it from the family's name only) and adds it where a counter lacks it
    (llama.cpp types its busy-slots average as a counter), so both spellings are looked up."""
    for base in bases:
        for sample in (family.prefix + base, f"{family.prefix}{base}_total"):
            if sample in values:
                return values[sample]
    return None
