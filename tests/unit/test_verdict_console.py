"""The verdict stands out on the console (issue 22, item 2): a panel with the verdict in its
colour, what blocks it, and a compact table of the target checks, the tier among its columns;
the spec tests are printed once, a line per check and then their counts."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from evals.spec_tests.runner import CheckResult
from evals.spec_tests.table import progress_line, show
from reports.build import render_run
from tests.run_folders import (
    TARGET,
    Measured,
    RunSpec,
    eval_task,
    make_run,
    passing_run,
    spec_check,
)
from workflows.report_console import tell
from workflows.verdict_panel import headline, verdict_panel


def shown(folder: Path, width: int = 80) -> list[str]:
    out = io.StringIO()
    tell(Console(file=out, width=width), render_run(folder))
    return out.getvalue().splitlines()


def panel_lines(lines: list[str]) -> list[str]:
    """The lines between the panel's borders, without the borders."""
    top = next(i for i, line in enumerate(lines) if line.startswith("╭"))
    bottom = next(i for i, line in enumerate(lines) if line.startswith("╰"))
    return [line.strip("│ ") for line in lines[top + 1 : bottom]]


def row(lines: list[str], *cells: str) -> list[str]:
    """The target-table row that starts with these cells, split into its cells; a point's rows
    are under its own line ('128/32 c1'), so a row's cells start with the point's."""
    point: list[str] = []
    for line in panel_lines(lines):
        if re.fullmatch(r"\d+/\d+ c\d+", line.strip()):
            point = line.split()
            continue
        if (point + line.split())[: len(cells)] == list(cells):
            return point + line.split()
        if line.split()[: len(cells)] == list(cells):
            return line.split()
    raise AssertionError(f"no row {cells} in {lines}")


def test_an_accepted_run_has_a_green_panel_with_every_enforced_check(tmp_path: Path) -> None:
    report = render_run(passing_run(tmp_path / "run")).report
    assert [(s.style) for s in headline(report).spans] == ["bold green"]
    assert verdict_panel(report).border_style == "green"
    lines = shown(tmp_path / "run")
    inside = panel_lines(lines)
    assert inside[0] == "release report: TinyModel on cpu: ACCEPTED"
    assert inside[1].startswith("0 blocking, 0 marginal")
    assert row(lines, "tier") == [
        "tier", "metric", "target", "measured", "95%", "ratio", "check"
    ]  # fmt: skip
    assert row(lines, "128/32", "c1", "functional", "TTFT") == [
        "128/32", "c1", "functional", "TTFT", "ms", "<=1000", "80.0", "78.4-81.6", "0.08", "PASS"
    ]  # fmt: skip
    assert row(lines, "128/32", "c1", "complete*") == ["128/32", "c1", "complete*", "all", "PASS"]
    assert max(len(line) for line in lines[: lines.index(next(
        line for line in lines if line.startswith("╰")
    )) + 1]) <= 80, "the panel fits a CI log's 80 columns"  # fmt: skip


def test_a_failed_tier_check_is_a_red_fail_row_and_a_named_blocker(tmp_path: Path) -> None:
    slow = Measured(tpot_ms=400.0)  # 2.5 tok/s per user: below even the functional tier
    folder = passing_run(tmp_path / "run", points=[slow])
    report = render_run(folder).report
    assert report["acceptance"]["verdict"] == "NOT ACCEPTED"
    assert verdict_panel(report).border_style == "red"
    lines = shown(folder)
    failed = row(lines, "128/32", "c1", "functional", "tok/s/u")
    assert failed[-1] == "FAIL" and failed[4:6] == [">=5.00", "2.50"], failed
    inside = panel_lines(lines)
    assert inside[0].endswith(": NOT ACCEPTED")
    assert "x benchmarks:isl-128_osl-32_conc-1.functional.tput_user_check" in inside
    after = lines[lines.index(next(line for line in lines if line.startswith("╰"))) + 1 :]
    assert any(
        line.startswith("  blocker: ISL 128 OSL 32 concurrency 1, functional") for line in after
    )


