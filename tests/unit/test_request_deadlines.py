"""Issue 19, item 11: every request has a whole-request deadline. A server that sends a byte a
second answers every socket read in time, so a per-read timeout never ends such a request; the
deadline does, and what the user sees says so."""

from __future__ import annotations

import socketserver
import sys
import threading
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from benchmarking import datasets, deadline, deadline_requests, stress
from benchmarking.server_api import ServedModelError, served_models
from benchmarking.telemetry.fetch import ScrapeError, scrape
from benchmarking.trace_capture import TraceCaptureError, capture_traces
from evals import lm_eval_deadline, lm_eval_shipped
from evals.spec_tests.catalog import selected
from evals.spec_tests.client import Client
from evals.spec_tests.runner import run_check
from evals.spec_tests.suite import Suite
from evals.spec_tests.verdict import ERROR
from tests.helpers import SPEC_REPO, Emulator
from tests.unit.test_spec_tests import run_suite
from workflows.servers.base import probe_health, reported_version

FINISHES_WITHIN = 30.0  # what a test waits for a call that should end at once; never an outcome
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"


class DripHandler(socketserver.BaseRequestHandler):
    """Every path, /health too: the head, then a byte every 0.2 s until the client hangs up."""

    def handle(self) -> None:
        self.request.recv(65536)
        try:
            self.request.sendall(HEAD)
            while not self.server.stopping.wait(0.2):  # type: ignore[attr-defined]
                self.request.sendall(b" ")
        except OSError:
            return


@pytest.fixture
def drip_url() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), DripHandler)
    server.daemon_threads = True
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.stopping.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


class PassedAlarm:
    """A deadline whose time has come as soon as it is set: a clock past every deadline."""

    def __init__(self, seconds: float, fire: Callable[[], None]) -> None:
        self.fire = fire

    def start(self) -> None:
        self.fire()

    def cancel(self) -> None:
        pass


@pytest.fixture
def deadlines_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deadline, "ALARM", PassedAlarm)


def ended(call: Callable[[], Any]) -> Any:
    """What `call` returned or raised; AssertionError if it is still running (no deadline)."""
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(call())
        except Exception as error:  # the outcome under test
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(FINISHES_WITHIN)
    assert outcome, "the request is still running: it has no whole-request deadline"
    return outcome[0]


@pytest.mark.usefixtures("deadlines_passed")
def test_the_readiness_probe_ends_and_says_why(drip_url: str) -> None:
    assert ended(lambda: probe_health(drip_url, {})) == (
        False,
        "no complete answer on /health within 2s",
    )


@pytest.mark.usefixtures("deadlines_passed")
def test_the_engine_version_question_ends(drip_url: str) -> None:
    assert ended(lambda: reported_version(drip_url, {})) is None


@pytest.mark.usefixtures("deadlines_passed")
def test_the_served_model_question_ends_with_a_line(drip_url: str) -> None:
    error = ended(lambda: served_models(drip_url, {}))
    assert isinstance(error, ServedModelError)
    assert str(error) == (
        f"the server at {drip_url} does not say which model it serves (GET /v1/models: no "
        "complete answer within 30s); the run needs it to list the model it measures"
    )


@pytest.mark.usefixtures("deadlines_passed")
def test_the_telemetry_scrape_ends_with_a_line(drip_url: str) -> None:
    error = ended(lambda: scrape(drip_url, {}, 5.0))
    assert isinstance(error, ScrapeError)
    assert str(error) == "GET /metrics failed: no answer within 5 s"


@pytest.mark.usefixtures("deadlines_passed")
def test_trace_capture_ends_with_a_line(drip_url: str) -> None:
    error = ended(lambda: capture_traces(drip_url, {}, SPEC_REPO, [128]))
    assert isinstance(error, TraceCaptureError)
    assert str(error) == (
        "trace capture at 128 tokens failed: "
        "POST /v1/completions: no complete answer within 600s (whole-request deadline)"
    )


@pytest.mark.usefixtures("deadlines_passed")
def test_the_stress_health_check_ends(drip_url: str) -> None:
    assert ended(lambda: stress.still_answers(drip_url, {})) is False


