"""AIPerf and GuideLLM outputs (trimmed from real runs of aiperf 0.13.0 and guidellm 0.8.1
against the emulator: 6 requests, ISL 32, OSL 16, concurrency 2) become our result fields."""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarking.report import summary_table
from benchmarking.settings import SettingsError, settings_from
from benchmarking.sweep import Point
from benchmarking.tools import aiperf, guidellm, request_rows
from benchmarking.tools.__main__ import TOOL_START_S, run_to_deadline, tool_deadline_s
from benchmarking.tools.convert import complete
from benchmarking.tools.launch import with_key
from tests.helpers import pid_alive, wait_for

DATA = Path(__file__).parent / "data"
PERCENTILES = (50.0, 90.0, 99.0)


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    return data


def test_aiperf_export_in_vllm_names() -> None:
    export = load("aiperf_profile_export_aiperf.json")
    summary = aiperf.convert(export, PERCENTILES)
    assert complete(summary) == []
    assert (summary["completed"], summary["failed"]) == (6, 0)
    assert (summary["total_input_tokens"], summary["total_output_tokens"]) == (192, 96)
    assert summary["mean_ttft_ms"] == pytest.approx(33.8058, abs=1e-3)
    assert summary["p99_ttft_ms"] == export["time_to_first_token"]["p99"]
    assert summary["mean_tpot_ms"] == export["inter_token_latency"]["avg"], "per-request TPOT"
    assert summary["p99_itl_ms"] == export["inter_chunk_latency"]["p99"], "every gap"
    assert summary["output_throughput"] == pytest.approx(96 / 0.2627, rel=1e-3)
    assert summary["tool_version"] == "0.13.0"


def test_aiperf_failures_are_counted() -> None:
    export = load("aiperf_profile_export_aiperf.json") | {
        "error_request_count": {"unit": "requests", "avg": 2.0}
    }
    assert aiperf.convert(export, PERCENTILES)["failed"] == 2


def test_guidellm_report_in_vllm_names() -> None:
    report = load("guidellm_benchmarks.json")
    summary = guidellm.convert(report, PERCENTILES)
    metrics = report["benchmarks"][0]["metrics"]
    assert complete(summary) == []
    assert (summary["completed"], summary["failed"], summary["total_output_tokens"]) == (6, 0, 96)
    assert summary["mean_ttft_ms"] == pytest.approx(33.604, abs=1e-3)
    latency = metrics["request_latency"]["successful"]
    assert summary["mean_e2el_ms"] == pytest.approx(latency["mean"] * 1000), "seconds -> ms"
    itl = metrics["inter_token_latency_ms"]["successful"]
    assert summary["mean_tpot_ms"] == itl["mean"], "not GuideLLM's TTFT-inclusive TPOT"
    assert (
        summary["p99_ttft_ms"]
        == metrics["time_to_first_token_ms"]["successful"]["percentiles"]["p99"]
    )


def test_guidellm_errored_and_incomplete_requests_are_failures() -> None:
    report = copy.deepcopy(load("guidellm_benchmarks.json"))
    report["benchmarks"][0]["metrics"]["request_totals"] |= {"errored": 2, "incomplete": 1}
    assert guidellm.convert(report, PERCENTILES)["failed"] == 3


