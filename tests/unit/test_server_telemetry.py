"""The server's telemetry beside each point: both metric families read (labels summed, a metric
not exported is "not reported"), the per-point summary's arithmetic, a server without usable
metrics recorded and never fatal, the scraper a process of its own that dies with its parent,
and one point end to end against the emulator, whose counters are what it did."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console

from benchmarking.server_api import API_KEY_ENV
from benchmarking.settings import settings_from
from benchmarking.sweep import Point
from benchmarking.telemetry.families import NotMetrics, read_metrics
from benchmarking.telemetry.fetch import ScrapeError, scrape
from benchmarking.telemetry.point import ServerTelemetry, point_telemetry
from benchmarking.telemetry.session import scraping
from benchmarking.tools import __main__ as tools_main
from tests.helpers import (
    IDENTITY,
    Emulator,
    benchmarking_process,
    children_of,
    free_port,
    pid_alive,
    point_files,
    processes_mentioning,
    wait_for,
)

VLLM_TEXT = """\
# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_running{engine="1",model_name="m"} 2.0
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="m"} 4.0
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{engine="0",model_name="m"} 0.25
vllm:gpu_cache_usage_perc{engine="1",model_name="m"} 0.5
# TYPE vllm:num_preemptions_total counter
vllm:num_preemptions_total{engine="0",model_name="m"} 7.0
# TYPE vllm:num_preemptions_created gauge
vllm:num_preemptions_created{engine="0",model_name="m"} 1.7e+09
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{engine="0",model_name="m"} 100.0
vllm:prompt_tokens_total{engine="1",model_name="m"} 20.0
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{engine="0",model_name="m"} 50.0
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="1.0",model_name="m"} 2.0
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 3.0
vllm:e2e_request_latency_seconds_count{model_name="m"} 3.0
vllm:e2e_request_latency_seconds_sum{model_name="m"} 2.5
"""
LLAMA_CPP_TEXT = """\
# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.
# TYPE llamacpp:prompt_tokens_total counter
llamacpp:prompt_tokens_total 42
# HELP llamacpp:prompt_seconds_total Prompt process time
# TYPE llamacpp:prompt_seconds_total counter
llamacpp:prompt_seconds_total 0.5
# TYPE llamacpp:tokens_predicted_total counter
llamacpp:tokens_predicted_total 100
# TYPE llamacpp:tokens_predicted_seconds_total counter
llamacpp:tokens_predicted_seconds_total 2
# TYPE llamacpp:n_decode_total counter
llamacpp:n_decode_total 90
# HELP llamacpp:n_busy_slots_per_decode Average number of busy slots per llama_decode() call
# TYPE llamacpp:n_busy_slots_per_decode counter
llamacpp:n_busy_slots_per_decode 1.5
# TYPE llamacpp:prompt_tokens_seconds gauge
llamacpp:prompt_tokens_seconds 84
# TYPE llamacpp:requests_processing gauge
llamacpp:requests_processing 2
# TYPE llamacpp:requests_deferred gauge
llamacpp:requests_deferred 1
"""


def test_vllm_series_are_summed_over_labels_and_ratios_take_the_fullest() -> None:
    reading = read_metrics(VLLM_TEXT)
    assert reading.source == "vllm"
    assert (reading.gauges["running"], reading.gauges["waiting"]) == (5.0, 4.0)
    assert reading.gauges["kv_usage"] == 0.5, "the older gpu_cache_usage_perc, fullest engine"
    assert reading.counters["prompt_tokens"] == 120.0
    assert reading.counters["decode_tokens"] == 50.0
    assert reading.counters["preemptions"] == 7.0, "the _total sample, not the _created one"
    assert reading.counters["prefix_cache_hits"] is None, "not exported: not reported"
    assert reading.counters["prompt_seconds"] is None


def test_newer_vllm_kv_cache_name_wins_when_present() -> None:
    newer = (
        VLLM_TEXT + '# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{a="b"} 0.9\n'
    )
    assert read_metrics(newer).gauges["kv_usage"] == 0.9


def test_llama_cpp_names_and_counters_whose_family_loses_total() -> None:
    families = {family.name for family in text_string_to_metric_families(LLAMA_CPP_TEXT)}
    assert "llamacpp:prompt_tokens" in families, "the parser strips _total from counter families"
    assert "llamacpp:prompt_tokens_total" not in families
    reading = read_metrics(LLAMA_CPP_TEXT)
    assert reading.source == "llama.cpp"
    assert reading.counters["prompt_tokens"] == 42.0  # read from the sample, which keeps _total
    assert reading.counters["decode_tokens"] == 100.0
    assert (reading.counters["prompt_seconds"], reading.counters["decode_seconds"]) == (0.5, 2.0)
    assert reading.counters["decode_calls"] == 90.0
    assert (reading.gauges["running"], reading.gauges["waiting"]) == (2.0, 1.0)
    assert reading.gauges["busy_slots_per_decode"] == 1.5
    assert reading.gauges["kv_usage"] is None and reading.gauges["kv_tokens"] is None
    assert reading.counters["preemptions"] is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("<html><body>Not Found</body></html>", "not Prometheus text"),
        ("hello world\n", "not Prometheus text"),
        ("", "no vLLM (vllm:) or llama.cpp (llamacpp:) metrics"),
        ("# TYPE sglang:num_running_reqs gauge\nsglang:num_running_reqs 1\n", "no vLLM"),
    ],
)
def test_an_answer_without_either_family_is_not_metrics(text: str, why: str) -> None:
    with pytest.raises(NotMetrics, match=re.escape(why)):
        read_metrics(text)


def line(
    t_s: float, mark: str | None = None, cpu_s: float = 0.0, **values: float
) -> dict[str, object]:
    """A scraper line at `t_s` after the point's start (which is at 10 s)."""
    gauges = {name: values.get(name) for name in ("running", "waiting", "kv_usage")}
    counters = {name: values.get(name) for name in ("prompt_tokens", "decode_tokens",
                                                    "prompt_seconds", "decode_seconds",
                                                    "preemptions", "prefix_cache_hits",
                                                    "prefix_cache_queries")}  # fmt: skip
    t_ns = int((10 + t_s) * 1e9)
    return {"mark": mark, "source": "vllm", "gauges": gauges, "counters": counters,
            "t_ns": t_ns, "cpu_s": cpu_s}  # fmt: skip


