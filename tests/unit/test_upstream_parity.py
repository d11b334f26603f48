"""Where the registry must say what upstream tt-inference-server v0.20.0 says (issue 20): the
per-rank batch under data parallelism, the first-run ready wait, the host software requirements,
the performance references, and which specs are this runner's own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import CliResult
from workflows.registry.loader import load_registry
from workflows.registry.schema import RegistryError

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
