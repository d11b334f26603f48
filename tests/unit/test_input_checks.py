"""Every input is checked before the run starts (issue 19, items 5-8): a bad one is one line,
exit 2, before any server is contacted and before anything is written."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from benchmarking.failures import run_reporting_failures
from reports import results
from tests.helpers import CliResult, Emulator
from tests.run_folders import Measured, passing_run
from workflows import report_console, steps
from workflows.registry.loader import load_registry
from workflows.run_config import RunConfig
from workflows.run_folder import RunLogHandler
from workflows.runtime_spec import build_runtime_spec

Run = Callable[..., CliResult]
CPU = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu"]


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A port that listens and never answers: a run that contacts it leaves a connection."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def contacted(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def one_line_usage_error(result: CliResult) -> str:
    assert result.code == 2, result.out + result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result.err
    return lines[0]


BAD_WORKFLOW_ARGS = [
    ("benchmarks", "rate=0", "rate: expected a positive number of requests per second, or inf"),
    ("benchmarks", "rate=nan", "rate: expected a positive number"),
    ("benchmarks", "rate=1,2,0", "rate: expected a positive number of requests per second"),
    ("benchmarks", "rate=1,fast", "several: 1,2,4, got '1,fast'"),
    ("benchmarks", "percentiles=150", "percentiles: expected percentiles from 0 to 100"),
    ("benchmarks", "percentiles=nan", "percentiles: expected percentiles from 0 to 100"),
    ("benchmarks", "percentiles=50,inf", "percentiles: expected percentiles from 0 to 100"),
    ("benchmarks", "goodput=ttft:abc", "goodput: SLO 'ttft:abc'"),
    ("benchmarks", "goodput=ttft:nan", "a positive number of milliseconds (finite"),
    ("benchmarks", "range_ratio=-1", "range_ratio: expected a number from 0 up to (not incl"),
    ("benchmarks", "range_ratio=1", "range_ratio: expected a number from 0 up to (not incl"),
    ("benchmarks", "burstiness=-1", "burstiness: expected a positive number"),
    ("benchmarks", "burstiness=nan", "burstiness: expected a positive number"),
    ("benchmarks", "workers=-1", "workers: expected a whole number of 1 or more"),
    ("benchmarks", "workers=1.5", "workers: expected a whole number of 1 or more"),
    ("benchmarks", "warmups=-1", "warmups: expected a whole number of 0 or more"),
    ("benchmarks", "smoke=yes", "smoke: expected true or false"),
    ("benchmarks", "isl=0", "isl: expected positive whole numbers"),
    ("benchmarks", "request_timeout=inf", "request_timeout: expected a positive number of sec"),
    ("benchmarks", "ready_timeout=nan", "ready_timeout must be a positive number (finite"),
    ("server", "ready_timeout=-1", "ready_timeout must be a positive number (finite"),
    ("stress_tests", "duration=nan", "duration: expected a number of seconds, 0 or more"),
    ("stress_tests", "duration=-5", "duration: expected a number of seconds, 0 or more"),
    ("stress_tests", "isl=abc", "isl: expected positive whole numbers"),
    ("stress_tests", "run_mode=sometimes", "run_mode: expected one of multiple, single"),
    ("stress_tests", "warmups=-1", "warmups: expected a whole number of 0 or more"),
    ("spec_tests", "only=chatt", "only: unknown check 'chatt'; did you mean chat?"),
    ("spec_tests", "timeout=nan", "timeout must be a positive number (finite"),
    ("evals", "task_timeout=inf", "task_timeout must be a positive number (finite"),
    ("release", "seed=abc", "seed: expected a whole number of 0 or more"),
    ("release", "benchmarks.rate=0", "rate: expected a positive number"),
    ("release", "stress=true stress_tests.duration=nan", "duration: expected a number"),
]


@pytest.mark.parametrize(("workflow", "args", "message"), BAD_WORKFLOW_ARGS)
def test_a_bad_workflow_argument_stops_the_run_before_the_server_is_contacted(
    run_cli: Run,
    listener: socket.socket,
    tmp_path: Path,
    workflow: str,
    args: str,
    message: str,
) -> None:
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    result = run_cli(*CPU, "--workflow", workflow, "--server-url", url, "--workflow-args", args)
    line = one_line_usage_error(result)
    assert "--workflow-args: " in line and message in line, line
    assert not contacted(listener), "the server was contacted before the arguments were checked"
    assert not (tmp_path / "workflow_logs").exists(), "a run folder was written"


def test_a_release_names_the_child_whose_argument_is_bad(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli(
        *CPU, "--workflow", "release", "--server-url", "http://127.0.0.1:9",
        "--workflow-args", "benchmarks.workers=0",
    )  # fmt: skip
    assert one_line_usage_error(result).endswith("(in the benchmarks.* arguments)")


def test_a_misspelt_runner_key_is_suggested_only_for_an_unknown_key(run_cli: Run) -> None:
    url = ["--server-url", "http://127.0.0.1:9"]
    unknown = run_cli(*CPU, "--workflow", "benchmarks", *url, "--workflow-args", "ready_timout=3")
    assert "(did you mean ready_timeout?)" in one_line_usage_error(unknown)
    known = run_cli(*CPU, "--workflow", "stress_tests", *url, "--workflow-args", "run_mode=x")
    assert "did you mean" not in one_line_usage_error(known)


NON_FINITE_REQUIREMENTS = [
    ("slo: {ttft_ms: .nan}\ngoodput: {min_share: 0.9}\n", "slo.ttft_ms: expected a positive"),
    ("slo: {e2el_ms: .inf}\ngoodput: {min_share: 0.9}\n", "slo.e2el_ms: expected a positive"),
    ("slo: {ttft_ms: 100}\ngoodput: {min_share: .nan}\n", "goodput.min_share: expected a pos"),
    ("accuracy: [{task: readiness_basics, min_score: .nan}]\n", "accuracy[0].min_score: expec"),
    ("accuracy: [{task: readiness_basics, min_score: .inf}]\n", "accuracy[0].min_score: expec"),
    ('{"slo": {"tpot_ms": NaN}, "goodput": {"min_share": 0.9}}', "slo.tpot_ms: expected a pos"),
]


@pytest.mark.parametrize(("text", "message"), NON_FINITE_REQUIREMENTS)
def test_a_requirement_that_is_not_a_finite_number_is_refused_with_its_field(
    run_cli: Run, tmp_path: Path, text: str, message: str
) -> None:
    folder = passing_run(tmp_path / "run")
    requirements = tmp_path / ("req.json" if text.startswith("{") else "req.yaml")
    requirements.write_text(text)
    result = run_cli(
        "--workflow", "reports", "--run-dir", str(folder), "--requirements", str(requirements)
    )
    line = one_line_usage_error(result)
    assert f"--requirements {requirements}: " in line and message in line, line
    assert "(finite" in line
    assert not (folder / "requirements.json").exists()
    assert not (folder / "report").exists()


def recorded_run(folder: Path, **settings: Any) -> Path:
    """A run folder as a run leaves it: its runtime_spec.json."""
    config = RunConfig(model="SmolLM2-135M-Instruct", device="cpu", **settings)
    runtime = build_runtime_spec(load_registry().find(config.model, config.device), config, "r-1")
    folder.mkdir(parents=True)
    (folder / "runtime_spec.json").write_text(runtime.to_json())
    return folder


@pytest.mark.parametrize("suffix", ["", "/v1", "/v1/"])
def test_a_reruns_server_url_is_normalised_as_a_fresh_runs(
    run_cli: Run, emulator: Emulator, tmp_path: Path, suffix: str
) -> None:
    url = emulator("--model", "HuggingFaceTB/SmolLM2-135M-Instruct")
    original = recorded_run(tmp_path / "run", workflow="server", server_url="http://h:1")
    bare = url.removeprefix("http://") + suffix
    result = run_cli("--rerun", str(original), "--server-url", bare)
    assert result.code == 0, result.err
    assert f"ready at {url}\n" in result.out, result.out
    rerun = json.loads((latest_run(tmp_path) / "runtime_spec.json").read_text())
    assert rerun["run_config"]["server_url"] == url


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--server-url", "ftp://h:1"], "--server-url: 'ftp://h:1' is not an http(s) URL"),
        (["--server-url", "http://:8000"], "--server-url: 'http://:8000' is not an http(s) URL"),
        (["--service-port", "70000"], "--service-port: 70000 is not a TCP port (1-65535)"),
        (["--service-port", "0"], "--service-port: 0 is not a TCP port (1-65535)"),
    ],
)
def test_a_reruns_overrides_are_checked_as_a_fresh_runs(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], message: str
) -> None:
    monkeypatch.setattr(steps, "execute", lambda ctx: pytest.fail("the re-run started"))
    original = recorded_run(tmp_path / "run", workflow="server", local_server=True)
    result = run_cli("--rerun", str(original), *flags)
    assert message in one_line_usage_error(result)
    assert not (tmp_path / "workflow_logs").exists(), "a run folder was written"


def latest_run(tmp_path: Path) -> Path:
    return (tmp_path / "workflow_logs" / "latest").resolve()


def reports_of(run_cli: Run, folder: Path, *flags: str) -> CliResult:
    return run_cli("--workflow", "reports", "--run-dir", str(folder), *flags)


def rewrite(path: Path, change: Callable[[dict[str, Any]], object]) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


POINT = "benchmarks/benchmark_isl-128_osl-128_maxcon-1.json"
WRONG_SHAPES = [
    ("runtime_spec.json", lambda d: d.clear(), "field kind: expected 'runtime_spec', got nothing"),
    ("runtime_spec.json", lambda d: d.pop("model_spec"), "field model_spec: expected an object"),
    ("runtime_spec.json", lambda d: d.update(model_spec=[1]), "model_spec: expected an object"),
    ("runtime_spec.json", lambda d: d.update(run_config="x"), "run_config: expected an object"),
    (POINT, lambda d: d.update(isl="long"), "field isl: expected a number, got str"),
    (POINT, lambda d: d.pop("concurrency"), "field concurrency: expected a number, got nothing"),
    ("release.json", lambda d: d.update(children={}), "field children: expected a list"),
    ("release.json", lambda d: d["children"][0].pop("status"), "children[0].status: expected"),
    ("evals/evals.json", lambda d: d.update(tasks=["x"]), "field tasks[0]: expected an object"),
    ("spec_tests/spec_tests.json", lambda d: d.update(checks=7), "checks: expected a list"),
]


@pytest.mark.parametrize(("name", "change", "message"), WRONG_SHAPES)
def test_a_result_file_of_the_wrong_shape_is_named_with_its_field(
    run_cli: Run, tmp_path: Path, name: str, change: Callable[[Any], object], message: str
) -> None:
    folder = passing_run(tmp_path / "run", points=[Measured(isl=128, osl=128, concurrency=1)])
    rewrite(folder / name, change)
    line = one_line_usage_error(reports_of(run_cli, folder))
    assert line.startswith(f"error: {folder / name}: ") and message in line, line
    assert "internal error" not in line and "run log" not in line
    assert not (folder / "report").exists()


@pytest.mark.parametrize("runtime_spec", [None, "{}", "[1]", "not json"])
def test_requirements_are_not_written_into_a_folder_that_is_not_a_run(
    run_cli: Run, tmp_path: Path, runtime_spec: str | None
) -> None:
    folder = tmp_path / "not-a-run"
    folder.mkdir()
    if runtime_spec is not None:
        (folder / "runtime_spec.json").write_text(runtime_spec)
    requirements = tmp_path / "req.yaml"
    requirements.write_text("accuracy: [{task: readiness_basics, min_score: 0.5}]\n")
    line = one_line_usage_error(reports_of(run_cli, folder, "--requirements", str(requirements)))
    assert str(folder) in line
    assert sorted(path.name for path in folder.iterdir()) == (
        [] if runtime_spec is None else ["runtime_spec.json"]
    )


def test_an_unexpected_error_outside_a_run_points_to_verbose_not_to_a_run_log(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(folder: Path, *args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(report_console, "render_run", broken)
    result = reports_of(run_cli, passing_run(tmp_path / "run"))
    assert result.code == 1
    assert "internal error: RuntimeError: a bug (run again with --verbose" in result.err
    assert "run log" not in result.err


@pytest.fixture
def fill_disk(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """From its call on, every file written atomically gets its temp file beside it, as always,
    but its bytes go to /dev/full: the kernel answers ENOSPC, as a full disk does."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    real = results._new_temp_file

    def temp_on_full_disk(path: Path, mode: int | None) -> tuple[int, str]:
        fd, temp = real(path, mode)
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), temp

    return lambda: monkeypatch.setattr(results, "_new_temp_file", temp_on_full_disk)


