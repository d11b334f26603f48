"""Where the registry must say what upstream tt-inference-server v0.20.0 says (issue 20): the
per-rank batch under data parallelism, the first-run ready wait, the host software requirements,
the performance references, and which specs are this runner's own."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import CliResult, FakeVllm, config_for, pid_alive
from workflows.host import tt_smi
from workflows.host.system_software import skip_reason
from workflows.ready_wait import ready_wait
from workflows.registry.image_reference import reference_problem
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import Device, ModelSpec
from workflows.registry.schema import RegistryError
from workflows.run_config import RunConfig
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


def requirements(model: str, device: str) -> dict[str, tuple[str, str]]:
    spec = load_registry().find(model, device)
    return {key: (req["specifier"], req["mode"]) for key, req in spec.system_requirements.items()}


def host(firmware: str, kmd: str) -> tt_smi.HostSoftware:
    return tt_smi.HostSoftware(("n300 L", "n300 R"), (firmware,) * 2, kmd, "3.0.39")


def test_the_70b_templates_carry_upstreams_firmware_and_kmd_requirements() -> None:
    suggested = {"firmware": (">=18.8.0", "SUGGESTED"), "kmd": (">=2.2.0", "SUGGESTED")}
    strict = {"firmware": (">=18.6.0", "STRICT"), "kmd": (">=2.1.0", "STRICT")}
    for model in ("Llama-3.3-70B-Instruct", "DeepSeek-R1-Distill-Llama-70B"):
        assert requirements(model, "t3k") == suggested
        assert requirements(model, "galaxy") == strict


def test_specs_upstream_states_no_requirements_for_do_not_check_the_host() -> None:
    registry = load_registry()
    for model, device in [
        ("Llama-3.1-8B-Instruct", "n150"),
        ("Llama-3.1-8B-Instruct", "t3k"),
        ("Llama-3.2-3B-Instruct", "n300"),
        ("Mistral-7B-Instruct-v0.3", "n150"),
        ("Qwen2.5-72B-Instruct", "galaxy"),
        ("QwQ-32B", "t3k"),
    ]:
        spec = registry.find(model, device)
        config = RunConfig(model=model, device=device, workflow="server", docker_server=True)
        assert skip_reason(spec, config) == "the spec states no system requirements", spec.model_id


def findings(spec: ModelSpec, found: tt_smi.HostSoftware) -> list[tuple[bool, str]]:
    return [(f.strict, f.message) for f in tt_smi.check_software(spec.system_requirements, found)]


def test_an_older_host_is_warned_on_t3k_and_refused_on_galaxy_for_the_70b() -> None:
    registry = load_registry()
    t3k = registry.find("Llama-3.3-70B-Instruct", "t3k")
    galaxy = registry.find("Llama-3.3-70B-Instruct", "galaxy")
    older = host("18.7.0.0", "2.1.0")
    assert [strict for strict, _ in findings(t3k, older)] == [False, False]
    assert findings(galaxy, older) == []
    oldest = host("18.5.0.0", "2.0.0")
    assert [strict for strict, _ in findings(galaxy, oldest)] == [True, True]


def test_a_device_entrys_requirements_replace_the_templates_as_a_whole(tmp_path: Path) -> None:
    folder = dp_registry(tmp_path, 32, "{data_parallel_size: 4}")
    path = folder / "dp.yaml"
    text = path.read_text().replace(
        "    status: functional\n",
        "    status: functional\n"
        "    system_requirements:\n"
        '      firmware: {specifier: ">=18.6.0", mode: STRICT}\n'
        '      kmd: {specifier: ">=2.1.0", mode: STRICT}\n',
    )
    text += '        system_requirements: {kmd: {specifier: ">=2.4.1", mode: SUGGESTED}}\n'
    path.write_text(text)
    [spec] = load_registry(folder).specs
    assert dict(spec.system_requirements) == {"kmd": {"specifier": ">=2.4.1", "mode": "SUGGESTED"}}


def test_only_the_gpu_and_cpu_specs_are_ours() -> None:
    ours = {(s.model_name, s.device.value) for s in load_registry().specs if s.ours_only}
    assert ours == {
        ("Llama-3.1-8B", "gpu"),
        ("Llama-3.1-8B-Instruct", "gpu"),
        ("SmolLM2-135M-Instruct", "cpu"),
    }


def test_list_models_says_which_specs_are_ours_only(run_cli: Callable[..., CliResult]) -> None:
    table = run_cli("--list-models").out
    gpu_row = next(
        line for line in table.splitlines() if "Llama-3.1-8B-Instruct " in line and " gpu " in line
    )
    n150_row = next(
        line for line in table.splitlines() if "Llama-3.1-8B-Instruct " in line and " n150 " in line
    )
    assert " ours " in gpu_row and " upstream " in n150_row
    assert "tt-inference-server v0.20.0" in table
    listed = json.loads(run_cli("--list-models", "--json").out)["model_specs"]
    reasons = {spec["model_id"]: spec["ours_only"] for spec in listed}
    assert "upstream serves no GPU spec" in reasons["id_vllm_Llama-3.1-8B-Instruct_gpu"]
    assert reasons["id_tt-transformers_Llama-3.1-8B-Instruct_n150"] is None


@pytest.mark.parametrize(
    "reference",
    [
        "vllm/vllm-openai:v0.13.0",
        "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64:0.9.0-25305db-6e67d2d",
        "localhost:5000/team/image:1.2",
        "registry.example.com/a__b/c-d.e@sha256:" + "0" * 64,
    ],
)
def test_image_references_docker_accepts_are_accepted(reference: str) -> None:
    assert reference_problem(reference) is None


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("vllm/vllm-openai", "pins nothing"),
        ("vllm/vllm-openai:latest", "pins nothing"),
        ("vllm/VLLM-openai:v0.13.0", "not a Docker image reference"),
        ("vllm/vllm openai:v0.13.0", "not a Docker image reference"),
        ("vllm/vllm-openai:-bad", "not a Docker image reference"),
        ("vllm//vllm-openai:v1", "not a Docker image reference"),
        ("vllm/vllm-openai:" + "1" * 129, "not a Docker image reference"),
        ("a/" + "b" * 260 + ":1", "longer than 255"),
    ],
)
def test_image_references_docker_refuses_are_refused(reference: str, problem: str) -> None:
    assert problem in (reference_problem(reference) or "")


def test_a_pinned_image_that_is_no_docker_reference_names_the_field(tmp_path: Path) -> None:
    folder = dp_registry(tmp_path, 32, "{data_parallel_size: 4}")
    path = folder / "dp.yaml"
    path.write_text(path.read_text() + "        docker_image: Acme/Image:1\n")
    with pytest.raises(RegistryError, match="devices\\[0\\]: field 'docker_image': 'Acme/Image:1'"):
        load_registry(folder)


def perf(model: str, device: str) -> list[tuple[object, ...]]:
    spec = load_registry().find(model, device)
    return [
        (p.concurrency, p.num_prompts, p.ttft_ms, p.tput_user, p.tput) for p in spec.perf_reference
    ]


def test_every_repo_of_a_template_is_held_to_its_base_models_reference() -> None:
    """Upstream resolves perf_reference from the first weights repo: Llama-3.1-8B-Instruct on
    n150 is held to Llama-3.1-8B's 89 ms / 21 tok/s/user, not its own row's 51 ms."""
    assert perf("Llama-3.1-8B-Instruct", "n150") == [(1, 8, 89, 21, None)]
    assert perf("Llama-3.1-8B", "n150") == perf("Llama-3.1-8B-Instruct", "n150")
    assert perf("Llama-3.2-1B-Instruct", "n300") == [(1, 8, 6, 183, None)]
    assert perf("Qwen2.5-7B-Instruct", "n300") == [(1, 8, 16, 66, None)]


def test_upstreams_rows_at_higher_concurrency_are_carried() -> None:
    assert perf("Llama-3.1-8B-Instruct", "t3k")[1] == (8, 256, 1088, 66.82, None)
    assert perf("Qwen2.5-72B-Instruct", "t3k")[1] == (32, 64, 3872, 20, 640)
    assert perf("Qwen2.5-72B-Instruct", "galaxy")[1] == (32, 64, 13, 82, 2624)


def test_a_data_parallel_spec_is_held_to_one_ranks_reference() -> None:
    """Llama-3.3-70B on galaxy runs 4 t3k-sized ranks: upstream holds it to the t3k rows."""
    assert perf("Llama-3.3-70B-Instruct", "galaxy") == perf("Llama-3.3-70B-Instruct", "t3k")
    assert perf("Llama-3.3-70B-Instruct", "galaxy") == [(1, 8, 38, 28, None)]


@pytest.mark.parametrize(
    ("boards", "device"),
    [
        (["n150 L"] * 4, "n150x4"),
        (["p150a"] * 4, "p150x4"),
        (["p150b"] * 8, "p150x8"),
        (["p300a L", "p300a R"], "p300"),
        (["p300a L", "p300a R"] * 2, "p300x2"),
    ],
)
def test_tt_smi_boards_name_upstreams_multi_card_devices(boards: list[str], device: str) -> None:
    supported = [d.value for d in Device]
    assert tt_smi.pick_device(boards, supported, "M")[0] == device


def test_a_galaxy_host_is_a_galaxy_unless_one_tray_is_asked_for() -> None:
    supported = ["galaxy", "galaxy_t3k"]
    assert tt_smi.pick_device(["tt-galaxy-wh L"] * 32, supported, "M")[0] == "galaxy"


def galaxy_tray(run_cli: Callable[..., CliResult], *extra: str) -> CliResult:
    return run_cli(
        *("--model", "Qwen3-8B", "--device", "galaxy_t3k", "--workflow", "server"),
        *("--docker-server", "--print-docker-cmd", *extra),
    )


def test_a_galaxy_tray_needs_the_ids_of_its_eight_chips(run_cli: Callable[..., CliResult]) -> None:
    for ids in ([], ["--device-id", "0,1,2,3"]):
        result = galaxy_tray(run_cli, *ids)
        assert result.code == 2
        assert "--device galaxy_t3k needs exactly 8 chips named with --device-id" in result.err
    result = galaxy_tray(run_cli, "--device-id", "8,9,10,11,12,13,14,15")
    assert result.code == 0, result.err
    assert result.out.count("--device /dev/tenstorrent/") == 8
    assert "--env MESH_DEVICE=T3K" in result.out
    assert "--env WH_ARCH_YAML=wormhole_b0_80_arch_eth_dispatch.yaml" in result.out


def test_multi_card_blackhole_devices_run_upstreams_mesh() -> None:
    env = config_for("Llama-3.3-70B-Instruct", "p150x4").environment
    assert (env["MESH_DEVICE"], env["ARCH_NAME"]) == ("P150x4", "blackhole")
    env = config_for("Qwen3-32B", "p300x2").environment
    assert (env["MESH_DEVICE"], env["ARCH_NAME"]) == ("P300x2", "blackhole")


UPSTREAM_LLMS = {
    "Llama-3.1-8B-Instruct": {"galaxy", "galaxy_t3k", "p150x4", "p150x8", "p300", "p300x2"},
    "Llama-3.2-1B-Instruct": {"t3k"},
    "Llama-3.2-3B-Instruct": {"t3k"},
    "Llama-3.1-70B": {"t3k", "galaxy", "p150x4", "p150x8", "p300x2", "galaxy_t3k"},
    "Qwen3-8B": {"n150", "n300", "t3k", "galaxy", "galaxy_t3k", "p300"},
    "Qwen3-32B": {"t3k", "galaxy", "galaxy_t3k", "p150x8", "p300x2"},
    "gpt-oss-20b": {"t3k", "galaxy", "galaxy_t3k"},
    "gpt-oss-120b": {"t3k", "galaxy", "p300x2"},
    "DeepSeek-R1-0528": {"galaxy"},
    "gemma-3-1b-it": {"n150"},
    "AFM-4.5B": {"n300", "t3k"},
    "Qwen2.5-Coder-32B-Instruct": {"t3k", "galaxy_t3k"},
    "Qwen2.5-7B-Instruct": {"n150x4"},
    "gemma-4-31B-it": {"p300x2"},
    "Qwen3.6-27B": {"p300x2", "p150x8"},
}


def test_upstreams_llm_specs_on_the_devices_it_names_are_here() -> None:
    registry = load_registry()
    for model, devices in UPSTREAM_LLMS.items():
        found = {spec.device.value for spec in registry.specs if spec.model_name == model}
        assert devices <= found, f"{model}: missing {devices - found}"


def test_qwen3_32b_on_galaxy_defaults_to_the_galaxy_implementation() -> None:
    registry = load_registry()
    assert registry.find("Qwen3-32B", "galaxy").impl == "qwen3_32b_galaxy"
    other = registry.find("Qwen3-32B", "galaxy", impl="tt_transformers")
    assert other.vllm_args["max_num_seqs"] == 32 and other.data_parallel_size == 4


def test_help_names_every_device(run_cli: Callable[..., CliResult]) -> None:
    text = " ".join(run_cli("--help").out.split())
    for device in Device:
        assert f" {device.value}," in text or f" {device.value} (" in text, device.value


def test_every_image_the_registry_names_is_a_pinned_docker_reference() -> None:
    problems = {s.model_id: reference_problem(s.docker_image) for s in load_registry().specs}
    assert {model_id: p for model_id, p in problems.items() if p} == {}
