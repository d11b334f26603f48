"""The summary table printed at the end of a sweep."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table

COLUMNS = (
    ("ISL", "isl", "{}"),
    ("OSL", "osl", "{}"),
    ("Conc", "concurrency", "{}"),
    ("N", "num_prompts", "{}"),
    ("TTFT ms", "mean_ttft_ms", "{:.1f}"),
    ("p99 TTFT", "p99_ttft_ms", "{:.1f}"),
    ("TPOT ms", "mean_tpot_ms", "{:.2f}"),
    ("Tput user tok/s", "tput_user", "{:.1f}"),
    ("Tput tok/s", "output_throughput", "{:.1f}"),
    ("Req/s", "request_throughput", "{:.2f}"),
    ("Failed", "failed", "{}"),
)


def tput_user(document: Mapping[str, object]) -> float:
    tpot = document.get("mean_tpot_ms")
    return 1000 / tpot if isinstance(tpot, (int, float)) and tpot > 0 else 0.0


def _cell(value: object, fmt: str) -> str:
    """A number in its format; a field a failed point lacks stays empty."""
    return "" if value is None else fmt.format(value)


def summary_table(documents: Sequence[Mapping[str, object]], title: str = "benchmarks") -> Table:
    table = Table(title=title)
    for header, _, _ in COLUMNS:
        table.add_column(header, justify="right")
    for document in documents:
        row = dict(document) | {"tput_user": tput_user(document)}
        table.add_row(*(_cell(row.get(key), fmt) for _, key, fmt in COLUMNS))
    return table
