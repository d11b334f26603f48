"""A server serving another model than the spec's (issue 18, item 6). The model name used to
fall back to the first model /v1/models lists, so a server of Llama-3.1-70B-Instruct passed
as SmolLM2. The run checks the name once the server is ready and stops with one line naming
both; `--workflow-args served_model=NAME` is the explicit escape."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarking.server_api import ServedModelError, expected_model, require_served_model
from tests.helpers import RUNTIME_SPEC, CliResult, Emulator, benchmarking_process, point_files
from workflows.errors import ExitCode

Run = Callable[..., CliResult]
SPEC_MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the CPU spec's repo
OTHER = "meta-llama/Llama-3.1-70B-Instruct"
SERVER_RUN = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "server"]


def error_lines(result: CliResult) -> list[str]:
    return [line for line in result.err.splitlines() if line.startswith("error")]


def test_a_server_of_another_model_stops_the_run_naming_both(
    run_cli: Run, emulator: Emulator
) -> None:
    url = emulator("--model", OTHER)
    result = run_cli(*SERVER_RUN, "--server-url", url)
    assert result.code == ExitCode.SERVER, result.err
    [line] = error_lines(result)
    assert f"serves {OTHER}, not {SPEC_MODEL}" in line, line
    assert "served_model=" in line and "Traceback" not in result.err
    assert "exit 4 (server)" in result.err


def test_served_model_lets_a_server_of_another_name_through(
    run_cli: Run, emulator: Emulator, tmp_path: Path
) -> None:
    url = emulator("--model", OTHER)
    result = run_cli(*SERVER_RUN, "--server-url", url, "--workflow-args", f"served_model={OTHER}")
    assert result.code == ExitCode.OK, result.err
    runtime = tmp_path / "workflow_logs" / "latest" / "runtime_spec.json"
    assert json.loads(runtime.read_text())["served_model"] == OTHER
    assert f'"model": "{OTHER}"' in result.out, "the example request names the served model"


def test_the_spec_s_own_model_passes_and_is_recorded(
    run_cli: Run, emulator: Emulator, tmp_path: Path
) -> None:
    result = run_cli(*SERVER_RUN, "--server-url", emulator("--model", SPEC_MODEL))
    assert result.code == ExitCode.OK, result.err
    runtime = tmp_path / "workflow_logs" / "latest" / "runtime_spec.json"
    assert json.loads(runtime.read_text())["served_model"] == SPEC_MODEL


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("served_model=true", "served_model takes a name, e.g. served_model=org/Model, not True"),
        ("served_modle=x", "does not take served_modle (did you mean served_model?)"),
    ],
)
def test_a_bad_served_model_argument_is_a_usage_error(
    run_cli: Run, args: str, message: str
) -> None:
    result = run_cli(*SERVER_RUN, "--server-url", "http://127.0.0.1:9", "--workflow-args", args)
    assert result.code == ExitCode.USAGE, result.err
    [line] = error_lines(result)
    assert message in line, line


def test_the_benchmarks_workflow_points_a_mistyped_key_at_served_model(run_cli: Run) -> None:
    args = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks"]
    result = run_cli(*args, "--workflow-args", "served-modle=x")
    assert result.code == ExitCode.USAGE, result.err
    assert "(did you mean served_model?)" in result.err


def test_standalone_benchmarks_check_the_model_too(emulator: Emulator, tmp_path: Path) -> None:
    """`python -m benchmarking` resolves the name itself: the same check, the same escape."""
    url = emulator("--model", OTHER, "--ttft-ms", "1", "--itl-ms", "1")
    load = {"isl": 16, "osl": 4, "concurrency": 1, "num_prompts": 2, "warmups": 0}
    process = benchmarking_process(url, tmp_path / "refused", load)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 1, output
    [line] = [line for line in output.splitlines() if line.startswith("error:")]
    assert f"serves {OTHER}, not acme/Tiny" in line and "Traceback" not in output
    assert not list((tmp_path / "refused").glob("*.json")), "nothing was measured"
    process = benchmarking_process(url, tmp_path / "escaped", load | {"served_model": OTHER})
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    [(document, _rows)] = point_files(tmp_path / "escaped")
    assert document["served_model"] == OTHER and document["model"] == "acme/Tiny"


@pytest.mark.parametrize(
    ("given", "recorded", "expected"),
    [(None, None, "acme/Tiny"), (None, "b/Served", "b/Served"), ("c/Given", "b/Served", "c/Given")],
)
def test_the_expected_name_is_given_else_recorded_else_the_spec_s(
    given: str | None, recorded: str | None, expected: str
) -> None:
    runtime = dict(RUNTIME_SPEC) | ({"served_model": recorded} if recorded else {})
    assert expected_model(runtime, given) == expected


class Answers(BaseHTTPRequestHandler):
    status, body = 200, b"{}"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        del format, args


@pytest.fixture
def models_endpoint() -> Iterator[Callable[[int, bytes], str]]:
    """A server whose GET /v1/models answers (status, body) as told; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def answer(status: int, body: bytes) -> str:
        Answers.status, Answers.body = status, body
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield answer
    server.shutdown()


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (200, b'{"data": []}', "serves no model, not acme/Tiny"),
        (200, b'{"data": [{"id": "a"}, {"id": "b"}]}', "serves a, b, not acme/Tiny"),
        (404, b"{}", "does not say which model it serves (GET /v1/models: HTTP 404)"),
        (200, b"not json", "does not say which model it serves (GET /v1/models: "),
    ],
)
def test_no_evidence_of_the_model_is_never_a_pass(
    models_endpoint: Callable[[int, bytes], str], status: int, body: bytes, message: str
) -> None:
    with pytest.raises(ServedModelError, match=r"^the server at ") as raised:
        require_served_model(models_endpoint(status, body), {}, "acme/Tiny")
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_server_listing_several_models_serves_the_expected_one(
    models_endpoint: Callable[[int, bytes], str],
) -> None:
    url = models_endpoint(200, b'{"data": [{"id": "x/Other"}, {"id": "acme/Tiny"}]}')
    assert require_served_model(url, {}, "acme/Tiny") == "acme/Tiny"
