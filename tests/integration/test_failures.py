"""What a user meets when things die: the server under a benchmark, or the runner itself."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tests.helpers import (
    CPU_MODEL,
    RunningServer,
    free_port,
    processes_mentioning,
    read_until,
    runner,
    servers_on,
    shown_log_tail,
    start_emulator,
    wait_for,
)

pytestmark = pytest.mark.integration
LOAD = "concurrency=1,4 num_prompts=8 isl=64 osl=128 ignore_eos=true"


def benchmark_run(port: int) -> list[str]:
    return [
        *CPU_MODEL,
        "--workflow",
        "benchmarks",
        "--local-server",
        "--service-port",
        str(port),
        "--disable-trace-capture",
        "--workflow-args",
        LOAD,
    ]


def test_server_killed_mid_benchmark_ends_the_run_with_its_status(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """It used to print the failed requests and `exit 0 (ok)`."""
    port = free_port()
    process = runner(*benchmark_run(port), logs=tmp_path)
    try:
        read_until(process, "server ready", timeout=300)
        results = str((tmp_path / "latest").resolve() / "benchmarks")
        # mid benchmark: the load generator runs (how far it got depends on the machine's load)
        assert wait_for(lambda: processes_mentioning(results) != [], 120), "no load generator"
        [server] = servers_on(port)
        os.kill(server, signal.SIGKILL)
        output, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 4, output
    assert "the server exited with signal SIGKILL during the benchmarks workflow" in output
    assert "exit 4 (server)" in output and "Traceback" not in output
    tail = shown_log_tail(output)
    server_log = (tmp_path / "latest" / "server.log").read_text()
    assert tail and all(line in server_log for line in tail), "the server log's tail is shown"
    assert processes_mentioning(str(tmp_path / "latest" / "benchmarks")) == []


def test_runner_killed_outright_mid_benchmark_leaves_nothing(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """SIGKILL (a CI timeout, the OOM killer): the server and the load generator go with it."""
    port = free_port()
    process = runner(*benchmark_run(port), logs=tmp_path)
    try:
        read_until(process, "server ready", timeout=300)
        results = str((tmp_path / "latest").resolve() / "benchmarks")
        assert wait_for(lambda: processes_mentioning(results) != [], 60), "no load generator"
        assert servers_on(port)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        process.kill()
    assert wait_for(lambda: servers_on(port) == [], 30), "llama-server outlived the runner"
    assert wait_for(lambda: processes_mentioning(results) == [], 30), "the generator outlived it"


FAILING_LOAD = {
    "benchmarks": "isl=32 osl=16 concurrency=2 num_prompts=8 warmups=0",
    "stress_tests": "run_mode=single isl=32 osl=16 concurrency=2 num_prompts=8 warmups=0",
}


def runs_against(
    url: str, workflow: str, variants: dict[str, str], logs: Path
) -> dict[str, tuple[int, str]]:
    """`run.py` once per variant (extra workflow arguments) against one server: name -> (exit
    code, output), each in a logs folder of its own."""
    outcomes = {}
    for name, extra in variants.items():
        process = runner(
            *CPU_MODEL, "--workflow", workflow, "--server-url", url, "--disable-trace-capture",
            "--workflow-args", FAILING_LOAD[workflow] + extra, logs=logs / name,
        )  # fmt: skip
        output, _ = process.communicate(timeout=300)
        outcomes[name] = (process.returncode, output)
    return outcomes


@pytest.mark.parametrize("workflow", sorted(FAILING_LOAD))
def test_failed_requests_fail_the_run_unless_allowed(tmp_path: Path, workflow: str) -> None:
    """A server that answers one request in four with HTTP 500 (it stays up): the runner used to
    print `exit 0 (ok)`. Failed requests are data and fail the run, unless max_failed allows."""
    emulator, url = start_emulator(
        "--model", "HuggingFaceTB/SmolLM2-135M-Instruct", "--ttft-ms", "5", "--itl-ms", "1",
        "--fail-every", "4",
    )  # fmt: skip
    try:
        variants = {"strict": "", "allowed": " max_failed=0.5"}
        outcomes = runs_against(url, workflow, variants, tmp_path)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    code, output = outcomes["strict"]
    assert code == 1, output
    assert "2 of 8 requests failed" in output and "HTTP 500" in output
    assert "exit 1 (workflow_failed)" in output
    code, output = outcomes["allowed"]
    assert code == 0, output
    assert "2 of 8 requests failed" in output


def test_a_server_of_another_model_stops_the_run_before_any_request(tmp_path: Path) -> None:
    """The model name used to fall back to the first one /v1/models lists: a server of another
    model was benchmarked as the spec's. Now the run stops with one line naming both (exit 4),
    before the workflow; `served_model=` lets it through under the server's name."""
    other = "meta-llama/Llama-3.1-70B-Instruct"
    emulator, url = start_emulator("--model", other, "--ttft-ms", "5", "--itl-ms", "1")
    try:
        variants = {"refused": "", "escaped": f" served_model={other}"}
        outcomes = runs_against(url, "benchmarks", variants, tmp_path)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    code, output = outcomes["refused"]
    assert code == 4, output
    [error] = [line for line in output.splitlines() if line.startswith("error:")]
    assert f"serves {other}, not HuggingFaceTB/SmolLM2-135M-Instruct" in error
    assert "exit 4 (server)" in output and "Traceback" not in output
    assert not list((tmp_path / "refused" / "latest").glob("benchmarks/*.json"))
    code, output = outcomes["escaped"]
    assert code == 0, output
    [point] = (tmp_path / "escaped" / "latest").glob("benchmarks/benchmark_*[0-9].json")
    assert json.loads(point.read_text())["served_model"] == other