def test_a_full_disk_is_one_line_naming_the_file_and_leaves_nothing_half_written(
    run_cli: Run, tmp_path: Path, fill_disk: Callable[[], None]
) -> None:
    folder = passing_run(tmp_path / "run")
    fill_disk()
    result = reports_of(run_cli, folder)
    assert result.code == 3, result.err
    lines = result.err.strip().splitlines()
    report_json = folder / "report" / "report.json"
    assert lines == [
        f"error: cannot write {report_json}: No space left on device (the disk is full: free "
        "some space and run again)"
    ]
    assert list((folder / "report").iterdir()) == [], "a temp file or a report was left"


def test_a_report_set_is_replaced_whole_or_not_at_all(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills as report.html is written: report.json and report.md, written before it,
    must not be the new run's beside the old html (a set that disagrees with itself)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    folder = passing_run(tmp_path / "run")
    assert reports_of(run_cli, folder).code == 0
    before = {path.name: path.read_bytes() for path in (folder / "report").iterdir()}
    real = results._new_temp_file

    def html_on_full_disk(path: Path, mode: int | None) -> tuple[int, str]:
        fd, temp = real(path, mode)
        if path.name != "report.html":
            return fd, temp
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), temp

    monkeypatch.setattr(results, "_new_temp_file", html_on_full_disk)
    passing_run(folder, points=[Measured(ttft_ms=85.0)])  # new figures to report
    result = reports_of(run_cli, folder)
    assert result.code == 3 and "cannot write" in result.err and "report.html" in result.err
    after = {path.name: path.read_bytes() for path in (folder / "report").iterdir()}
    assert after == before, "every file of the set is the earlier one, and no temp file is left"


