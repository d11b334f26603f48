"""The benchmarks console table shows the median and p99 of TTFT, TPOT and ITL by default
(issue 22, item 5), as `vllm bench serve` does, and still fits 80 columns."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from benchmarking import report

POINT = {
    "isl": 128, "osl": 32, "concurrency": 4, "num_prompts": 8, "completed": 8, "failed": 0,
    "mean_ttft_ms": 50.8, "median_ttft_ms": 50.4, "p99_ttft_ms": 61.7,
    "mean_tpot_ms": 9.99, "median_tpot_ms": 9.87, "p99_tpot_ms": 12.34,
    "mean_itl_ms": 10.2, "median_itl_ms": 10.06, "p99_itl_ms": 13.21,
    "output_throughput": 353.2, "request_throughput": 11.04,
    "interval_95": {"mean_ttft_ms": [50.5, 51.1], "output_throughput": [352.6, 353.9]},
}  # fmt: skip
WIDEST = POINT | {
    "isl": 131072, "osl": 1024, "concurrency": 128, "num_prompts": 1280, "failed": 12,
    "mean_ttft_ms": 12345.6, "median_ttft_ms": 12000.1, "p99_ttft_ms": 23456.7,
    "median_tpot_ms": 120.2, "p99_tpot_ms": 345.6, "median_itl_ms": 99.9, "p99_itl_ms": 9999.9,
    "output_throughput": 1234.5, "request_throughput": 12.34,
    "interval_95": {"mean_ttft_ms": [11800.0, 12921.5], "output_throughput": [1201.0, 1260.0]},
}  # fmt: skip


def shown(*documents: dict[str, object], width: int = 80) -> list[str]:
    console = Console(record=True, width=width)
    console.print(report.summary_table(documents))
    return console.export_text().splitlines()


def cells(line: str) -> list[str]:
    return line.split()


def test_the_medians_are_on_a_points_first_line_and_the_p99s_under_them() -> None:
    lines = shown(POINT)
    first = next(line for line in lines if line.split()[:3] == ["128", "32", "4"])
    under = lines[lines.index(first) + 1]
    # TTFT mean, TTFT p50, TPOT p50, ITL p50, tok/s/user, tok/s, req/s, fail
    assert cells(first)[4:] == ["50.8", "50.4", "9.87", "10.1", "100.1", "353.2", "11.04", "0"]
    # the TTFT mean's interval, then the p99s of TTFT, TPOT and ITL, then tok/s's interval
    assert cells(under) == ["50.5-51.1", "61.7", "12.3", "13.2", "353-354"]


def test_the_headers_name_each_figure() -> None:
    header = "\n".join(shown(POINT)[:5])
    for metric in ("TTFT", "TPOT", "ITL"):
        assert metric in header
    assert header.count("p50") == 3 and header.count("p99") == 3
    assert "mean" in header and "95%" in header


def test_the_widest_figures_fit_80_columns_uncut() -> None:
    lines = shown(POINT, WIDEST)
    assert max(len(line.rstrip()) for line in lines) <= 80
    text = "\n".join(lines)
    assert "…" not in text
    for figure in ("131072", "12345.6", "11800-12922", "12000", "23457", "120", "346", "10000"):
        assert figure in text


def test_a_tools_point_with_p50_but_no_median_shows_its_p50() -> None:
    tool_point = {k: v for k, v in POINT.items() if not k.startswith("median_")}
    tool_point |= {"p50_ttft_ms": 48.0, "p50_tpot_ms": 9.5, "p50_itl_ms": 9.25}
    first = next(line for line in shown(tool_point) if line.split()[:3] == ["128", "32", "4"])
    assert cells(first)[5:8] == ["48.0", "9.50", "9.25"]


def test_the_sweeps_summary_shows_percentiles_without_asking(tmp_path: Path) -> None:
    console = Console(record=True, width=80)
    assert report.verdict(console, [POINT], 0.0, tmp_path, "benchmarks") == 0
    text = console.export_text()
    assert "p99" in text and "61.7" in text and "13.2" in text
    assert "percentiles (ms)" not in text, "the long table stays behind --percentile-report"