@pytest.mark.usefixtures("deadlines_passed")
def test_the_server_tokenizer_probe_ends(drip_url: str) -> None:
    server = datasets.ServerTokenizer(drip_url, {}, SPEC_REPO)
    chosen = ended(lambda: datasets.pick_tokenizer(server, None, print))
    assert isinstance(chosen, datasets.WordTokenizer)


@pytest.mark.usefixtures("deadlines_passed")
@pytest.mark.parametrize(
    ("check", "line"),
    [
        ("models_list", "GET /v1/models: no complete answer within 180s"),
        ("completions", "POST /v1/completions: no complete answer within 180s"),
        ("chat_stream", "POST /v1/chat/completions (stream): no complete answer within 180s"),
        ("max_context_prompt", "POST /v1/completions: no complete answer within 600s"),
        ("max_concurrency", "POST /v1/completions: no complete answer within 180s"),
    ],
)
def test_a_spec_check_ends_as_an_error_naming_the_deadline(
    drip_url: str, check: str, line: str
) -> None:
    suite = Suite(Client(drip_url, SPEC_REPO), "emulator", 4096, 8, None)
    result = ended(lambda: run_check(selected([check])[0], suite))
    assert (result.status, result.attempts) == (ERROR, 1)
    assert result.message == f"{line} (whole-request deadline)"


@pytest.mark.usefixtures("deadlines_passed")
def test_a_request_through_an_http_proxy_ends_too(
    drip_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", drip_url)  # the proxy drips
    outcome = ended(lambda: deadline_requests.get("http://example.invalid/v1/models", timeout=5))
    assert str(outcome) == "GET /v1/models: no complete answer within 5s (whole-request deadline)"


def test_a_deadline_not_reached_leaves_the_answer_alone(emulator: Emulator) -> None:
    reply = Client(emulator(), SPEC_REPO, timeout_s=30).post(
        "/v1/completions", {"prompt": "Hi", "max_tokens": 2}
    )
    assert reply["choices"]


def test_spec_tests_against_a_dripping_server_end_at_the_deadline(
    emulator: Emulator, tmp_path: Path
) -> None:
    """The fault as the issue met it: the emulator drips its answers a byte a second."""
    url = emulator("--drip-bytes-per-s", "1")
    code, output, _ = run_suite(url, tmp_path / "out", "--request-timeout", "1")
    assert code == 4, output
    assert output.strip() == (
        f"error: the server at {url} is too slow: "
        "POST /v1/completions: no complete answer within 1s (whole-request deadline)"
    )


@pytest.mark.usefixtures("deadlines_passed")
def test_an_eval_request_sent_alone_ends(drip_url: str) -> None:
    """lm-eval at num_concurrent 1 posts with requests' `timeout`, which bounds each read; the
    modules it runs through bound the whole request (lm-eval is in the evals environment)."""
    api_models = types.ModuleType("lm_eval.models.api_models")
    api_models.requests = requests  # type: ignore[attr-defined]
    lm_eval_deadline.bound_each_request(api_models)
    post = api_models.requests.post
    outcome = ended(lambda: post(f"{drip_url}/v1/completions", json={}, timeout=600))
    assert str(outcome) == (
        "POST /v1/completions: no complete answer within 600s (whole-request deadline)"
    )
    assert api_models.requests.exceptions is requests.exceptions


def test_every_lm_eval_run_bounds_its_requests_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shipped tasks (evals.lm_eval_shipped) and hub tasks (evals.lm_eval_deadline) alike."""
    said: list[str] = []
    cli = types.ModuleType("lm_eval.__main__")
    cli.cli_evaluate = lambda: said.append("lm-eval")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "lm_eval", types.ModuleType("lm_eval"))
    monkeypatch.setitem(sys.modules, "lm_eval.__main__", cli)
    monkeypatch.setattr(lm_eval_shipped, "index_only_the_include_path", lambda: None)
    for module in (lm_eval_shipped, lm_eval_deadline):
        monkeypatch.setattr(module, "bound_each_request", lambda: said.append("bound"))
        module.main()
    assert said == ["bound", "lm-eval", "bound", "lm-eval"]