START_NS = 10_000_000_000


def test_the_summary_is_peaks_means_and_counter_deltas_over_the_point() -> None:
    lines: list[dict[str, object]] = [
        line(-0.1, "start p", 1.0, running=0, waiting=0, kv_usage=0.0, prompt_tokens=1000,
             decode_tokens=500, preemptions=2, prefix_cache_hits=10, prefix_cache_queries=100),
        line(0.9, None, 1.01, running=4, waiting=3, kv_usage=0.6, prompt_tokens=1200,
             decode_tokens=600, preemptions=3, prefix_cache_hits=40, prefix_cache_queries=300),
        {"mark": None, "error": "GET /metrics failed: no answer within 1 s", "t_ns": 11_900_000_000,
         "cpu_s": 1.02},
        line(2.9, "end p", 1.04, running=0, waiting=0, kv_usage=0.3, prompt_tokens=1400,
             decode_tokens=900, preemptions=5, prefix_cache_hits=90, prefix_cache_queries=500),
    ]  # fmt: skip
    telemetry = point_telemetry(lines, START_NS, 2.0, 1.0)
    assert (telemetry.available, telemetry.source, telemetry.interval_s) == (True, "vllm", 1.0)
    assert [row.t_s for row in telemetry.series] == [-0.1, 0.9, 2.9]
    summary = telemetry.summary
    assert summary is not None
    assert (summary.peak_running, summary.peak_waiting) == (4.0, 3.0)
    assert summary.mean_kv_usage == pytest.approx(0.3) and summary.peak_kv_usage == 0.6
    assert (summary.prompt_tokens, summary.decode_tokens, summary.preemptions) == (400, 400, 3)
    assert (summary.prompt_tokens_per_s, summary.decode_tokens_per_s) == (200.0, 200.0)
    assert summary.prefix_cache_hit_rate == pytest.approx(80 / 400)
    assert summary.prompt_tokens_per_busy_s is None, "vLLM has no busy-seconds counters"
    assert (summary.scrapes, summary.failed_scrapes, summary.elapsed_s) == (4, 1, 2.0)
    assert summary.scrapes_per_s == pytest.approx(4 / 3.0, abs=1e-3)
    assert summary.scraper_cpu_s == pytest.approx(0.04)


def test_busy_second_rates_kv_absence_and_a_restarted_server() -> None:
    lines = [
        line(0.0, "start p", running=1, prompt_tokens=10, decode_tokens=50, prompt_seconds=1.0,
             decode_seconds=4.0),
        line(1.0, "end p", running=1, prompt_tokens=30, decode_tokens=20, prompt_seconds=1.5,
             decode_seconds=6.0),
    ]  # fmt: skip
    summary = point_telemetry(lines, START_NS, 0.0, 1.0).summary
    assert summary is not None
    assert summary.prompt_tokens_per_busy_s == 40.0, "20 tokens in half a slot-second"
    assert summary.decode_tokens is None, "a counter that went down: the server restarted"
    assert summary.decode_tokens_per_busy_s is None
    assert summary.mean_kv_usage is None and summary.peak_kv_usage is None
    assert summary.elapsed_s == 1.0, "no client duration: the scrapes' own span"


