"""Blackhole (p100, p150) carries the upstream prod catalogue's entry (issue 9, fault 10).

Expected values are those of tt-inference-server v0.20.0 (../shared/reference/upstream-runner.md,
registry section: "A second template for P100/P150 pins 0.18.0/c49bb76/6b4a3a7 and has status
EXPERIMENTAL"; limits, targets and waivers from its prod llm.yaml, release_model_spec.json and
model_performance_reference.json).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.helpers import CliResult
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import Device, ModelSpec, Status
from workflows.servers.local_vllm import tt_environment

Run = Callable[..., CliResult]

IMAGE = (
    "ghcr.io/tenstorrent/tt-inference-server/"
    "vllm-tt-metal-src-release-ubuntu-22.04-amd64:0.18.0-c49bb76-6b4a3a7"
)
# device -> (trace_region_size, ttft_ms, tput_user, tput); the targets are the base model's
# (Llama-3.1-8B), which upstream resolves for both repos
UPSTREAM = {"p100": (90_000_000, 57, 33, None), "p150": (900_000_000, 30, 37, None)}
P150_WAIVED_EVALS = {
    "ifeval",  # upstream's meta_ifeval is this runner's ifeval
    "meta_gpqa_cot",
    "longbench_fewshot_e",
    "longbench_summarization_e",
    "longbench_code_e",
}


def blackhole(model: str, device: str) -> ModelSpec:
    return load_registry().find(model, device)


@pytest.mark.parametrize("model", ["Llama-3.1-8B-Instruct", "Llama-3.1-8B"])
@pytest.mark.parametrize("device", ["p100", "p150"])
def test_llama_8b_on_blackhole_has_the_upstream_pins_and_limits(model: str, device: str) -> None:
    spec = blackhole(model, device)
    assert (spec.version, spec.tt_metal_commit, spec.vllm_commit) == (
        "0.18.0",
        "c49bb76",
        "6b4a3a7",
    )
    assert spec.docker_image == IMAGE and not spec.image_pinned
    assert spec.status is Status.EXPERIMENTAL
    assert (spec.max_concurrency, spec.max_context) == (32, 65536)
    assert spec.vllm_args["max_num_seqs"] == 32 and spec.vllm_args["max_model_len"] == 65536
    trace_region, ttft, tput_user, tput = UPSTREAM[device]
    assert spec.override_tt_config["trace_region_size"] == trace_region
    [target] = spec.perf_reference
    assert (target.isl, target.osl, target.concurrency, target.num_prompts) == (128, 128, 1, 8)
    assert (target.ttft_ms, target.tput_user, target.tput) == (ttft, tput_user, tput)


def test_p150_waives_the_upstream_eval_known_issues_and_p100_none() -> None:
    p150 = blackhole("Llama-3.1-8B-Instruct", "p150")
    assert {issue.task for issue in p150.known_issues} == P150_WAIVED_EVALS
    assert {issue.workflow for issue in p150.known_issues} == {"evals"}
    assert all("tt-inference-server#" in issue.reason for issue in p150.known_issues)
    assert blackhole("Llama-3.1-8B-Instruct", "p100").known_issues == ()


def test_blackhole_specs_run_with_the_blackhole_environment() -> None:
    for device in (Device.P100, Device.P150):
        env = tt_environment(blackhole("Llama-3.1-8B-Instruct", device.value), ())
        assert env["ARCH_NAME"] == "blackhole" and env["MESH_DEVICE"] == device.value.upper()
        assert "WH_ARCH_YAML" not in env


def test_wormhole_entries_keep_their_own_release() -> None:
    assert blackhole("Llama-3.1-8B-Instruct", "n150").version == "0.9.0"


def test_list_models_shows_llama_8b_on_p100_and_p150(run_cli: Run) -> None:
    table = run_cli("--list-models")
    assert table.code == 0, table.err
    rows = [line for line in table.out.splitlines() if "0.18.0-c49bb76-6b4a3a7" in line]
    for device in ("p100", "p150"):
        assert any("Llama-3.1-8B-Instruct" in r and f" {device} " in r for r in rows), device
    listed = run_cli("--list-models", "--json")
    ids = {spec["model_id"] for spec in json.loads(listed.out)["model_specs"]}
    for device in ("p100", "p150"):
        assert f"id_tt-transformers_Llama-3.1-8B-Instruct_{device}" in ids
        assert f"id_tt-transformers_Llama-3.1-8B_{device}" in ids
