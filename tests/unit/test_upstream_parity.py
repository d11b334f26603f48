"""Where the registry must say what upstream tt-inference-server v0.20.0 says (issue 20): the
per-rank batch under data parallelism, the first-run ready wait, the host software requirements,
the performance references, and which specs are this runner's own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import CliResult, FakeVllm, pid_alive
from workflows.ready_wait import ready_wait
from workflows.registry.loader import load_registry
from workflows.registry.schema import RegistryError
from workflows.workflow_args import parse_workflow_args

DP_TEMPLATE = """
templates:
  - weights: [acme/Tiny-70B]
    impl: llama3_70b_galaxy
    inference_engine: vllm
    version: "1.2.3"
    tt_metal_commit: 0123456789abcdef
    vllm_commit: fedcba9876543210
    status: functional
    devices:
      - device: galaxy
        max_concurrency: {concurrency}
        max_context: 8192
        vllm_args: {vllm_args}
"""


def dp_registry(tmp_path: Path, concurrency: int, vllm_args: str) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir(exist_ok=True)
    text = DP_TEMPLATE.format(concurrency=concurrency, vllm_args=vllm_args)
    (folder / "dp.yaml").write_text(text)
    return folder


def command_args(printed: str) -> dict[str, str]:
    """`--flag value` pairs of a printed `docker run` (the last value of a repeated flag)."""
    words = printed.replace("\\\n", " ").split()
    return {
        word: words[i + 1]
        for i, word in enumerate(words[:-1])
        if word.startswith("--") and not words[i + 1].startswith("--")
    }


def test_galaxy_70b_gives_each_data_parallel_rank_a_quarter_of_the_batch() -> None:
    spec = load_registry().find("Llama-3.3-70B-Instruct", "galaxy")
    assert spec.max_concurrency == 32  # what the clients send, across the 4 ranks
    assert spec.data_parallel_size == 4
    assert spec.vllm_args["max_num_seqs"] == 8


def test_print_docker_cmd_for_galaxy_70b_shows_upstreams_vllm_arguments(
    run_cli: Callable[..., CliResult],
) -> None:
    result = run_cli(
        *("--model", "Llama-3.3-70B-Instruct", "--device", "galaxy", "--workflow", "server"),
        *("--docker-server", "--print-docker-cmd"),
    )
    assert result.code == 0, result.err
    args = command_args(result.out)
    assert args["--max-num-seqs"] == "8"
    assert args["--data-parallel-size"] == "4"
    assert args["--max-model-len"] == "131072"
    assert args["--max-num-batched-tokens"] == "131072"
    assert args["--block-size"] == "64"
    assert args["--max-log-len"] == "32"
    assert args["--seed"] == "9472"


def test_an_explicit_max_num_seqs_wins_over_the_per_rank_share(tmp_path: Path) -> None:
    registry = load_registry(dp_registry(tmp_path, 128, "{data_parallel_size: 4}"))
    assert registry.specs[0].vllm_args["max_num_seqs"] == 32
    registry = load_registry(dp_registry(tmp_path, 32, "{data_parallel_size: 4, max_num_seqs: 32}"))
    assert registry.specs[0].vllm_args["max_num_seqs"] == 32


@pytest.mark.parametrize(
    ("concurrency", "vllm_args", "message"),
    [
        (30, "{data_parallel_size: 4}", "30 does not split over data_parallel_size 4"),
        (32, "{data_parallel_size: 0}", "data_parallel_size must be a positive integer"),
        (32, "{data_parallel_size: four}", "data_parallel_size must be a positive integer"),
    ],
)
def test_a_data_parallel_size_that_cannot_split_the_batch_is_refused(
    tmp_path: Path, concurrency: int, vllm_args: str, message: str
) -> None:
    with pytest.raises(RegistryError, match=message):
        load_registry(dp_registry(tmp_path, concurrency, vllm_args))


@pytest.mark.parametrize(
    ("model", "device", "seconds"),
    [
        ("Llama-3.3-70B-Instruct", "t3k", 5400),
        ("Llama-3.3-70B-Instruct", "galaxy", 5400),
        ("DeepSeek-R1-Distill-Llama-70B", "galaxy", 5400),
        ("Qwen2.5-72B-Instruct", "t3k", 5400),
        ("Qwen2.5-72B-Instruct", "galaxy", 5400),
        ("Llama-3.1-8B-Instruct", "n150", 3600),
    ],
)
def test_a_first_start_waits_as_long_as_the_spec_says(
    model: str, device: str, seconds: int
) -> None:
    spec = load_registry().find(model, device)
    wait = ready_wait(spec, parse_workflow_args(""), started_by_runner=True)
    assert wait.seconds == seconds
    assert f"tensor_cache_timeout for {model} on {device}" in wait.describe()


def test_ready_timeout_overrides_the_spec_and_a_running_server_answers_at_once() -> None:
    spec = load_registry().find("Llama-3.3-70B-Instruct", "t3k")
    told = ready_wait(spec, parse_workflow_args("ready_timeout=60"), started_by_runner=True)
    assert (told.seconds, told.reason) == (60, "--workflow-args ready_timeout")
    running = ready_wait(spec, parse_workflow_args(""), started_by_runner=False)
    assert running.seconds == 30


def test_specs_without_a_tensor_cache_wait_the_engines_default() -> None:
    registry = load_registry()
    cpu = ready_wait(registry.find("SmolLM2-135M-Instruct", "cpu"), {}, started_by_runner=True)
    gpu = ready_wait(registry.find("Llama-3.1-8B-Instruct", "gpu"), {}, started_by_runner=True)
    assert cpu.describe() == "300s (the llama_cpp default)"
    assert gpu.describe() == "1200s (the vllm default)"


def test_the_timeout_message_names_the_specs_tensor_cache_timeout(
    run_cli: Callable[..., CliResult],
    tiny_registry: Path,
    fake_vllm: FakeVllm,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry = tiny_registry / "tiny.yaml"
    registry.write_text(
        registry.read_text().replace(
            "        max_context: 2048\n",
            "        max_context: 2048\n        tensor_cache_timeout: 1\n",
            1,
        )
    )
    monkeypatch.setenv("FAKE_VLLM_START_DELAY", "30")
    result = run_cli(
        *fake_vllm.args("--workflow", "server", "--model-specs-dir", str(tiny_registry))
    )
    assert result.code == 4
    assert "not ready after 1s" in result.err
    assert "the wait was the spec's tensor_cache_timeout for Tiny-1B-Instruct on n150" in result.err
    assert not pid_alive(int(str(fake_vllm.record()["pid"])))


def test_a_tensor_cache_timeout_must_be_positive(tmp_path: Path) -> None:
    folder = dp_registry(tmp_path, 32, "{data_parallel_size: 4}")
    path = folder / "dp.yaml"
    path.write_text(path.read_text() + "        tensor_cache_timeout: 0\n")
    with pytest.raises(RegistryError, match="field 'tensor_cache_timeout'"):
        load_registry(folder)