def test_a_straddling_check_is_marked_marginal_in_the_table(tmp_path: Path) -> None:
    folder = passing_run(tmp_path / "run", points=[Measured(ttft_ms=990.0, spread=0.05)])
    marginal = row(shown(folder), "128/32", "c1", "functional", "TTFT")
    assert marginal[-2:] == ["MARGINAL", "PASS"], marginal


def test_a_partial_run_is_yellow(tmp_path: Path) -> None:
    folder = passing_run(
        tmp_path / "run",
        release=False,
        tasks=None,
        checks=None,
        spec=RunSpec(workflow="benchmarks"),
    )
    report = render_run(folder).report
    assert report["acceptance"]["verdict"] == "PARTIAL"
    assert verdict_panel(report).border_style == "yellow"
    assert [s.style for s in headline(report).spans] == ["bold yellow"]


def test_a_run_without_targets_has_no_table(tmp_path: Path) -> None:
    folder = make_run(tmp_path / "run", RunSpec(perf_reference=[]), [Measured()], None,
                      [spec_check("chat")])  # fmt: skip
    assert not any(line.split()[:1] == ["point"] for line in panel_lines(shown(folder)))


def test_spec_tests_print_each_check_once_then_the_counts() -> None:
    results = [
        CheckResult("chat", "PASS", 0.21, 1, ""),
        CheckResult("n_choices", "FAIL", 0.4, 2, "asked 2 choices, got 1"),
        CheckResult("auth_required", "SKIPPED", 0.0, 1, "auth is off"),
    ]
    out = io.StringIO()
    console = Console(file=out, width=80, soft_wrap=True)  # as the child prints
    for index, result in enumerate(results, 1):
        console.print(progress_line(index, len(results), result))
    show(console, results, "llama_cpp")
    assert out.getvalue().splitlines() == [
        "[1/3] chat                         PASS       0.2s",
        "[2/3] n_choices                    FAIL       0.4s (2 tries)  asked 2 choices, got 1",
        "[3/3] auth_required                SKIPPED    0.0s  auth is off",
        "spec tests (llama_cpp): 1 passed, 1 failed, 1 skipped, 0 errors",
    ]
    assert progress_line(2, 3, results[1]).spans[0].style == "bold red"


def test_regression_lines_write_values_as_the_report_does(tmp_path: Path) -> None:
    """A verdict that turned and a score that fell are written as the comparison table writes
    them: the verdict in words, the score with three decimals and the change, never
    `True -> False` or `0.5 -> 0`."""
    passed = [eval_task("readiness_basics", "PASS", score=0.6)]
    passing_run(tmp_path / "before", tasks=passed)
    worse = [eval_task("readiness_basics", "FAIL", score=0.0)]
    now = passing_run(tmp_path / "now", tasks=worse)
    out = io.StringIO()
    tell(Console(file=out, width=200), render_run(now, tmp_path / "before"))
    regressions = [line.strip() for line in out.getvalue().splitlines() if "regression:" in line]
    assert regressions == [
        "regression: verdict accepted: ACCEPTED -> NOT ACCEPTED",
        "regression: readiness_basics status: PASS -> FAIL",
        "regression: readiness_basics score: 0.600 -> 0.000 (-100.0%)",
    ]


def test_a_long_point_label_keeps_the_panel_within_80_columns_unwrapped(tmp_path: Path) -> None:
    long = {"isl": 131072, "osl": 1024, "concurrency": 32}
    spec = RunSpec(perf_reference=[dict(TARGET), dict(TARGET) | long])
    marginal = Measured(isl=131072, osl=1024, concurrency=32, ttft_ms=990.0, spread=0.05)
    points = [Measured(), marginal]
    lines = shown(passing_run(tmp_path / "run", spec=spec, points=points))
    bottom = lines.index(next(line for line in lines if line.startswith("╰")))
    assert max(len(line) for line in lines[: bottom + 1]) <= 80
    assert row(lines, "131072/1024", "c32", "functional", "TTFT")[-2:] == ["MARGINAL", "PASS"]
    assert row(lines, "128/32", "c1", "functional", "TTFT")[-1] == "PASS"
