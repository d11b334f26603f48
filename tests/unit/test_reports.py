"""The rendered report: markdown against a golden file, the JSON's schema, JUnit, CSV, the
self-contained HTML, --compare-to, the catalogue merge, and the reports workflow's command line."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest

from reports.build import render_run
from reports.compare import compare
from reports.merge import catalogue_row, render_catalogue
from tests.helpers import Run
from tests.run_folders import (
    NO_METRICS,
    TARGET,
    Measured,
    RunSpec,
    eval_task,
    make_run,
    passing_run,
    server_telemetry,
    spec_check,
)

GOLDEN = Path(__file__).parent / "data" / "report_golden.md"
TOP_LEVEL = {
    "schema_version",
    "kind",
    "metadata",
    "acceptance_criteria",
    "acceptance_blockers",
    "acceptance_criteria_metadata",
    "acceptance",
    "workflows",
    "target_checks",
    "benchmarks",
    "capacity",  # search=goodput: the highest load meeting the SLOs (benchmarks/capacity_*.json)
    "evals",
    "spec_tests",
    "stress_tests",
    "server_telemetry",
    "comparison",
}
UPSTREAM_METADATA = {
    "report_id",
    "model_name",
    "model_id",
    "model_repo",
    "model_impl",
    "inference_engine",
    "device",
    "server_mode",
    "tt_metal_commit",
    "vllm_commit",
    "run_command",
    "runtime_model_spec_json",
    "workflow",
}


def mixed_run(folder: Path) -> Path:
    """A release with a bit of everything: a complete model short of its complete tier at one
    point, a waived eval, one the engine cannot run (so it blocks), and a failed spec test."""
    at_4 = {"isl": 128, "osl": 32, "concurrency": 4, "ttft_ms": 400.0, "tput_user": 40.0}
    spec = RunSpec(
        status="complete",
        perf_reference=[dict(TARGET), at_4 | {"tput": 160.0}],
        known_issues=[{"workflow": "evals", "task": "humaneval", "reason": "weak model (#7)"}],
    )
    points = [
        Measured(server_telemetry=server_telemetry([0, 1, 1, 0], [0, 0, 0, 0])),
        Measured(
            concurrency=4,
            ttft_ms=900.0,
            tpot_ms=100.0,
            output_throughput=40.0,
            server_telemetry=NO_METRICS,
        ),
    ]
    tasks = [
        eval_task("readiness_basics", "PASS", 0.55),
        eval_task("humaneval", "FAIL", 0.01),
        eval_task("gsm8k", "SKIPPED", None, reason="needs prompt logprobs"),
    ]
    checks = [spec_check("chat"), spec_check("n_choices", "FAIL", "asked 2 choices, got 1")]
    return make_run(folder, spec, points, tasks, checks)


def test_markdown_matches_the_golden_file(tmp_path: Path) -> None:
    rendered = render_run(mixed_run(tmp_path / "run"))
    text = rendered.files["markdown"].read_text()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_report_json_schema(tmp_path: Path) -> None:
    rendered = render_run(mixed_run(tmp_path / "run"))
    report = json.loads(rendered.files["json"].read_text())
    assert set(report) == TOP_LEVEL
    assert (report["schema_version"], report["kind"]) == ("1", "release_report")
    assert set(report["metadata"]) >= UPSTREAM_METADATA
    assert report["acceptance_criteria"] is False
    assert set(report["acceptance_blockers"]) == {
        "benchmarks:isl-128_osl-32_conc-4.complete.ttft_ms_check",
        "benchmarks:isl-128_osl-32_conc-4.complete.tput_user_check",
        "benchmarks:isl-128_osl-32_conc-4.complete.tput_check",
        "evals:gsm8k",
        "spec_tests:n_choices",
    }
    criteria = report["acceptance_criteria_metadata"]
    assert criteria["enforcement_result"] == "NOT ACCEPTED"
    assert criteria["enforced_tiers"] == ["functional", "complete"]
    assert {c["name"]: c["status"] for c in criteria["categories"]} == {
        "workflows": "PASS",
        "benchmarks": "FAIL",
        "evals": "FAIL",
        "spec_tests": "FAIL",
    }
    point = report["target_checks"][1]
    check = point["tiers"]["complete"]["checks"]["tput_user"]
    assert (check["target"], check["measured"], check["check"]) == (20.0, 10.0, "FAIL")
    assert check["ratio"] == pytest.approx(0.5)
    assert report["acceptance"]["waived"][0]["key"] == "evals:humaneval"
    assert [row["concurrency"] for row in report["benchmarks"]] == [1, 4]


def test_junit_has_one_case_per_check_and_fails_the_blockers(tmp_path: Path) -> None:
    rendered = render_run(mixed_run(tmp_path / "run"))
    root = ElementTree.parse(rendered.files["junit"]).getroot()
    cases = root.findall(".//testcase")
    failed = sorted(str(case.get("name")) for case in cases if case.find("failure") is not None)
    assert failed == sorted(rendered.report["acceptance_blockers"])
    skipped = {case.get("name") for case in cases if case.find("skipped") is not None}
    assert "evals:humaneval" in skipped, "waived"
    assert "evals:gsm8k" not in skipped, "a check that could not be judged fails"
    assert len(cases) == len(rendered.report["acceptance"]["checks"])


def test_benchmark_csv_reads_back_with_every_point(tmp_path: Path) -> None:
    rendered = render_run(mixed_run(tmp_path / "run"))
    frame = pd.read_csv(io.StringIO(rendered.files["csv"].read_text()))
    assert list(frame["concurrency"]) == [1, 4]
    assert list(frame["tput_user"]) == [62.5, 10.0]


def test_html_is_self_contained_with_plots_and_targets(tmp_path: Path) -> None:
    rendered = render_run(mixed_run(tmp_path / "run"))
    page = rendered.files["html"].read_text()
    assert "<script src" not in page and "<link" not in page  # nothing fetched
    assert "Plotly.newPlot" in page and "plotly.js v" in page
    assert "plot-ttft_ms" in page and "complete (50%)" in page
    assert "NOT ACCEPTED" in page


def test_every_format_shows_the_servers_view_of_each_point(tmp_path: Path) -> None:
    """report.json carries each point's telemetry and its timeline beside the client's requests
    in flight; JUnit says it in the suite's system-out; the page charts it (markdown: golden)."""
    rendered = render_run(mixed_run(tmp_path / "run"))
    scraped, unscraped = rendered.report["server_telemetry"]
    assert (scraped["workflow"], scraped["source"], scraped["available"]) == (
        "benchmarks",
        "llama.cpp",
        True,
    )
    assert scraped["summary"]["peak_running"] == 1
    assert scraped["timeline"]["running"] == [0, 1, 1, 0]
    client = scraped["timeline"]["client_in_flight"]  # sends 0.1 s apart, each 0.576 s long
    assert client["t_s"][:5] == [0.0, 0.1, 0.2, 0.3, 0.576]
    assert client["count"] == [1, 2, 3, 4, 3, 2, 1, 0]
    assert (unscraped["available"], unscraped["reason"]) == (False, NO_METRICS["reason"])
    suite = (
        ElementTree.parse(rendered.files["junit"]).getroot().find("testsuite[@name='benchmarks']")
    )
    assert suite is not None
    said = str(suite.findtext("system-out")).splitlines()
    assert said[0].startswith("server telemetry ISL 128 OSL 32 C 1 (llama.cpp): peak running 1")
    assert "kv mean not reported" in said[0]
    assert said[1] == (
        "server telemetry ISL 128 OSL 32 C 4: not available (GET /metrics answered HTTP 404)"
    )
    page = rendered.files["html"].read_text()
    assert "plot-server-0" in page and "plot-server-1" not in page, "a chart per scraped point"
    assert "client: in flight" in page and "server: waiting" in page
    assert "GET /metrics answered HTTP 404" in page


