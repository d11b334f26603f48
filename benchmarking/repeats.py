"""A point measured several times: `repeat=N` asks for N measurements, and a target point whose
95% interval straddles an enforced target is measured again (fresh prompts each time, so no
repeat is a cache hit) until the interval decides it or the spec's `max_repeats` is reached.
A `must` goodput share of the run's requirements file (`--requirements`, saved in the run folder
as requirements.json) whose Wilson interval straddles its minimum is measured again the same way.
Each repeat keeps its own files (`..._repeat-R.json`, kind `<kind>_repeat`); the point's own
file becomes their summary, with the interval over repeats and requests."""

from __future__ import annotations

import collections
import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarking import intervals, metrics
from reports.requirements import grade_goodput
from reports.results import write_json, write_jsonl
from reports.run_data import REQUIREMENTS_FILE
from reports.run_data import Point as ResultPoint
from reports.targets import check_targets

DEFAULT_MAX_REPEATS = 3  # a straddling CPU target point costs at most two more (~20 s)
SUMMED = ("duration", "completed", "failed", "total_input_tokens", "total_output_tokens")
AVERAGED = (
    "request_throughput",
    "request_goodput",
    "output_throughput",
    "total_token_throughput",
    "max_output_tokens_per_s",
)
ROW_SERIES = {"ttft": "ttft_ms", "tpot": "tpot_ms", "e2el": "e2el_ms", "queue_time": "queue_ms"}
Measure = Callable[[int], dict[str, Any]]  # repeat number -> that measurement's document


def max_repeats(spec: Mapping[str, Any]) -> int:
    value = spec.get("max_repeats")
    return int(value) if isinstance(value, int) and value >= 1 else DEFAULT_MAX_REPEATS


@dataclass(frozen=True)
class MeasuredPoint(ResultPoint):
    """A point as the reports read it, its request rows given (a summary's are its repeats')."""

    rows: tuple[Mapping[str, Any], ...] = ()

    def request_rows(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self.rows]


def run_requirements(path: Path) -> Mapping[str, Any] | None:
    """The run folder's requirements (a point's file sits in <run>/benchmarks/), if any."""
    found = path.parent.parent / REQUIREMENTS_FILE
    return json.loads(found.read_text()) if found.is_file() else None


def straddling(
    spec: Mapping[str, Any],
    document: Mapping[str, Any],
    path: Path,
    rows: Sequence[Mapping[str, Any]] = (),
) -> list[str]:
    """The enforced target checks at this point whose interval straddles the target; with a
    requirements file, which replaces the registry's targets, a `must` goodput share whose
    interval straddles its minimum."""
    requirements = run_requirements(path) if spec else None
    if requirements is not None:
        if not requirements.get("goodput"):
            return []
        grades = grade_goodput(requirements, [MeasuredPoint(document, path, tuple(rows))])
        return ["goodput" for g in grades if g.marginal and g.priority == "must"]
    found = []
    for target in check_targets(spec, [ResultPoint(document, path)]):
        for tier in target.tiers:
            if tier.enforced and target.measured is not None:
                found += [f"{tier.tier} {c.metric}" for c in tier.checks if c.marginal]
    return found


def measure(
    measure_once: Measure, path: Path, asked: int, spec: Mapping[str, Any]
) -> dict[str, Any]:
    """Measure a point `asked` times, and again while an enforced check straddles its target,
    up to the spec's cap; one measurement stays the point's own file, as it was."""
    cap = max(max_repeats(spec), asked)
    documents = [measure_once(1 if asked > 1 else 0)]
    across = straddling(spec, documents[0], path, read_jsonl(rows_path(path)))
    if asked == 1 and not across:
        return documents[0]
    keep_first_as_repeat(path)
    reason = f"asked for {asked} (repeat={asked})"
    straddled = dict.fromkeys(across)
    while len(documents) < asked or (len(documents) < cap and across):
        documents.append(measure_once(len(documents) + 1))
        rows = [row for repeat in _repeat_rows(path, len(documents)) for row in repeat]
        across = straddling(spec, summary(path, documents, reason), path, rows)
        straddled |= dict.fromkeys(across)
    if len(documents) > asked:
        reason = (
            f"the interval straddled an enforced target ({', '.join(straddled)}): measured "
            f"{len(documents)} times, at most max_repeats {cap}"
        )
    return write_summary(path, documents, reason)