def test_a_server_that_answers_as_another_model_fails_the_run(tmp_path: Path) -> None:
    """A server, or a proxy before it, that lists the spec's model in /v1/models and answers as
    another used to pass: only /v1/models was asked. The spec tests' response_model check fails
    naming both, and every benchmark request answered as another model is a failed one."""
    spec_model, other = "HuggingFaceTB/SmolLM2-135M-Instruct", "other/model"
    emulator, url = start_emulator(
        "--model", spec_model, "--ttft-ms", "5", "--itl-ms", "1", "--answer-as", other
    )  # fmt: skip
    try:
        suite = runner(
            *CPU_MODEL, "--workflow", "spec_tests", "--server-url", url, "--disable-trace-capture",
            "--workflow-args", "only=models_list,response_model", logs=tmp_path / "spec",
        )  # fmt: skip
        suite_output, _ = suite.communicate(timeout=300)
        outcomes = runs_against(url, "benchmarks", {"bench": ""}, tmp_path)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    assert suite.returncode == 1, suite_output
    [document] = (tmp_path / "spec" / "latest").glob("spec_tests/spec_tests.json")
    statuses = {
        c["name"]: (c["status"], c["message"]) for c in json.loads(document.read_text())["checks"]
    }
    assert statuses["models_list"][0] == "PASS"
    status, message = statuses["response_model"]
    assert status == "FAIL" and f"lists '{spec_model}' but answered as '{other}'" in message
    code, output = outcomes["bench"]
    assert code == 1, output
    assert "8 of 8 requests failed" in output
    assert f"answered as {other}, not {spec_model}" in output


@pytest.mark.parametrize("reply", ["empty-json", "bad-length"])
def test_a_server_that_answers_streams_without_one_fails_the_run(
    tmp_path: Path, reply: str
) -> None:
    """HTTP 200 with `{}`, or a head with `Content-Length: abc`, used to give `Failed 0` and a
    throughput made of one invented token per empty reply (the bad head with tracebacks)."""
    emulator, url = start_emulator(
        "--model", "HuggingFaceTB/SmolLM2-135M-Instruct", "--stream-reply", reply
    )
    try:
        process = runner(
            *CPU_MODEL, "--workflow", "benchmarks", "--server-url", url,
            "--disable-trace-capture", "--workflow-args", FAILING_LOAD["benchmarks"],
            logs=tmp_path,
        )  # fmt: skip
        output, _ = process.communicate(timeout=300)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    assert process.returncode == 1, output
    assert "8 of 8 requests failed" in output and "exit 1 (workflow_failed)" in output
    assert "Traceback" not in output and "Fatal error" not in output, output
    [point] = (tmp_path / "latest").glob("benchmarks/benchmark_*[0-9].json")
    document = json.loads(point.read_text())
    assert (document["completed"], document["total_output_tokens"]) == (0, 0)
    assert document["total_client_output_tokens"] == 0


ECHOED_KEY = "sk-SECRETKEY12345"


def files_holding(text: str, folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_a_key_the_server_echoes_reaches_no_console_line_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that answers 401 quoting `Bearer <key>`: the console printed the key (trace
    capture's error), and without trace capture it landed in the result files and the report."""
    monkeypatch.setenv("EMULATOR_API_KEY", ECHOED_KEY)
    monkeypatch.setenv("API_KEY", ECHOED_KEY)
    emulator, url = start_emulator(
        "--model", "HuggingFaceTB/SmolLM2-135M-Instruct", "--echo-auth-in-errors"
    )
    variants = {"traced": [], "untraced": ["--disable-trace-capture"]}
    outputs = {}
    try:
        for name, flags in variants.items():
            process = runner(
                *CPU_MODEL, "--workflow", "benchmarks", "--server-url", url, *flags,
                "--workflow-args", FAILING_LOAD["benchmarks"], logs=tmp_path / name,
            )  # fmt: skip
            outputs[name], _ = process.communicate(timeout=300)
            assert process.returncode == 1, outputs[name]
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    untraced = (tmp_path / "untraced" / "latest").resolve()
    report = runner("--workflow", "reports", "--run-dir", str(untraced), logs=tmp_path / "report")
    outputs["report"], _ = report.communicate(timeout=300)
    assert "trace capture at 128 tokens got HTTP 401" in outputs["traced"]
    assert "8 of 8 requests failed" in outputs["untraced"] and "Bearer ***" in outputs["untraced"]
    assert list(untraced.glob("report/junit.xml")) and list(untraced.glob("benchmarks/*.jsonl"))
    for name, output in outputs.items():
        assert ECHOED_KEY not in output, name
    assert files_holding(ECHOED_KEY, tmp_path) == []
    assert "Bearer ***" in (untraced / "report" / "report.md").read_text()