def test_one_scrape_has_no_deltas_and_no_answer_is_unavailable_with_the_first_reason() -> None:
    single = point_telemetry([line(0.0, "start p", running=2, prompt_tokens=5)], START_NS, 1, 1)
    assert single.available and single.summary is not None
    assert single.summary.peak_running == 2.0 and single.summary.prompt_tokens is None
    errors = [{"mark": "start p", "error": "GET /metrics answered HTTP 404", "t_ns": 1, "cpu_s": 0}]
    assert point_telemetry(errors, START_NS, 1.0, 1.0).as_dict() == {
        "available": False,
        "reason": "GET /metrics answered HTTP 404",
        "source": None,
        "interval_s": 1.0,
        "series": [],
        "summary": None,
    }


def scraped_once(url: str, folder: Path) -> ServerTelemetry:
    """One short point's telemetry against `url`, as the load generator takes it."""
    with scraping(url, folder, 0.05) as session:
        assert session is not None
        watch = session.begin("p")
        start = time.perf_counter_ns()
        time.sleep(0.2)
        return watch.finish(start, 0.2)


class Garbage(http.server.BaseHTTPRequestHandler):
    """/metrics answers a login page; /cut promises 100 bytes, sends 10 and hangs up."""

    def do_GET(self) -> None:
        body = b"<html>a login page</html>" if self.path == "/metrics" else b"x" * 10
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) if self.path == "/metrics" else 100))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def garbage_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_server_without_usable_metrics_is_recorded_not_raised(
    emulator: Emulator,
    garbage_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_route = scraped_once(emulator("--metrics", "none"), tmp_path / "404")
    assert (no_route.available, no_route.reason) == (False, "GET /metrics answered HTTP 404")
    refused = scraped_once(f"http://127.0.0.1:{free_port()}", tmp_path / "refused")
    assert not refused.available and "GET /metrics failed: " in str(refused.reason)
    assert "refused" in str(refused.reason).lower()
    garbage = scraped_once(garbage_server, tmp_path / "garbage")
    assert not garbage.available and "not Prometheus text" in str(garbage.reason)
    with pytest.raises(ScrapeError, match="GET /metrics failed: IncompleteRead"):
        scrape(f"{garbage_server}/cut", {}, 1.0)  # /cut/metrics: the body ends short
    monkeypatch.setenv("EMULATOR_API_KEY", "right-key")
    locked = emulator()
    assert scraped_once(locked, tmp_path / "401").reason == "GET /metrics answered HTTP 401"
    monkeypatch.setenv(API_KEY_ENV, "right-key")  # the run's bearer token reaches the scraper
    assert scraped_once(locked, tmp_path / "token").available


def test_a_scraper_that_died_costs_the_telemetry_not_the_run(
    emulator: Emulator, tmp_path: Path
) -> None:
    with scraping(emulator(), tmp_path, 0.05) as session:
        assert session is not None
        session.process.kill()
        telemetry = session.begin("p").finish(time.perf_counter_ns(), 0.1)
    assert not telemetry.available
    assert "the metrics scraper ended (exit -9)" in str(telemetry.reason)


ARGS: Mapping[str, object] = {
    "isl": 16,
    "osl": 20,
    "concurrency": 4,
    "num_prompts": 8,
    "telemetry_interval": 0.05,
}


def run_generator(url: str, out: Path, args: Mapping[str, object] = ARGS) -> str:
    """`python -m benchmarking` against `url`; what it printed (it must succeed)."""
    process = benchmarking_process(url, out, args)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    return output


def run_point(url: str, out: Path, args: Mapping[str, object] = ARGS) -> dict[str, Any]:
    run_generator(url, out, args)
    [(document, _rows)] = point_files(out)
    return document


def test_a_point_reports_what_the_emulator_did_in_vllm_names(
    emulator: Emulator, tmp_path: Path
) -> None:
    """Two slots for four concurrent requests: two run, two wait; the counters' growth over
    the point is the tokens the emulator took and wrote."""
    url = emulator("--ttft-ms", "50", "--itl-ms", "20", "--slots", "2")
    document = run_point(url, tmp_path / "out")
    telemetry = document["server_telemetry"]
    assert isinstance(telemetry, dict)
    assert (telemetry["available"], telemetry["source"], telemetry["interval_s"]) == (
        True,
        "vllm",
        0.05,
    )
    summary = telemetry["summary"]
    assert (summary["peak_running"], summary["peak_waiting"]) == (2, 2)
    assert summary["prompt_tokens"] == document["total_server_input_tokens"] == 8 * 16
    assert summary["decode_tokens"] == document["total_server_output_tokens"] == 8 * 20
    assert summary["decode_tokens_per_s"] == pytest.approx(document["output_throughput"])
    assert (summary["preemptions"], summary["prefix_cache_hit_rate"]) == (0, 0)
    assert 0 < summary["peak_kv_usage"] < 1 and summary["mean_kv_usage"] > 0
    assert summary["scrapes"] >= 10 and summary["scraper_cpu_s"] > 0
    assert 0 < summary["scrapes_per_s"] <= 20 * 1.1, "one scrape per 0.05 s at most"
    series = telemetry["series"]
    assert series[0]["t_s"] < 0 < series[-1]["t_s"], "from before the first request to after"
    assert series[-1]["running"] == 0 and series[-1]["prompt_tokens"] >= summary["prompt_tokens"]


def test_a_point_against_llama_cpp_names_has_busy_second_rates_and_no_kv(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "50", "--itl-ms", "20", "--metrics", "llamacpp")
    document = run_point(url, tmp_path / "out")
    telemetry = document["server_telemetry"]
    assert isinstance(telemetry, dict) and telemetry["source"] == "llama.cpp"
    summary = telemetry["summary"]
    assert summary["peak_running"] == 4 and summary["peak_waiting"] == 0
    assert summary["decode_tokens"] == document["total_server_output_tokens"]
    assert (
        summary["prompt_tokens"] + summary["cached_prompt_tokens"] == document["total_input_tokens"]
    )
    assert summary["decode_tokens_per_busy_s"] == pytest.approx(50, rel=0.01), "20 ms a token"
    assert summary["prompt_tokens_per_busy_s"] == pytest.approx(16 / 0.05, rel=0.01)
    assert summary["mean_kv_usage"] is None and summary["preemptions"] is None


def test_no_metrics_never_fails_the_run_and_zero_interval_scrapes_nothing(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "1", "--metrics", "none")
    said = run_generator(url, tmp_path / "out")
    assert "no server telemetry for 1 of 1 points: GET /metrics answered HTTP 404" in said
    [(document, _rows)] = point_files(tmp_path / "out")
    telemetry = document["server_telemetry"]
    assert telemetry == {
        "available": False,
        "reason": "GET /metrics answered HTTP 404",
        "source": None,
        "interval_s": 0.05,
        "series": [],
        "summary": None,
    }
    off = run_point(emulator(), tmp_path / "off", {**ARGS, "telemetry_interval": 0})
    assert isinstance(off["server_telemetry"], dict)
    assert off["server_telemetry"]["available"] is False
    assert not (tmp_path / "off" / "server_metrics.jsonl").exists()


def test_the_scraper_is_a_child_process_that_dies_with_its_parent(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "10", "--itl-ms", "50")  # each request about 3 s
    args = {**ARGS, "osl": 64, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "out", args)

    def scraper() -> list[int]:
        mine = processes_mentioning("benchmarking.telemetry")
        return [pid for pid in children_of(process.pid) if pid in mine]

    assert wait_for(lambda: len(scraper()) == 1, 60), "the scraper runs beside the generator"
    [pid] = scraper()
    samples = tmp_path / "out" / "server_metrics.jsonl"
    assert wait_for(lambda: samples.is_file() and samples.read_text().count("\n") >= 3, 30)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert wait_for(lambda: not pid_alive(pid), 10), "the scraper outlived its parent"
    assert all(json.loads(text)["t_ns"] for text in samples.read_text().splitlines())


def test_a_tool_drivers_point_has_the_servers_view_too(
    emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the tool made of the point, the server's counters over it are recorded: here a
    stand-in tool sends three requests of 8 tokens each, then fails."""
    url = emulator("--ttft-ms", "5", "--itl-ms", "1")

    def three_requests(tool: str, *args: object) -> str:
        body = json.dumps({"model": "m", "prompt": "one two three", "max_tokens": 8}).encode()
        for _ in range(3):
            request = urllib.request.Request(f"{url}/v1/completions", body)
            urllib.request.urlopen(request, timeout=10).read()
        return f"{tool} failed (exit 1)"

    monkeypatch.setattr(tools_main, "run_tool", three_requests)
    settings = settings_from({"tool": "aiperf", "isl": 32, "osl": 8, "telemetry_interval": 0.05})
    with scraping(url, tmp_path, 0.05) as session:
        run = tools_main.ToolRun(
            "aiperf", settings, tmp_path, url, "m", tmp_path, IDENTITY, "gguf", Console(), session
        )
        document = tools_main.run_point(run, Point(32, 8, 1, 3))
    telemetry = document["server_telemetry"]
    assert isinstance(telemetry, dict) and telemetry["available"] is True
    assert telemetry["summary"]["decode_tokens"] == 24
    assert telemetry["summary"]["prompt_tokens"] == 9