def test_every_format_shows_each_points_cached_share(tmp_path: Path) -> None:
    """The share of prompt tokens the server answered from its cache: a column of the benchmark
    table (markdown, HTML), a field of report.json's rows, a column of benchmarks.csv; blank
    where the server did not say."""
    points = [Measured(cached_share=0.25), Measured(concurrency=4, cached_share=None)]
    rendered = render_run(make_run(tmp_path / "run", points=points))
    assert [row["cached_share"] for row in rendered.report["benchmarks"]] == [0.25, None]
    frame = pd.read_csv(io.StringIO(rendered.files["csv"].read_text()))
    assert list(frame["cached_share"].fillna(-1)) == [0.25, -1]
    markdown = rendered.files["markdown"].read_text()
    table = markdown.split("### Benchmarks", 1)[1].split("\n---\n", 1)[0].strip().splitlines()
    assert table[0].endswith("| Prompt Cached |")
    assert table[2].endswith("| 25% |") and table[3].endswith("|  |")
    page = rendered.files["html"].read_text()
    benchmarks = page.split("Prompt Cached", 1)[1]
    assert "<td>25%</td>" in benchmarks


def test_a_run_from_before_telemetry_says_so(tmp_path: Path) -> None:
    rendered = render_run(passing_run(tmp_path / "run"))
    [row] = rendered.report["server_telemetry"]
    assert row["available"] is False and "before server telemetry" in row["reason"]