def test_converted_points_render_in_the_benchmarks_table() -> None:
    summary = aiperf.convert(load("aiperf_profile_export_aiperf.json"), PERCENTILES)
    failed_point = {"isl": 32, "osl": 16, "concurrency": 8, "completed": 0, "failed": 16}
    table = summary_table([{"isl": 32, "osl": 16, "concurrency": 2, **summary}, failed_point])
    assert table.row_count == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"tool": "locust"}, "tool=locust: use native, aiperf, guidellm"),
        ({"tool": "aiperf", "dataset": "sharegpt"}, "tool=aiperf runs dataset=random only"),
        ({"tool": "guidellm", "rate": 5}, "tool=guidellm does not take rate"),
        ({"tool": "aiperf", "request_timeout": 60}, "tool=aiperf does not take request_timeout"),
    ],
)
def test_tool_arguments_are_checked(args: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from(args)


def test_the_api_key_is_added_in_process_never_on_the_command_line() -> None:
    settings = settings_from({"tool": "guidellm", "isl": 32, "osl": 16})
    point = Point(32, 16, 2, 6)
    argv = guidellm.command(point, settings, "m", "http://h:1", Path("tok"), Path("out"))
    assert not any("api_key" in part for part in argv)
    keyed = with_key("guidellm", argv, "k3y")
    assert keyed[keyed.index("--backend") + 1].endswith(",api_key=k3y")
    assert with_key("aiperf", ["profile"], "k3y") == ["profile", "--api-key", "k3y"]
    assert with_key("aiperf", ["profile"], None) == ["profile"]


def test_aiperf_records_become_our_request_rows() -> None:
    rows = request_rows.aiperf_rows(DATA / "aiperf_profile_export.jsonl")
    assert [row["index"] for row in rows] == [0, 1], "the warm-up record is left out"
    first = rows[0]
    assert first["start_ms"] == 0.0 and first["success"] is True and first["error"] is None
    assert (first["prompt_tokens"], first["output_tokens"]) == (32, 16)
    assert first["server_output_tokens"] == 16
    assert isinstance(first["ttft_ms"], float) and first["ttft_ms"] > 0
    assert isinstance(first["itl_ms"], list) and len(first["itl_ms"]) == 15
    assert all(set(row) == set(rows[0]) for row in rows)


def test_aiperf_failed_record_keeps_its_message(tmp_path: Path) -> None:
    records = (DATA / "aiperf_profile_export.jsonl").read_text().splitlines()
    failed = json.loads(records[-1])
    failed["metrics"] = {}
    failed["error"] = {"code": 500, "type": "HTTPError", "message": "injected failure"}
    path = tmp_path / "profile_export.jsonl"
    path.write_text("\n".join([*records[:-1], json.dumps(failed)]) + "\n")
    last = request_rows.aiperf_rows(path)[-1]
    assert (last["success"], last["error"], last["ttft_ms"]) == (False, "injected failure", None)


def test_guidellm_requests_become_our_request_rows() -> None:
    report = load("guidellm_requests.json")
    errored = copy.deepcopy(report["benchmarks"][0]["requests"]["successful"][0])
    errored["info"] = {"error": "HTTP 500: injected failure"}
    report["benchmarks"][0]["requests"]["errored"] = [errored]
    rows = request_rows.guidellm_rows(report)
    assert [row["success"] for row in rows] == [True, True, False]
    assert rows[-1]["error"] == "HTTP 500: injected failure"
    assert min(float(row["start_ms"]) for row in rows) == 0.0  # type: ignore[arg-type]
    assert rows[0]["output_tokens"] == 16 and rows[0]["itl_ms"] == []
    assert rows[0]["e2el_ms"] == pytest.approx(
        report["benchmarks"][0]["requests"]["successful"][0]["request_latency"] * 1000
    )
    assert set(rows[0]) == set(request_rows.aiperf_rows(DATA / "aiperf_profile_export.jsonl")[0])


HANGING_TOOL = """
import subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(worker.pid, flush=True)
time.sleep(600)
"""


def test_a_tool_that_hangs_is_stopped_at_its_deadline_with_its_workers(tmp_path: Path) -> None:
    """AIPerf or GuideLLM stuck on a server that never answers must not hold the run forever."""
    log = tmp_path / "tool.log"
    code = run_to_deadline([sys.executable, "-c", HANGING_TOOL], log, dict(os.environ), 2.0)
    assert code is None, "stopped at its deadline (a tool left to run would exit 0)"
    worker = int(log.read_text().split()[0])
    assert wait_for(lambda: not pid_alive(worker), 10), "the tool's worker outlived it"


def test_each_point_gets_its_own_prompts_from_the_tools_too() -> None:
    """The same seed at every point would send the same prompts again to a prefix cache."""
    settings = settings_from({})
    first, second = Point(128, 128, 1, 8), Point(128, 128, 4, 8)
    for driver, flag in ((aiperf, "--random-seed"), (guidellm, "--seed")):
        argvs = [
            driver.command(p, settings, "m", "http://h:1", Path("t"), Path("o"))
            for p in (first, second)
        ]
        seeds = {argv[argv.index(flag) + 1] for argv in argvs}
        assert len(seeds) == 2, driver.__name__


def test_a_tools_deadline_covers_its_waves_of_requests() -> None:
    settings = settings_from({"request_timeout": 10})
    assert tool_deadline_s(Point(128, 128, 4, 8), settings) == TOOL_START_S + 3 * 11