def test_a_full_disk_under_a_requirements_file_leaves_no_requirements_json(
    run_cli: Run, tmp_path: Path, fill_disk: Callable[[], None]
) -> None:
    folder = passing_run(tmp_path / "run")
    requirements = tmp_path / "req.yaml"
    requirements.write_text("accuracy: [{task: readiness_basics, min_score: 0.5}]\n")
    fill_disk()
    result = reports_of(run_cli, folder, "--requirements", str(requirements))
    assert result.code == 3
    assert f"cannot write {folder / 'requirements.json'}: No space left" in result.err
    assert not [path for path in folder.iterdir() if "requirements" in path.name]


def test_a_load_generator_on_a_full_disk_says_which_file_in_one_line(
    tmp_path: Path, fill_disk: Callable[[], None]
) -> None:
    fill_disk()

    def run(args: argparse.Namespace, console: Console) -> int:
        results.write_json(args.output_dir / "point.json", {"isl": 1})
        return 0

    console = Console(file=io.StringIO(), width=400)
    code = run_reporting_failures(run, argparse.Namespace(output_dir=tmp_path / "out"), console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert code == 1
    assert shown.strip() == (
        f"error: cannot write {tmp_path / 'out' / 'point.json'}: No space left on device (the "
        "disk is full: free some space and run again)"
    )
    assert list((tmp_path / "out").iterdir()) == [], "no error.log, no temp file"


def test_a_run_log_on_a_full_disk_is_one_note_not_a_traceback_per_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    handler = RunLogHandler(Path("/dev/full"))
    logger = logging.getLogger("test-full-disk")
    logger.addHandler(handler)
    try:
        for index in range(3):
            logger.warning("record %d", index)
    finally:
        logger.removeHandler(handler)
        handler.close()
    err = capsys.readouterr().err
    assert err == "note: cannot write /dev/full (No space left on device); run.log stops\n"


REPORT_SHAPES = [
    (lambda d: d.update(metadata=3), "field metadata: expected an object, got int"),
    (lambda d: d.update(benchmarks=5), "field benchmarks: expected a list, got int"),
    (lambda d: d["acceptance"].update(blockers=[{}]), "acceptance.blockers[0].message: expec"),
    (lambda d: d.update(evals=[1]), "field evals: expected an object, got list"),
    (lambda d: d["evals"].update(tasks=[{"task": 1}]), "evals.tasks[0].task: expected text"),
]


@pytest.mark.parametrize("flag", ["--merge", "--compare-to"])
@pytest.mark.parametrize(("change", "message"), REPORT_SHAPES)
def test_a_report_json_of_the_wrong_shape_is_named_with_its_field(
    run_cli: Run, tmp_path: Path, flag: str, change: Callable[[Any], object], message: str
) -> None:
    baseline = passing_run(tmp_path / "baseline")
    assert reports_of(run_cli, baseline).code == 0
    report = baseline / "report" / "report.json"
    rewrite(report, change)
    if flag == "--merge":
        result = run_cli(
            "--workflow", "reports", "--merge", str(report), "--output-dir", str(tmp_path)
        )
    else:
        result = reports_of(run_cli, passing_run(tmp_path / "run"), "--compare-to", str(report))
    line = one_line_usage_error(result)
    assert line.startswith(f"error: {report}: ") and message in line, line