def test_compare_lists_regressions_beyond_the_threshold(tmp_path: Path) -> None:
    before = render_run(passing_run(tmp_path / "before")).report
    slower = [Measured(ttft_ms=95.0, tpot_ms=16.5)]  # TTFT +19%, TPOT +3%
    now = render_run(passing_run(tmp_path / "now", points=slower), tmp_path / "before")
    comparison = now.report["comparison"]
    regressions = [(r["what"], r["metric"]) for r in comparison["rows"] if r["regression"]]
    assert regressions == [("ISL 128 OSL 32 concurrency 1", "TTFT (ms)")]
    assert (
        comparison["regressions"] == 1 and comparison["baseline"] == before["metadata"]["report_id"]
    )
    assert "### Comparison with" in now.files["markdown"].read_text()
    assert compare(before, before)["regressions"] == 0


def test_a_verdict_that_turned_is_a_regression(tmp_path: Path) -> None:
    before = render_run(passing_run(tmp_path / "before")).report
    failing = render_run(passing_run(tmp_path / "now", points=[Measured(completed=0, failed=4)]))
    verdict = compare(failing.report, before)["rows"][0]
    assert (verdict["metric"], verdict["regression"]) == ("accepted", True)


def test_merge_makes_one_row_per_model_and_device(tmp_path: Path) -> None:
    first = render_run(passing_run(tmp_path / "a")).files["json"]
    second = render_run(passing_run(tmp_path / "b", checks=[spec_check("chat", "FAIL")])).files[
        "json"
    ]
    catalogue = render_catalogue([first, second], tmp_path / "out")
    rows = catalogue.document["rows"]
    assert len(rows) == 1 and rows[0]["verdict"] == "NOT ACCEPTED"  # the newer report wins
    assert "superseded" in catalogue.document["notes"][0]
    assert not catalogue.accepted
    assert "| TinyModel | cpu |" in catalogue.files["markdown"].read_text()


def test_merge_counts_a_run_folder_as_its_files_judge_it(tmp_path: Path) -> None:
    """An audit edited a NOT ACCEPTED run's report.json to ACCEPTED: the catalogue said
    "1 accepted" and exited 0. A report.json inside its run folder now counts as the folder's
    files give it, with a note; a bare report.json (no folder beside it) as it is."""
    path = render_run(passing_run(tmp_path / "a", checks=[spec_check("chat", "FAIL")])).files[
        "json"
    ]
    report = json.loads(path.read_text())
    report["acceptance"]["verdict"], report["acceptance_criteria"] = "ACCEPTED", True
    path.write_text(json.dumps(report))
    catalogue = render_catalogue([path], tmp_path / "out")
    assert catalogue.document["rows"][0]["verdict"] == "NOT ACCEPTED" and not catalogue.accepted
    [note] = catalogue.document["notes"]
    assert note.startswith(f"{path}: report.json says ACCEPTED, but its run folder's files")
    bare = tmp_path / "elsewhere" / "report.json"
    bare.parent.mkdir()
    bare.write_text(json.dumps(report))
    assert render_catalogue([bare], tmp_path / "out2").document["rows"][0]["verdict"] == (
        "ACCEPTED"
    ), "nothing to judge it from: as it is"


def test_the_catalogue_says_which_failures_a_known_issue_waived(tmp_path: Path) -> None:
    """An ACCEPTED row beside '0 pass, 1 fail' read as a contradiction: the waiver is said."""
    waiver = {"workflow": "evals", "task": "readiness_basics", "reason": "flaky on cpu (#12)"}
    tasks = [eval_task("readiness_basics", "FAIL", 0.2), eval_task("chat_basics", "PASS")]
    report = render_run(
        passing_run(tmp_path / "run", tasks=tasks, spec=RunSpec(known_issues=[waiver]))
    ).report
    report["evals"]["summary"] |= {"pass": 1, "fail": 1, "skipped": 0}
    row = catalogue_row(report, tmp_path / "report.json")
    assert (row["verdict"], row["evals"]) == ("ACCEPTED", "1 pass, 1 fail; 1 waived")
    report["spec_tests"]["summary"] |= {"passed": 2, "failed": 0, "skipped": 3}
    assert catalogue_row(report, tmp_path)["spec_tests"] == "2 pass, 0 fail, 3 skipped"


