"""The benchmarks workflow end to end: a smoke sweep on the real CPU server, and client-side
mode against a server that already runs (the emulator, and the real one)."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    REPO_ROOT,
    VLLM_FIELDS,
    RunningServer,
    benchmarking_process,
    free_port,
    point_files,
    result_files,
    run_ok,
    servers_on,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3600)]
CPU_SERVED = {"served_model": "HuggingFaceTB/SmolLM2-135M-Instruct"}  # not the test spec's model


@pytest.fixture
def emulator_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarking.emulator",
            "--port",
            str(port),
            "--ttft-ms",
            "30",
            "--itl-ms",
            "3",
            "--model",
            "HuggingFaceTB/SmolLM2-135M-Instruct",
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and "listening" in process.stdout.readline()
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def test_smoke_sweep_on_the_real_cpu_server(tmp_path: Path, cpu_server: RunningServer) -> None:
    port = free_port()
    folder, output = run_ok(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "benchmarks",
        "--local-server",
        "--service-port",
        str(port),
        "--workflow-args",
        "smoke=true",
        logs=tmp_path,
        timeout=1800,
    )
    assert "benchmarks" in output and "TTFT" in output
    documents = result_files(folder)
    assert [d["concurrency"] for d in documents] == [1, 8]
    for document in documents:
        assert all(field in document for field in VLLM_FIELDS)
        assert document["failed"] == 0 and document["completed"] == document["num_prompts"]
        assert document["model_id"] == "id_llama-cpp_SmolLM2-135M-Instruct_cpu"
        assert (
            document["total_output_tokens"]
            == document["total_server_output_tokens"]
            == 16 * document["num_prompts"]
        )
        assert 0 < document["mean_ttft_ms"] < 60_000
    assert servers_on(port) == [], "a benchmarks run stops the server it started"


def test_client_side_mode_against_a_running_server(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    folder, _output = run_ok(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "benchmarks",
        "--server-url",
        cpu_server.base_url,
        "--workflow-args",
        "isl=64 osl=8 concurrency=4 num_prompts=4 endpoint=completions rate=2 burstiness=inf",
        logs=tmp_path,
        env={"API_KEY": cpu_server.token},
        timeout=900,
    )
    [document] = result_files(folder)
    assert (document["isl"], document["osl"], document["concurrency"]) == (64, 8, 4)
    assert document["request_rate"] == 2, "a load shape on the real server: 2 requests a second"
    assert document["achieved_rate"] == pytest.approx(2, rel=0.15)
    assert document["total_input_tokens"] == 4 * 64, "prompts are exact in the model's tokens"
    assert document["tokenizer"] == "gguf", "the tokenizer is read from the GGUF, not the server"
    assert document["completed"] == 4
    assert servers_on(cpu_server.port) == [cpu_server.pid], "client mode stops nothing"


def test_client_side_mode_against_the_emulator(tmp_path: Path, emulator_url: str) -> None:
    folder, _output = run_ok(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "benchmarks",
        "--server-url",
        emulator_url,
        "--workflow-args",
        "isl=32 osl=16 concurrency=4 num_prompts=16",
        logs=tmp_path,
        timeout=900,
    )
    [document] = result_files(folder)
    assert document["completed"] == 16
    with urllib.request.urlopen(f"{emulator_url}/emulator/records") as reply:
        truth = {r["request_id"]: r for r in json.loads(reply.read())}
    [rows_file] = (folder / "benchmarks").glob("*_requests.jsonl")
    tag = rows_file.name.removeprefix("benchmark_").removesuffix("_requests.jsonl")
    ttft_errors, itl_errors = [], []
    for line in rows_file.read_text().splitlines():
        row = json.loads(line)
        sent = truth[f"{tag}-{row['index']}"]
        ttft_errors.append(abs(row["ttft_ms"] - (sent["chunk_ns"][0] - row["sent_ns"]) / 1e6))
        wire_itl = (sent["chunk_ns"][-1] - sent["chunk_ns"][0]) / 1e6 / 15
        itl_errors.append(abs(statistics.fmean(row["itl_ms"]) - wire_itl) / wire_itl)
    assert statistics.median(ttft_errors) < 2.0, "TTFT is what went on the wire"
    assert statistics.median(itl_errors) < 0.05


def test_a_second_run_against_the_same_server_sends_fresh_prompts(
    tmp_path: Path, emulator_url: str
) -> None:
    """Each run draws its own seed (recorded): a release measured again against a server that
    keeps its prompt cache is not answered from it. The same seed, given, is."""

    def bench(name: str, extra: str = "") -> dict[str, object]:
        folder, _output = run_ok(
            "--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks",
            "--server-url", emulator_url, "--workflow-args",
            f"isl=48 osl=4 concurrency=2 num_prompts=4 {extra}", logs=tmp_path / name,
            timeout=900,
        )  # fmt: skip
        [document] = result_files(folder)
        recorded = json.loads((folder / "runtime_spec.json").read_text())
        assert recorded["run_config"]["workflow_args"]["seed"] == document["seed"]
        return document

    first, second = bench("first"), bench("second")
    assert first["seed"] != second["seed"]
    assert (first["cached_share"], second["cached_share"]) == (0.0, 0.0)
    again = bench("again", f"seed={first['seed']}")
    assert again["cached_share"] == 1.0 and again["prompt_cache_hit"] is True


def test_stress_endurance_against_the_emulator_records_drift(
    tmp_path: Path, emulator_url: str
) -> None:
    folder, _output = run_ok(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "stress_tests",
        "--server-url",
        emulator_url,
        "--workflow-args",
        "duration=2 isl=64 osl=16 concurrency=2",
        logs=tmp_path,
        timeout=900,
    )
    folder = folder / "stress_tests"
    endurance = json.loads((folder / "stress_endurance.json").read_text())
    windows = endurance["windows"]
    elapsed = [window["elapsed_s"] for window in windows]  # as many as this machine fits in 2 s
    assert all(e < 2 for e in elapsed[:-1]) and elapsed[-1] >= 2, elapsed
    assert endurance["failed"] == 0 and isinstance(endurance["ttft_drift"], float)
    assert len(list(folder.glob("stress_test_*_window-*[0-9].json"))) == len(windows)


def test_stress_single_point_on_the_real_cpu_server(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    port = free_port()
    folder, _output = run_ok(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "stress_tests",
        "--local-server",
        "--service-port",
        str(port),
        "--workflow-args",
        "run_mode=single isl=200 osl=16 concurrency=2",
        logs=tmp_path,
        timeout=1800,
    )
    [document] = [
        json.loads(p.read_text()) for p in (folder / "stress_tests").glob("stress_test_*[0-9].json")
    ]
    assert (document["kind"], document["isl"], document["completed"]) == ("stress_test", 200, 2)
    assert servers_on(port) == []


def test_sharegpt_from_the_packaged_file(tmp_path: Path, emulator_url: str) -> None:
    folder, _output = run_ok(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "benchmarks",
        "--server-url",
        emulator_url,
        "--workflow-args",
        "dataset=sharegpt concurrency=4 num_prompts=8 osl=8",
        logs=tmp_path,
        timeout=900,
    )
    [document] = result_files(folder)
    assert document["dataset"] == "sharegpt" and document["completed"] == 8
    assert 4 <= document["isl"] <= 1024 and document["osl"] == 8


def test_the_real_server_reports_its_prompt_cache(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """llama.cpp reports the prompt tokens it took from its cache: the same point sent twice (the
    same seed: each run would draw its own) is answered from it the second time, and that run
    says so. A two-turn conversation's second turn finds the first one's prompt there too."""
    args = {"isl": 96, "osl": 4, "concurrency": 2, "num_prompts": 4, "endpoint": "completions"}
    args |= {"seed": 1807}  # a seed no other test sends, so the first run finds nothing cached
    args |= CPU_SERVED
    outputs = []
    for name in ("first", "again"):
        process = benchmarking_process(
            cpu_server.base_url, tmp_path / name, args, api_key=cpu_server.token
        )
        output, _ = process.communicate(timeout=600)
        assert process.returncode == 0, output
        outputs.append(output)
    [(first, rows)] = point_files(tmp_path / "first")
    [(again, _rows)] = point_files(tmp_path / "again")
    assert all(isinstance(row["cached_tokens"], int) for row in rows), "reported per request"
    assert (first["prompt_cache_hit"], again["prompt_cache_hit"]) == (False, True)
    assert again["cached_share"] > 0.9
    assert "came from the server's prompt cache" in outputs[1]
    assert "prompt cache" not in outputs[0]
    talk = tmp_path / "talk.jsonl"
    talk.write_text(json.dumps(["Name three colours of the sea.", "Now three of the sky."]) + "\n")
    args = CPU_SERVED | {"dataset": "conversations", "dataset_path": str(talk), "osl": 4}
    process = benchmarking_process(
        cpu_server.base_url, tmp_path / "talk", args | {"concurrency": 1}, api_key=cpu_server.token
    )
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0, output
    [(talked, turns)] = point_files(tmp_path / "talk")
    assert [(t["turn"], t["success"]) for t in turns] == [(1, True), (2, True)]
    assert turns[1]["prompt_tokens"] > turns[0]["prompt_tokens"] + 4, "turn 2 carries turn 1"
    assert turns[1]["cached_tokens"] >= turns[0]["server_prompt_tokens"], "turn 1 was cached"
    assert talked["conversations"]["by_turn"][1]["cached_share"] > 0.5


def test_endurance_windows_on_the_real_server_measure_prefill(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """Each window sends fresh prompts: none is answered from the prompt cache (the chat
    template's system prompt aside), so TTFT stays a prefill's, window after window."""
    args = {"run_mode": "single", "isl": 256, "osl": 4, "concurrency": 2, "duration": 15}
    args |= CPU_SERVED
    process = benchmarking_process(
        cpu_server.base_url, tmp_path / "out", args, "stress_tests", cpu_server.token
    )
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output
    endurance = json.loads((tmp_path / "out" / "stress_endurance.json").read_text())
    windows = endurance["windows"]
    assert len(windows) >= 2 and endurance["prompt_cache_hit"] is False
    assert all(w["cached_share"] < 0.1 for w in windows), windows
    ttft = [w["mean_ttft_ms"] for w in windows]
    assert min(ttft) > 0.3 * max(ttft), f"no window answered from the cache: {ttft}"


def test_prefix_cache_on_the_real_server_cuts_ttft(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """llama.cpp's prompt cache serves the shared prefix: its per-request `timings.cache_n`
    is recorded, and TTFT drops against the same lengths with no shared prefix."""
    folder, output = run_ok(
        "--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks",
        "--server-url", cpu_server.base_url, "--workflow-args",
        "isl=256 osl=8 concurrency=1 num_prompts=4 prefix_cache=shared",
        logs=tmp_path, timeout=900, env={"API_KEY": cpu_server.token},
    )  # fmt: skip
    stem = "benchmark_isl-256_osl-8_maxcon-1_n-4_prefix"
    none = json.loads((folder / "benchmarks" / f"{stem}-none.json").read_text())
    shared = json.loads((folder / "benchmarks" / f"{stem}-shared.json").read_text())
    assert shared["prefix_cache"]["shared_prefix_tokens"] == 192
    assert shared["cached_share"] > 0.5 and none["cached_share"] < 0.2
    assert shared["mean_ttft_ms"] < 0.8 * none["mean_ttft_ms"]
    assert "prefix cache, ISL 256 OSL 8 C 1: TTFT" in output
