"""What the end of a sweep prints: the summary table, which points had failed requests and
why, which were served from the prompt cache; and whether the failures fail the run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from benchmarking.client_cpu import busy_client_notes
from benchmarking.dataset_report import dataset_notes
from benchmarking.load_shape import shape_notes
from benchmarking.metrics import percentile_label
from benchmarking.telemetry.point import NOT_SCRAPED

INTERVAL = "interval"  # a column's second figure: its first's 95% interval


@dataclass(frozen=True)
class Column:
    """A column of the benchmarks table: a figure, and another under it (a key, or INTERVAL)."""

    header: str
    key: str
    fmt: str = "{}"
    under: str | None = None


TIME = "time"  # a latency in ms, in as few characters as its size needs
COLUMNS = (  # short headers, a light frame: the whole table fits 80 columns (a CI log, a laptop)
    Column("ISL", "isl"),
    Column("OSL", "osl"),
    Column("C", "concurrency"),
    Column("N", "num_prompts"),
    Column("TTFT\nmean\n95%", "mean_ttft_ms", "{:.1f}", INTERVAL),
    Column("TTFT\np50\np99", "median_ttft_ms", TIME, "p99_ttft_ms"),
    Column("TPOT\np50\np99", "median_tpot_ms", TIME, "p99_tpot_ms"),
    Column("ITL\np50\np99", "median_itl_ms", TIME, "p99_itl_ms"),
    Column("tok/s\n/user", "tput_user", "{:.1f}"),
    Column("tok/s\nmean\n95%", "output_throughput", "{:.1f}", INTERVAL),
    Column("req/s", "request_throughput", "{:.2f}"),
    Column("fail", "failed"),
)

SUMMARY_CAPTION = (
    "C: concurrency; times in ms; each cell's lower figure: the 95% interval of the mean, or "
    "the p99 under the median (p50); tok/s/user from the mean TPOT"
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


def time_text(ms: float) -> str:
    """A latency in at most five characters below 100 s: 9.87, 98.7, 987, 98765."""
    if abs(ms) >= 100:
        return f"{ms:.0f}"
    return f"{ms:.1f}" if abs(ms) >= 10 else f"{ms:.2f}"


def _cell(value: object, fmt: str) -> str:
    """A number in its format; a field a failed point lacks stays empty."""
    if value is None:
        return ""
    if fmt == TIME and isinstance(value, (int, float)):
        return time_text(value)
    return fmt.format(value)


def _value(row: Mapping[str, object], key: str) -> object:
    """A figure; for a median missing from a tool's document, its p50."""
    if key in row or not key.startswith("median_"):
        return row.get(key)
    return row.get(key.replace("median_", "p50_", 1))


def _figures(row: Mapping[str, object], column: Column) -> str:
    top = _cell(_value(row, column.key), column.fmt)
    if column.under == INTERVAL:
        under = interval_text(row, column.key)
    else:
        under = _cell(row.get(column.under), column.fmt) if column.under else None
    return f"{top}\n{under}" if top and under else top


RATE_COLUMN = Column("rate\nasked", "asked_rate")  # shown when a point had a finite rate


def asked_rate(document: Mapping[str, object]) -> float | None:
    """The request rate a point asked for; None: all at once."""
    rate = document.get("request_rate")
    return float(rate) if isinstance(rate, (int, float)) and not isinstance(rate, bool) else None


def asked_text(document: Mapping[str, object]) -> str:
    """The rate a point asked for as the table shows it: '20', 'inf', or a ramp's '1-8'."""
    shape = document.get("load_shape")
    if isinstance(shape, Mapping) and shape.get("ramp"):
        return f"{shape['ramp_start_rps']:g}-{shape['ramp_end_rps']:g}"
    rate = asked_rate(document)
    return "inf" if rate is None else f"{rate:g}"


def _columns(documents: Sequence[Mapping[str, object]]) -> list[Column]:
    columns = list(COLUMNS)
    if any(asked_text(d) != "inf" for d in documents):
        columns.insert(3, RATE_COLUMN)
    return columns


def _row(document: Mapping[str, object], columns: Sequence[Column] = COLUMNS) -> list[str]:
    asked = asked_text(document)
    row = dict(document) | {"tput_user": tput_user(document), "asked_rate": asked}
    return [_figures(row, column) for column in columns]


def summary_table(documents: Sequence[Mapping[str, object]], title: str = "benchmarks") -> Table:
    table = Table(
        title=title, box=None, pad_edge=False, padding=(0, 0, 0, 1), header_style="bold underline",
        caption=SUMMARY_CAPTION,
    )  # fmt: skip
    columns = _columns(documents)
    for column in columns:
        table.add_column(column.header, justify="right")
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
    notes += telemetry_notes(documents) + dataset_notes(documents, point_label)
    notes += shape_notes(documents, point_label)
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