def test_merge_writes_its_catalogue_under_workflow_logs_dir(
    tmp_path: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no --output-dir the catalogue goes beside the runs, wherever WORKFLOW_LOGS_DIR
    put them (it went into the checkout's workflow_logs/ whatever the variable said)."""
    report = render_run(passing_run(tmp_path / "run")).files["json"]
    monkeypatch.setenv("WORKFLOW_LOGS_DIR", str(tmp_path / "logs"))
    result = run_cli("--workflow", "reports", "--merge", str(report))
    assert result.code == 0, result.out + result.err
    assert (tmp_path / "logs" / "catalogue" / "catalogue.json").is_file()


def test_a_partial_run_never_supersedes_a_release_in_the_catalogue(tmp_path: Path) -> None:
    """A newer benchmarks-only run used to replace a rejected release: `1 runs, 1 accepted`."""
    rejected = passing_run(tmp_path / "a", checks=[spec_check("chat", "FAIL")])
    release = render_run(rejected).files["json"]
    benchmarks_only = passing_run(
        tmp_path / "b", release=False, tasks=None, checks=None, spec=RunSpec(workflow="benchmarks")
    )
    partial = render_run(benchmarks_only).files["json"]
    catalogue = render_catalogue([release, partial], tmp_path / "out")
    [row] = catalogue.document["rows"]
    assert (row["verdict"], row["source"]) == ("NOT ACCEPTED", str(release))
    assert (
        "is a partial run (no release verdict): it does not supersede"
        in (catalogue.document["notes"][0])
    )
    alone = render_catalogue([partial], tmp_path / "alone")
    assert alone.document["summary"] == {"runs": 1, "accepted": 0, "not_accepted": 0, "partial": 1}
    assert alone.verdict == "PARTIAL"


def test_a_partial_report_says_so_and_exits_6(tmp_path: Path, run_cli: Run) -> None:
    folder = passing_run(
        tmp_path / "run",
        release=False,
        tasks=None,
        checks=None,
        spec=RunSpec(workflow="benchmarks"),
    )
    result = run_cli("--workflow", "reports", "--run-dir", str(folder))
    assert result.code == 6, result.err
    assert "partial: not a release: the benchmarks workflow on its own" in result.out
    markdown = (folder / "report" / "report.md").read_text()
    assert markdown.startswith("## Partial Run Summary")
    assert "**Verdict: PARTIAL ⚠️: no release verdict (not a release" in markdown
    html = (folder / "report" / "report.html").read_text()
    assert (
        'class="verdict partial"' in html and "ACCEPTED" not in html.split('id="verdict">')[1][:80]
    )


def test_reports_rebuilds_from_the_run_folder_with_the_verdict_as_exit_code(
    tmp_path: Path, run_cli: Run
) -> None:
    accepted = run_cli("--workflow", "reports", "--run-dir", str(passing_run(tmp_path / "ok")))
    assert accepted.code == 0, accepted.err
    assert "ACCEPTED" in accepted.out and "report.html" in accepted.out
    blocked = run_cli("--workflow", "reports", "--run-dir", str(mixed_run(tmp_path / "no")))
    assert blocked.code == 5
    assert "blocker: ISL 128 OSL 32 concurrency 4, complete tier" in blocked.out


def test_reports_with_requirements_saves_them_and_grades_against_them(
    tmp_path: Path, run_cli: Run
) -> None:
    folder = mixed_run(tmp_path / "run")
    requirements = tmp_path / "req.yaml"
    requirements.write_text(
        "accuracy:\n  - {task: readiness_basics, min_score: 0.6, priority: must}\n"
    )
    result = run_cli(
        "--workflow", "reports", "--run-dir", str(folder), "--requirements", str(requirements)
    )
    assert result.code == 5
    assert "accuracy of readiness_basics: score 0.55 over 30 samples, needs 0.6" in result.out
    assert (folder / "requirements.json").is_file()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workflow", "reports"], "needs --run-dir"),
        (["--workflow", "reports", "--run-dir", "/no/such/run"], "no such folder"),
        (
            ["--workflow", "reports", "--run-dir", "/tmp", "--model", "X"],
            "--model would change nothing",
        ),
        (["--workflow", "reports", "--run-dir", "/tmp"], "is not a run folder"),
        (
            ["--workflow", "benchmarks", "--run-dir", "/tmp"],
            "--run-dir is read by --workflow reports only",
        ),
        (["--workflow", "reports", "--merge", "/no/such.json"], "no such file or folder"),
    ],
)
def test_reports_input_errors_are_one_line(argv: list[str], message: str, run_cli: Run) -> None:
    result = run_cli(*argv)
    assert result.code == 2
    assert message in result.err and "Traceback" not in result.err + result.out
