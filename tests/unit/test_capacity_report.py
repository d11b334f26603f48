"""A capacity search's results (benchmarks/capacity_*.json, search=goodput) in the report a user
reads: report.json's `capacity`, a table under the benchmarks in report.md and report.html,
and, against a baseline, the capacity before and now in the comparison."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from benchmarking.capacity import Bisection, Trial, capacity_document, write_capacity
from benchmarking.search_args import Search
from benchmarking.sweep import Point
from reports.build import render_run
from tests.run_folders import IDENTITY, passing_run
from workflows.report_console import tell

TRIED = ((1, 8), (8, 0), (4, 8), (6, 2), (5, 5))  # (concurrency, requests meeting the SLOs of 8)


def searched(run: Path, tried: Sequence[tuple[float, int]] = TRIED) -> Path:
    """The run's benchmarks folder with the capacity file of a search over concurrency."""
    trials = [Trial(load, good, 8, good / 8 >= 0.9, f"c{load:g}.json") for load, good in tried]
    met = max((t.load for t in trials if t.met), default=None)
    missed = min((t.load for t in trials if not t.met and (met is None or t.load > met)),
                 default=None)  # fmt: skip
    found = Bisection(met, missed, tuple(t.load for t in trials))
    base = Point(128, 32, 8, 16)
    document = capacity_document(IDENTITY, Search(), "ttft:40", base, found, trials)
    write_capacity(run / "benchmarks", document)
    return run


def section(markdown: str) -> list[str]:
    text = markdown.split("#### Capacity meeting the SLOs", 1)[1].split("\n---\n", 1)[0]
    return [line for line in text.strip().splitlines() if line.startswith("|")]


def test_the_capacity_found_its_bracket_and_the_loads_tried_are_in_every_report(
    tmp_path: Path,
) -> None:
    rendered = render_run(searched(passing_run(tmp_path / "run")))
    [found] = rendered.report["capacity"]
    assert (found["found"], found["bracket"], found["search_over"]) == (4, [4, 5], "concurrency")
    assert [t["load"] for t in found["tried"]] == [1, 8, 4, 6, 5]
    low, high = found["share_interval_95"]
    assert low < 1 == high, "8 of 8 met at the load found"
    header, _, row = section(rendered.files["markdown"].read_text())
    assert header.split(" | ")[4:6] == ["Capacity found", "Bracket"]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[:6] == ["128", "32", "concurrency", "ttft:40, 90% of requests", "4",
                         "met at 4, missed at 5"]  # fmt: skip
    assert cells[6] == f"[{low:.0%}, 100%]"
    assert cells[7] == (
        "1 (8/8 good), 8 (0/8 good, missed), 4 (8/8 good), 6 (2/8 good, missed), "
        "5 (5/8 good, missed)"
    )
    page = rendered.files["html"].read_text()
    table = page.split('id="capacity"', 1)[1].split("</table>", 1)[0]
    assert "<td>met at 4, missed at 5</td>" in table and "6 (2/8 good, missed)" in table


def test_a_search_that_met_no_load_says_why_and_a_run_without_one_has_no_section(
    tmp_path: Path,
) -> None:
    none_met = render_run(searched(passing_run(tmp_path / "a"), tried=[(1, 3)]))
    [row] = section(none_met.files["markdown"].read_text())[2:]
    assert "| none | search_low: even the lowest load missed the SLOs |" in row
    plain = render_run(passing_run(tmp_path / "b"))
    assert plain.report["capacity"] == []
    assert "Capacity meeting the SLOs" not in plain.files["markdown"].read_text()
    assert 'id="capacity"' not in plain.files["html"].read_text()


def test_a_capacity_that_fell_is_a_regression_in_the_comparison(tmp_path: Path) -> None:
    searched(passing_run(tmp_path / "before"))
    now = searched(passing_run(tmp_path / "now"), tried=[(1, 8), (8, 0), (4, 2), (2, 8), (3, 6)])
    rendered = render_run(now, tmp_path / "before")
    [row] = [r for r in rendered.report["comparison"]["rows"] if "capacity" in r["metric"]]
    assert (row["what"], row["before"], row["now"], row["regression"]) == (
        "ISL 128 OSL 32",
        4,
        2,
        True,
    )
    markdown = rendered.files["markdown"].read_text()
    assert "| ISL 128 OSL 32 | capacity: concurrency meeting goodput | 4 | 2 | -50.0% |" in markdown
    out = io.StringIO()
    tell(Console(file=out, width=200), rendered)
    assert "regression: ISL 128 OSL 32 capacity: concurrency meeting goodput: 4 -> 2 (-50.0%)" in (
        out.getvalue()
    )
