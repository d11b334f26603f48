"""Whatever a server sends, or fails to send, a worker process that dies, a request that never
ends: each becomes failed requests with the reason, and the run ends promptly with a verdict."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path

import pytest

from benchmarking.client import driver
from benchmarking.client.connection import RawResponse
from benchmarking.client.requests import CHAT, Prompt, Target, http_request, request_body
from benchmarking.client.result import build_result
from benchmarking.settings import SettingsError, settings_from
from benchmarking.stress_plan import stress_plan
from tests.helpers import (
    Emulator,
    benchmarking_process,
    children_of,
    point_files,
    processes_mentioning,
    records,
    wait_for,
)

SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)
CHUNKED_END = b"0\r\n\r\n"


def event(payload: bytes) -> bytes:
    data = b"data: " + payload + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


def json_head(status: int, length: int) -> bytes:
    head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {length}"
    return head.encode() + b"\r\n\r\n"


TOKEN = event(b'{"choices": [{"index": 0, "delta": {"content": " tok"}}]}')
DONE = event(b"[DONE]") + CHUNKED_END


def raw(data: bytes, error: str | None = None) -> RawResponse:
    """A response as the connection records it: two reads, 1 and 2 ms after the send."""
    half = len(data) // 2
    reads = [(2_000_000, data[:half]), (3_000_000, data[half:])] if data else []
    return RawResponse(sent_ns=1_000_000, reads=reads, error=error)


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (raw(b""), "no response: the connection closed before the headers"),
        (raw(b"", "connection closed early: by the server"), "connection closed early"),
        (raw(json_head(200, 0)), "HTTP 200 without a stream: (empty body)"),
        (raw(json_head(200, 2) + b"{}"), "HTTP 200 without a stream: {}"),
        (
            raw(json_head(200, 40) + b'{"error": {"message": "no model"}}'),
            'HTTP 200 without a stream: {"error": {"message": "no model"}}',
        ),
        (raw(json_head(200, 300) + b"x" * 300), "HTTP 200 without a stream: " + "x" * 120 + "..."),
        (raw(json_head(200, 40) + b'{"choices": [{"te'), 'HTTP 200 without a stream: {"choices'),
        (raw(SSE_HEAD + b"3\r\n{}\n\r\n" + CHUNKED_END), "HTTP 200 without a stream: {}"),
        (raw(SSE_HEAD + DONE), "the stream ended without a token"),
        (
            raw(SSE_HEAD, "connection closed early: by the server"),
            "connection closed early: by the server",
        ),
        (raw(SSE_HEAD + TOKEN, "connection closed early: x"), "connection closed early: x"),
        (raw(SSE_HEAD + TOKEN + CHUNKED_END), "the stream ended without [DONE]"),
        (raw(SSE_HEAD + event(b'{"choices": [{"delta": {"con') + DONE), "malformed event"),
        (raw(SSE_HEAD + event(b"[1, 2]") + DONE), "malformed event in the stream: b'[1, 2]'"),
        (raw(SSE_HEAD + event(b'{"choices": ["x"]}') + DONE), "the stream ended without a token"),
        (raw(json_head(502, 11) + b"bad gateway"), "HTTP 502: bad gateway"),
        (raw(json_head(500, 0)), "HTTP 500: (empty body)"),
        (raw(b"garbage\r\n\r\n"), "malformed response: not an HTTP status line"),
        (raw(SSE_HEAD + b"zz\r\ndata\r\n"), "malformed response: bad chunk size"),
    ],
)
def test_whatever_the_server_sends_becomes_a_result_never_an_exception(
    response: RawResponse, reason: str
) -> None:
    result = build_result(0, response, 0, 8, driver.count_words)
    assert not result.success
    assert result.error is not None and result.error.startswith(reason), result.error


def test_a_response_cut_after_its_headers_fails_the_run_promptly(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "1", "--cut-after-headers-every", "3")
    args = {"isl": 16, "osl": 8, "concurrency": 4, "num_prompts": 12, "workers": 2, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "out", args)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    assert "4 of 12 requests failed (33%, over max_failed=0)" in output
    assert "4 x connection closed early: by the server" in output
    [(document, rows)] = point_files(tmp_path / "out")
    assert (document["completed"], document["failed"]) == (8, 4)
    assert document["error_counts"] == {"connection closed early: by the server": 4}
    assert sorted(row["success"] for row in rows) == [False] * 4 + [True] * 8


def test_max_failed_allows_a_share_of_failed_requests(emulator: Emulator, tmp_path: Path) -> None:
    url = emulator("--ttft-ms", "5", "--itl-ms", "1", "--fail-every", "4")
    args = {"isl": 16, "osl": 8, "concurrency": 4, "num_prompts": 8, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "out", args | {"max_failed": 0.25})
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert "2 of 8 requests failed (25%, within max_failed=0.25)" in output
    assert "2 x HTTP 500: injected failure" in output
    [(document, _rows)] = point_files(tmp_path / "out")
    assert (document["failed"], document["max_failed"]) == (2, 0.25)


def test_a_worker_killed_mid_run_costs_its_own_requests_and_fails_the_run(
    emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--ttft-ms", "10", "--itl-ms", "40")  # each request about 2.6 s
    args = {"isl": 16, "osl": 64, "concurrency": 4, "num_prompts": 8, "workers": 2, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "out", args)
    assert wait_for(lambda: len(records(url)) >= 4, 60), "the first requests reach the emulator"
    scraper = processes_mentioning("benchmarking.telemetry")  # the /metrics scraper is no worker
    workers = [pid for pid in children_of(process.pid) if pid not in scraper]
    assert len(workers) == 2, workers
    os.kill(workers[0], signal.SIGKILL)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    [(document, rows)] = point_files(tmp_path / "out")
    failed = [row for row in rows if not row["success"]]
    assert (document["completed"], document["failed"]) == (4, 4), "the other worker's are kept"
    assert {row["error"] for row in failed} == {  # not waited for: "did not report by ..."
        "worker process exited with code -9 before reporting"
    }
    assert "4 x worker process exited with code -9 before reporting" in output


def test_a_generator_stopped_with_sigterm_prints_no_traceback(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The runner stops the generator's whole process group with SIGTERM (its server died):
    each worker used to inherit the parent's handler and print a KeyboardInterrupt traceback."""
    url = emulator("--ttft-ms", "10", "--itl-ms", "40")
    args = {"isl": 16, "osl": 64, "concurrency": 4, "num_prompts": 8, "workers": 2, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "out", args)
    assert wait_for(lambda: len(records(url)) >= 4, 60), "the first requests reach the emulator"
    for pid in [*children_of(process.pid), process.pid]:  # as a signal to the process group
        os.kill(pid, signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode != 0
    assert "Traceback" not in output, output


def test_a_failed_trace_capture_is_one_line_naming_the_servers_answer(
    emulator: Emulator, tmp_path: Path
) -> None:
    """It used to be `error: TraceCaptureError: ... (traceback in error.log)`."""
    url = emulator("--fail-every", "1")
    process = benchmarking_process(url, tmp_path / "out", {"smoke": True}, trace_capture=True)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    [error] = [line for line in output.splitlines() if line.startswith("error:")]
    assert "got HTTP 500" in error and "TraceCaptureError" not in error
    assert "traceback" not in output.lower()


def plan(
    url: str,
    count: int,
    concurrency: int,
    request_timeout_s: float = driver.DEFAULT_REQUEST_TIMEOUT_S,
    deadline_s: float | None = None,
) -> driver.Plan:
    target = Target.from_url(url, {})
    body = request_body("m", Prompt("w " * 8, 8, 4), CHAT, True)
    requests = tuple(
        driver.Planned(i, http_request(target, CHAT, body, str(i)), 0, 8) for i in range(count)
    )
    return driver.Plan(target, requests, concurrency, request_timeout_s, deadline_s)


def test_a_worker_that_hangs_is_stopped_at_the_deadline_and_costs_its_own_requests(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that neither reports nor dies (stopped, or stuck in a kernel call) must not hold
    the parent: at the point's deadline it is killed and its requests fail, saying why."""
    monkeypatch.setattr(driver, "REPORT_GRACE_S", 1.0)
    url = emulator("--ttft-ms", "10", "--itl-ms", "1000")  # each request about 4 s

    def stop_one_worker() -> None:
        wait_for(lambda: len(multiprocessing.active_children()) == 2 and len(records(url)) > 0, 30)
        os.kill(multiprocessing.active_children()[0].pid or 0, signal.SIGSTOP)

    stopper = threading.Thread(target=stop_one_worker)
    stopper.start()
    outcome = driver.run(plan(url, 4, 4, request_timeout_s=30, deadline_s=6), workers=2)
    stopper.join()
    errors = sorted(str(r.error) for r in outcome.results if not r.success)
    assert errors == ["worker process did not report by the point's deadline"] * 2
    assert sum(r.success for r in outcome.results) == 2, "the other worker's requests are kept"


def test_a_request_past_its_timeout_fails_and_the_run_goes_on(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "30000")  # answered, were the time limit not kept
    outcome = driver.run(plan(url, 4, 4, request_timeout_s=0.3))
    assert [r.error for r in outcome.results] == ["timed out after 0.3 s (request_timeout)"] * 4
    assert not any(r.success for r in outcome.results)


def test_past_the_points_deadline_outstanding_requests_fail(emulator: Emulator) -> None:
    url = emulator("--ttft-ms", "30000")  # answered, were the deadline not kept
    # 3 s: long enough for two worker processes to start and connect on a loaded machine (at
    # 0.5 s a busy CI machine cut the connection itself: "connect failed")
    outcome = driver.run(plan(url, 4, 2, request_timeout_s=60, deadline_s=3), workers=2)
    errors = sorted(str(r.error) for r in outcome.results)
    assert (
        errors
        == ["not sent: the point's deadline had passed"] * 2
        + ["timed out: the point's deadline passed"] * 2
    )


def test_failure_arguments_are_checked_where_the_runner_checks_them() -> None:
    assert settings_from({"max_failed": 0.05}).max_failed == 0.05
    assert stress_plan({"max_failed": 0.1}, 4096, 8).settings.max_failed == 0.1
    with pytest.raises(SettingsError, match="max_failed: expected a fraction from 0 to 1"):
        settings_from({"max_failed": 5})
    with pytest.raises(ValueError, match="max_failed: expected a fraction from 0 to 1"):
        stress_plan({"max_failed": "many"}, 4096, 8)
    with pytest.raises(SettingsError, match="request_timeout: expected a positive number"):
        settings_from({"request_timeout": 0})
    assert settings_from({"request_timeout": 90}).request_timeout_s(2048) == 90
    assert settings_from({}).request_timeout_s(128) == 300 + 128, "default: 300 s + 1 s/token"