def repeat_path(path: Path, repeat: int) -> Path:
    return path.with_name(f"{path.stem}_repeat-{repeat}.json")


def rows_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}_requests.jsonl")


def keep_first_as_repeat(path: Path) -> None:
    """The single measurement already written as the point's file becomes repeat 1."""
    if not path.is_file():
        return
    document = json.loads(path.read_text())
    document |= {"kind": repeat_kind(str(document["kind"])), "repeat": 1}
    write_json(repeat_path(path, 1), document)
    rows = [row | {"repeat": 1} for row in read_jsonl(rows_path(path))]
    write_jsonl(rows_path(repeat_path(path, 1)), rows)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def repeat_kind(kind: str) -> str:
    return kind if kind.endswith("_repeat") else f"{kind}_repeat"


def _repeat_rows(path: Path, count: int) -> list[list[dict[str, Any]]]:
    return [read_jsonl(rows_path(repeat_path(path, r))) for r in range(1, count + 1)]


def summary(path: Path, documents: Sequence[Mapping[str, Any]], reason: str) -> dict[str, Any]:
    """The point over its repeats: counts summed, rates averaged, latencies from all requests,
    the interval over repeats and their requests."""
    rows = _repeat_rows(path, len(documents))
    merged = dict(documents[-1])
    merged |= {"kind": str(merged["kind"]).removesuffix("_repeat"), "repeat": None}
    merged["prompt_seed"] = documents[0].get("prompt_seed")
    for key in SUMMED:
        merged[key] = sum(float(d.get(key) or 0) for d in documents)
    for key in ("completed", "failed", "total_input_tokens", "total_output_tokens"):
        merged[key] = int(merged[key])
    for key in AVERAGED:
        values = [float(v) for d in documents if isinstance(v := d.get(key), (int, float))]
        merged[key] = statistics.fmean(values) if values else None
    merged |= _distributions(rows, documents[-1])
    errors = collections.Counter[str]()
    for document in documents:
        errors.update(document.get("error_counts") or {})
    merged["error_counts"] = dict(errors.most_common(10))
    merged["errors"] = list(merged["error_counts"])
    merged["cached_share"] = _highest(documents, "cached_share")
    merged["prompt_cache_hit"] = any(d.get("prompt_cache_hit") for d in documents)
    merged["repeats"] = [_repeat_entry(r, d) for r, d in enumerate(documents, 1)]
    merged["repeat_reason"] = reason
    repeats = [intervals.repeat_of(d, r) for d, r in zip(documents, rows, strict=True)]
    return merged | intervals.interval_fields(repeats)


def _distributions(
    rows: Sequence[Sequence[Mapping[str, Any]]], last: Mapping[str, Any]
) -> dict[str, Any]:
    percentiles = [
        float(key[1:].split("_")[0])
        for key in last
        if key.startswith("p") and key.endswith("_ttft_ms")
    ]
    pooled = [
        row for repeat in rows for row in repeat if row.get("success") and not row.get("trimmed")
    ]
    fields: dict[str, Any] = {}
    for name, key in ROW_SERIES.items():
        values = [float(v) for row in pooled if isinstance(v := row.get(key), (int, float))]
        fields |= metrics.distribution(name, values, percentiles)
    gaps = [float(gap) for row in pooled for gap in row.get("itl_ms") or ()]
    return fields | metrics.distribution("itl", gaps, percentiles)


def _highest(documents: Sequence[Mapping[str, Any]], key: str) -> float | None:
    values = [float(v) for d in documents if isinstance(v := d.get(key), (int, float))]
    return max(values) if values else None


def _repeat_entry(repeat: int, document: Mapping[str, Any]) -> dict[str, Any]:
    keep = (
        "prompt_seed",
        "completed",
        "failed",
        "mean_ttft_ms",
        "mean_tpot_ms",
        "output_throughput",
    )
    return {"repeat": repeat, **{key: document.get(key) for key in keep}}


def write_summary(
    path: Path, documents: Sequence[Mapping[str, Any]], reason: str
) -> dict[str, Any]:
    merged = summary(path, documents, reason)
    rows = [row for repeat in _repeat_rows(path, len(documents)) for row in repeat]
    write_jsonl(rows_path(path), rows)
    write_json(path, merged)
    return merged
