"""`--workflow-args tool=aiperf|guidellm`: the real tools, in their own environments, run the
smoke sweep against the emulator through run.py, and their results land in our schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, VLLM_FIELDS, free_port, result_files, run_ok
from workflows.envs.venvs import ensure_venv
from workflows.registry.loader import load_registry
from workflows.servers import llama_cpp

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]
KEY = "emulator-key-123"
EMULATOR_TTFT_MS = 30
# A peer tool times each request on its own clock, between points of its own choosing (when it
# counts a request as sent, when it reads the first token), not the wire's: GuideLLM once timed
# a TTFT at 29.81 ms against this emulator's 30 ms. One request's figure may fall this far short;
# the means stay held to the emulator's TTFT, and our own generator is held to the wire.
PEER_TOOL_TTFT_TOLERANCE_MS = 2.0


@pytest.fixture
def keyed_emulator() -> Iterator[str]:
    """The emulator (TTFT 30 ms, ITL 3 ms), answering only requests that carry KEY."""
    port = free_port()
    argv = [sys.executable, "-m", "benchmarking.emulator", "--port", str(port)]
    timing = ["--ttft-ms", str(EMULATOR_TTFT_MS), "--itl-ms", "3"]
    model = ["--model", "HuggingFaceTB/SmolLM2-135M-Instruct", *timing]
    process = subprocess.Popen(
        [*argv, *model],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, EMULATOR_API_KEY=KEY),
    )
    assert process.stdout is not None and "listening" in process.stdout.readline()
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def packaged_gguf(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The CPU model's environment, which holds its GGUF: the tokenizer the tools are given."""
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    log = tmp_path_factory.mktemp("venv") / "server-venv.log"
    ensure_venv(llama_cpp.server_venv(spec), log)


@pytest.mark.parametrize("tool", ["aiperf", "guidellm"])
def test_tool_measures_a_point_against_the_emulator(
    tmp_path: Path, keyed_emulator: str, packaged_gguf: None, tool: str
) -> None:
    folder, output = run_ok(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "benchmarks",
        "--server-url",
        keyed_emulator,
        "--workflow-args",
        f"tool={tool} isl=32 osl=16 concurrency=4 num_prompts=8",
        logs=tmp_path,
        timeout=1500,
        env={"API_KEY": KEY},
    )
    assert f"benchmarks ({tool})" in output and "TTFT" in output
    documents = result_files(folder)
    assert [(d["concurrency"], d["num_prompts"]) for d in documents] == [(4, 8)]
    for document in documents:
        assert all(field in document for field in VLLM_FIELDS), document
        assert (document["tool"], document["tokenizer"], document["errors"]) == (tool, "gguf", [])
        assert document["completed"] == document["num_prompts"] and document["failed"] == 0
        assert document["total_output_tokens"] == 16 * document["num_prompts"]
        assert EMULATOR_TTFT_MS <= document["mean_ttft_ms"] < 1000, "answered after 30 ms"
        assert document["client_cpu_s"] > 0, "the tool's own CPU time is recorded"
        assert 0 < document["client_cpu_share"] <= 1
        stem = f"isl-{document['isl']}_osl-{document['osl']}_maxcon-{document['concurrency']}"
        [per_request] = (folder / "benchmarks").glob(f"benchmark_{stem}_n-*_requests.jsonl")
        rows = [json.loads(line) for line in per_request.read_text().splitlines()]
        assert len(rows) == document["num_prompts"] and all(row["success"] for row in rows)
        assert all(row["output_tokens"] == 16 for row in rows)
        shortest = EMULATOR_TTFT_MS - PEER_TOOL_TTFT_TOLERANCE_MS
        assert all(row["ttft_ms"] >= shortest for row in rows), [r["ttft_ms"] for r in rows]
    leaked = [p for p in folder.rglob("*") if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaked == [], "the user's key is not copied into the run folder (no api_token)"
