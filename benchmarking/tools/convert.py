"""Shared parts of converting a tool's summary into our per-point result document."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from benchmarking.metrics import METRICS, percentile_label

Lookup = Callable[[float], float | None]  # percentile -> value (None: the tool has no such one)


def stats(
    name: str, mean: float, median: float, std: float, at: Lookup, ps: Sequence[float]
) -> dict[str, float]:
    """vLLM's mean_/median_/std_/pNN_<name>_ms fields; percentiles the tool lacks are left out."""
    fields = {f"mean_{name}_ms": mean, f"median_{name}_ms": median, f"std_{name}_ms": std}
    for p in ps:
        value = at(p)
        if value is not None:
            fields[f"p{percentile_label(p)}_{name}_ms"] = value
    return fields


def throughputs(
    completed: int, input_tokens: int, output_tokens: int, duration: float
) -> dict[str, object]:
    seconds = max(duration, 1e-9)
    return {
        "duration": duration,
        "completed": completed,
        "total_input_tokens": input_tokens,
        "total_output_tokens": output_tokens,
        "request_throughput": completed / seconds,
        "request_goodput": None,
        "output_throughput": output_tokens / seconds,
        "total_token_throughput": (input_tokens + output_tokens) / seconds,
    }


def complete(summary: Mapping[str, object]) -> list[str]:
    """The vLLM metric names a converted summary lacks (empty: it has them all)."""
    wanted = [f"mean_{m}_ms" for m in METRICS] + ["completed", "failed", "duration"]
    return [name for name in wanted if name not in summary]
