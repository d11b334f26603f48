"""What the end of a sweep prints: the summary table, which points had failed requests and
why, which were served from the prompt cache; and whether the failures fail the run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarking.client_cpu import busy_client_notes
from benchmarking.metrics import percentile_label
from benchmarking.telemetry.point import NOT_SCRAPED

COLUMNS = (  # short headers, a light frame: the whole table fits 80 columns (a CI log, a laptop)
    ("ISL", "isl", "{}"),
    ("OSL", "osl", "{}"),
    ("C", "concurrency", "{}"),
    ("N", "num_prompts", "{}"),
    ("TTFT ms\n95%", "mean_ttft_ms", "{:.1f}"),  # the mean, its interval on the line below
    ("p99 TTFT", "p99_ttft_ms", "{:.1f}"),
    ("TPOT ms", "mean_tpot_ms", "{:.2f}"),
    ("tok/s/u", "tput_user", "{:.1f}"),
    ("tok/s\n95%", "output_throughput", "{:.1f}"),
    ("req/s", "request_throughput", "{:.2f}"),
    ("fail", "failed", "{}"),
)
INTERVAL_OF = {"mean_ttft_ms", "output_throughput"}  # the figures shown with their interval
RATE_COLUMN = ("rate\nasked", "asked_rate", "{}")  # shown when a point had a finite rate

SUMMARY_CAPTION = (
    "C: concurrency; TTFT, TPOT: means; tok/s/u: per user; under TTFT and tok/s: the 95% interval"
)


def tput_user(document: Mapping[str, object]) -> float:
    tpot = document.get("mean_tpot_ms")
    return 1000 / tpot if isinstance(tpot, (int, float)) and tpot > 0 else 0.0


def _bound(value: float) -> str:
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"


def interval_text(document: Mapping[str, object], key: str) -> str | None:
    """The 95% interval of a figure as 'a-b' (None: the point has none)."""
    intervals = document.get("interval_95")
    pair = intervals.get(key) if isinstance(intervals, Mapping) else None
    if isinstance(pair, list) and len(pair) == 2:
        return f"{_bound(pair[0])}-{_bound(pair[1])}"
    return None


def _cell(value: object, fmt: str) -> str:
    """A number in its format; a field a failed point lacks stays empty."""
    return "" if value is None else fmt.format(value)


def asked_rate(document: Mapping[str, object]) -> float | None:
    """The request rate a point asked for; None: all at once."""
    rate = document.get("request_rate")
    return float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None


def _columns(documents: Sequence[Mapping[str, object]]) -> list[tuple[str, str, str]]:
    columns = list(COLUMNS)
    if any(asked_rate(d) is not None for d in documents):
        columns.insert(3, RATE_COLUMN)
    return columns


def _row(
    document: Mapping[str, object], columns: Sequence[tuple[str, str, str]] = COLUMNS
) -> list[str]:
    rate = asked_rate(document)
    asked = "inf" if rate is None else f"{rate:g}"
    row = dict(document) | {"tput_user": tput_user(document), "asked_rate": asked}
    cells = []
    for _, key, fmt in columns:
        cell = _cell(row.get(key), fmt)
        interval = interval_text(document, key) if key in INTERVAL_OF else None
        cells.append(f"{cell}\n{interval}" if cell and interval else cell)
    return cells


def summary_table(documents: Sequence[Mapping[str, object]], title: str = "benchmarks") -> Table:
    table = Table(
        title=title, box=None, pad_edge=False, padding=(0, 0, 0, 1), header_style="bold underline",
        caption=SUMMARY_CAPTION,
    )  # fmt: skip
    columns = _columns(documents)
    for header, _, _ in columns:
        table.add_column(header, justify="right")
    for document in documents:
        table.add_row(*_row(document, columns))
    return table


PERCENTILE_METRICS = (("TTFT", "ttft"), ("TPOT", "tpot"), ("ITL", "itl"), ("E2EL", "e2el"))


def percentile_table(
    documents: Sequence[Mapping[str, object]], percentiles: Sequence[float], title: str
) -> Table:
    """`--percentile-report`: per point and metric, the mean and each percentile (ms)."""
    labels = [percentile_label(p) for p in percentiles]
    table = Table(title=f"{title}: percentiles (ms)")
    for header in ("Point", "Metric", "Mean", *(f"P{label}" for label in labels)):
        table.add_column(header, justify="right")
    for document in documents:
        for name, key in PERCENTILE_METRICS:
            cells = [document.get(f"mean_{key}_ms")]
            cells += [document.get(f"p{label}_{key}_ms") for label in labels]
            table.add_row(point_label(document), name, *(_cell(v, "{:.1f}") for v in cells))
    return table


def point_label(document: Mapping[str, object]) -> str:
    window = f" window {document['window']}" if document.get("window") else ""
    rate = asked_rate(document)
    window = ("" if rate is None else f" rate {rate:g}/s") + window
    prefix = document.get("prefix_cache")
    variant = f" prefix {prefix['variant']}" if isinstance(prefix, Mapping) else ""
    return (
        f"ISL {document.get('isl')} OSL {document.get('osl')} "
        f"C {document.get('concurrency')}{window}{variant}"
    )


def prefix_cache_notes(documents: Sequence[Mapping[str, object]]) -> list[str]:
    """Per point measured with and without a shared prefix: the cache's effect on TTFT and
    throughput, and how much of the shared variant the server answered from its cache."""
    pairs: dict[tuple[object, ...], dict[str, Mapping[str, object]]] = {}
    for document in documents:
        prefix = document.get("prefix_cache")
        if isinstance(prefix, Mapping):
            key = (document.get("isl"), document.get("osl"), document.get("concurrency"))
            pairs.setdefault(key, {})[str(prefix["variant"])] = document
    lines = []
    for (isl, osl, concurrency), pair in pairs.items():
        none = pair.pop("none", None)
        shared = next(iter(pair.values()), None)
        if none is None or shared is None:
            continue
        before, after = _number(none.get("mean_ttft_ms")), _number(shared.get("mean_ttft_ms"))
        prefix = shared["prefix_cache"]
        assert isinstance(prefix, Mapping)
        what = (
            f"{prefix['shared_prefix_tokens']} shared tokens"
            if "shared_prefix_tokens" in prefix
            else f"{prefix['turns']}-turn conversations"
        )
        ratio = f" ({after / before:.2f}x)" if before and after is not None else ""
        cached = _number(shared.get("cached_share"))
        lines.append(
            f"prefix cache, ISL {isl} OSL {osl} C {concurrency}: TTFT {_cell(before, '{:.1f}')} ms "
            f"without a shared prefix, {_cell(after, '{:.1f}')} ms with {what}"
            f"{ratio}; output {_cell(_number(none.get('output_throughput')), '{:.1f}')} -> "
            f"{_cell(_number(shared.get('output_throughput')), '{:.1f}')} tok/s; "
            + (
                f"{cached:.0%} of the {prefix['variant']} variant's prompt tokens came from "
                "the cache"
                if cached is not None
                else "the server does not report cached tokens"
            )
        )
    return lines


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def failed_share(document: Mapping[str, object]) -> float:
    failed, completed = int(str(document["failed"])), int(str(document["completed"]))
    return failed / max(failed + completed, 1)


def rejected(document: Mapping[str, object], max_failed: float) -> bool:
    """A point fails the run when nothing completed, or more failed than `max_failed` allows."""
    return int(str(document["completed"])) == 0 or failed_share(document) > max_failed


def failure_notes(
    documents: Sequence[Mapping[str, object]], max_failed: float, reasons: int = 3
) -> list[str]:
    """Per point with failed requests: how many of how many, and the most common reasons."""
    lines = []
    for document in documents:
        failed = int(str(document["failed"]))
        if not failed:
            continue
        total = failed + int(str(document["completed"]))
        verdict = "over" if rejected(document, max_failed) else "within"
        lines.append(
            f"{point_label(document)}: {failed} of {total} requests failed "
            f"({failed / total:.0%}, {verdict} max_failed={max_failed:g})"
        )
        counts = document.get("error_counts")
        top = list(counts.items())[:reasons] if isinstance(counts, Mapping) else []
        lines += [f"    {count} x {error}" for error, count in top]
    return lines


def cache_notes(documents: Sequence[Mapping[str, object]]) -> list[str]:
    """Points whose prompts the server answered from its prompt cache: their TTFT is not a
    prefill of the whole prompt."""
    return [
        f"{point_label(d)}: {float(str(d['cached_share'])):.0%} of the prompt tokens came from "
        "the server's prompt cache; TTFT here is not a full prefill"
        for d in documents
        if d.get("prompt_cache_hit")
    ]


def telemetry_notes(documents: Sequence[Mapping[str, object]]) -> list[str]:
    """Why the server's own metrics are missing, once per reason (never a failure)."""
    reasons: dict[str, int] = {}
    for document in documents:
        telemetry = document.get("server_telemetry")
        if isinstance(telemetry, Mapping) and not telemetry.get("available"):
            reason = str(telemetry.get("reason"))
            reasons[reason] = reasons.get(reason, 0) + 1
    return [
        f"no server telemetry for {count} of {len(documents)} points: {reason}"
        for reason, count in reasons.items()
        if reason != NOT_SCRAPED
    ]


def verdict(
    console: Console,
    documents: Sequence[Mapping[str, object]],
    max_failed: float,
    output_dir: Path,
    title: str,
    healthy: bool = True,
    percentiles: Sequence[float] = (),
) -> int:
    """Print the summary (and the percentiles, if given); the exit code: 1 if a point failed
    more requests than `max_failed` allows (or completed none), or the server stopped
    answering; else 0."""
    console.print(summary_table(documents, title))
    if percentiles:
        console.print(percentile_table(documents, percentiles, title))
    notes = failure_notes(documents, max_failed) + cache_notes(documents)
    notes += prefix_cache_notes(documents) + busy_client_notes(documents, point_label)
    notes += telemetry_notes(documents)
    for line in notes:
        console.print(line, markup=False)
    console.print(f"results: {output_dir}", markup=False)
    over = [d for d in documents if rejected(d, max_failed)]
    if over:
        console.print(
            f"error: {len(over)} of {len(documents)} points failed more requests than "
            f"max_failed={max_failed:g} allows",
            markup=False,
        )
    return 1 if over or not healthy else 0
