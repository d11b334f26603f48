"""The container each device gets, exactly, and `--print-docker-cmd` (no engine needed)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import RUN_ID, CliResult, config_for
from workflows.servers.docker_config import docker_run_command


def test_n150_container() -> None:
    cfg = config_for("Llama-3.1-8B-Instruct", "n150")
    assert cfg.image.endswith("vllm-tt-metal-src-release-ubuntu-22.04-amd64:0.9.0-25305db-6e67d2d")
    assert cfg.devices == ("/dev/tenstorrent:/dev/tenstorrent",)
    assert ("/dev/hugepages-1G", "/dev/hugepages-1G") in {(m.source, m.target) for m in cfg.mounts}
    assert cfg.ipc_host and not cfg.gpus
    assert (
        cfg.environment["MESH_DEVICE"] == "N150" and cfg.environment["ARCH_NAME"] == "wormhole_b0"
    )
    assert cfg.environment["TT_CACHE_PATH"].endswith("cache_Llama-3.1-8B-Instruct/N150")
    assert (cfg.host_ip, cfg.host_port) == ("127.0.0.1", 8000)
    assert cfg.labels == {
        "readiness.run_id": RUN_ID,
        "readiness.model_id": "id_tt-transformers_Llama-3.1-8B-Instruct_n150",
        "readiness.managed": "true",
    }
    assert cfg.name == "llama-3.1-8b-instruct-n150-abcd1234"
    command = list(cfg.command)
    assert command[:4] == ["--model", "meta-llama/Llama-3.1-8B-Instruct", "--tt-device", "n150"]
    assert json.loads(command[command.index("--override-tt-config") + 1]) == {
        "trace_region_size": 52000000
    }


def test_t3k_with_device_ids_and_overrides() -> None:
    cfg = config_for(
        "Llama-3.1-8B-Instruct",
        "t3k",
        device_ids=(0, 1),
        vllm_override_args={"max_num_seqs": 16},
        service_port=8123,
        bind_host="0.0.0.0",
    )
    assert cfg.devices == (
        "/dev/tenstorrent/0:/dev/tenstorrent/0",
        "/dev/tenstorrent/1:/dev/tenstorrent/1",
    )
    assert cfg.environment["WH_ARCH_YAML"] == "wormhole_b0_80_arch_eth_dispatch.yaml"
    assert cfg.environment["TT_VISIBLE_DEVICES"] == "0,1"
    assert cfg.environment["MESH_DEVICE"] == "T3K"
    command = list(cfg.command)
    assert command[command.index("--max-num-seqs") + 1] == "16"
    assert command[command.index("--service-port") + 1] == "8123"
    assert (cfg.host_ip, cfg.host_port, cfg.container_port) == ("0.0.0.0", 8123, 8123)


def test_galaxy_container() -> None:
    cfg = config_for("Llama-3.3-70B-Instruct", "galaxy")
    assert cfg.environment["MESH_DEVICE"] == "TG"
    galaxy_ring = {
        "dispatch_core_axis": "col",
        "sample_on_device_mode": "all",
        "fabric_config": "FABRIC_1D_RING",
        "worker_l1_size": 1344544,
        "trace_region_size": 215000000,
    }
    assert list(cfg.command) == [
        "--model", "meta-llama/Llama-3.3-70B-Instruct", "--tt-device", "galaxy",
        "--max-model-len", "131072",
        "--max-num-seqs", "8",  # 32 users over 4 data-parallel ranks, as upstream
        "--block-size", "64",
        "--max-num-batched-tokens", "131072",
        "--seed", "9472",
        "--max-log-len", "32",
        "--data-parallel-size", "4",
        "--override-tt-config", json.dumps(galaxy_ring),
    ]  # fmt: skip
    # upstream's published 0.10.0 image takes no arguments: only a local build runs this
    assert "0.10.0, before 0.11.0" in cfg.not_pullable
    assert "TT_MODEL_SPEC_JSON_PATH" in cfg.not_pullable


def test_n150_command_exactly() -> None:
    cfg = config_for("Llama-3.1-8B-Instruct", "n150")
    assert list(cfg.command) == [
        "--model", "meta-llama/Llama-3.1-8B-Instruct", "--tt-device", "n150",
        "--max-model-len", "65536",
        "--max-num-seqs", "32",
        "--block-size", "64",
        "--max-num-batched-tokens", "65536",
        "--seed", "9472",
        "--max-log-len", "32",
        "--override-tt-config", '{"trace_region_size": 52000000}',
    ]  # fmt: skip
    assert cfg.not_pullable  # its image is 0.9.0


def test_newer_image_takes_upstreams_arguments_and_additional_config() -> None:
    """A 0.18.0 image: upstream's server arguments in upstream's order (`--service-port` only
    off 8000), the TT config as vLLM's TT plugin takes it; its published build can be pulled."""
    cfg = config_for("Llama-3.1-8B-Instruct", "p150", no_auth=True, service_port=8123)
    assert cfg.image.endswith(":0.18.0-c49bb76-6b4a3a7")
    assert list(cfg.command) == [
        "--model", "meta-llama/Llama-3.1-8B-Instruct", "--tt-device", "p150",
        "--no-auth",
        "--service-port", "8123",
        "--max-model-len", "65536",
        "--max-num-seqs", "32",
        "--block-size", "64",
        "--max-num-batched-tokens", "65536",
        "--seed", "9472",
        "--max-log-len", "32",
        "--additional-config", '{"tt": {"trace_region_size": 900000000}}',
    ]  # fmt: skip
    assert cfg.not_pullable == ""


def test_gpu_container_uses_the_upstream_image_and_gpus() -> None:
    cfg = config_for("Llama-3.1-8B-Instruct", "gpu")
    assert cfg.image == "vllm/vllm-openai:v0.13.0"
    assert cfg.gpus and cfg.devices == ()
    assert "MESH_DEVICE" not in cfg.environment
    assert list(cfg.command[:4]) == [
        "--model",
        "meta-llama/Llama-3.1-8B-Instruct",
        "--served-model-name",
        "meta-llama/Llama-3.1-8B-Instruct",
    ]


def test_cpu_container_runs_the_local_llama_cpp_image() -> None:
    cfg = config_for("SmolLM2-135M-Instruct", "cpu", no_auth=True)
    assert cfg.image == "local/readiness-llama-cpp-cpu:0.1.0"
    assert cfg.devices == () and not cfg.ipc_host and not cfg.gpus
    command = list(cfg.command)
    assert command[command.index("--parallel") + 1] == "8"
    assert command[command.index("--max-context") + 1] == "4096"
    assert "--no-auth" in command


def test_volumes_weights_hf_cache_and_dev_mode(tmp_path: Path) -> None:
    cfg = config_for(
        "Llama-3.1-8B-Instruct",
        "n150",
        host_volume=tmp_path / "vol",
        host_weights_dir=tmp_path / "w",
        host_hf_cache=tmp_path / "hf",
        dev_mode=True,
    )
    mounts = {m.target: m for m in cfg.mounts}
    cache = mounts["/home/container_app_user/cache_root"]
    assert cache.kind == "bind" and cache.source.startswith(str(tmp_path / "vol"))
    weights = mounts["/home/container_app_user/readonly_weights_mount/Llama-3.1-8B-Instruct"]
    assert weights.read_only and cfg.environment["MODEL_WEIGHTS_DIR"] == weights.target
    assert mounts["/home/container_app_user/hf_cache"].read_only
    assert "/home/container_app_user/app/src" in mounts
    assert "vllm-tt-metal-src-dev" in cfg.image


def test_printed_command_references_secrets_without_values(
    run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_secretvalue123456")
    monkeypatch.setenv("JWT_SECRET", "jwt-secret-value-abcdefghijklmnopqrstuvwxyz")
    result = run_cli(
        "--model",
        "Llama-3.1-8B-Instruct",
        "--device",
        "n150",
        "--workflow",
        "server",
        "--docker-server",
        "--print-docker-cmd",
    )
    assert result.code == 0, result.err
    note, built_here, command = result.out.split("\n", 2)
    assert note == "# export HF_TOKEN VLLM_API_KEY first: their values are not printed"
    assert built_here.startswith("# runs only where built locally: the published ")
    assert command.startswith("docker run --rm --name llama-3.1-8b-instruct-n150-")
    pasted = subprocess.run(["bash", "-n"], input=result.out, capture_output=True, text=True)
    assert pasted.returncode == 0, f"not a valid shell command: {pasted.stderr}"
    assert '--env HF_TOKEN="$HF_TOKEN"' in result.out
    assert '--env VLLM_API_KEY="$VLLM_API_KEY"' in result.out
    assert "hf_secretvalue123456" not in result.out + result.err
    assert "jwt-secret-value" not in result.out + result.err


def test_interactive_command_opens_a_shell() -> None:
    printed = docker_run_command(config_for("SmolLM2-135M-Instruct", "cpu", interactive=True))
    assert "-it --entrypoint bash" in printed and "--parallel" not in printed


@pytest.mark.parametrize(
    "flag", [["--print-docker-cmd"], ["--host-volume", "/tmp/x"], ["--host-hf-cache", "/tmp/y"]]
)
def test_docker_only_flags_need_docker_server(
    run_cli: Callable[..., CliResult], flag: list[str]
) -> None:
    result = run_cli(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "server",
        "--local-server",
        *flag,
    )
    assert result.code == 2 and f"{flag[0]} needs --docker-server" in result.err


class _EngineWithoutImages:
    """A Docker engine with no images: records pulls, refuses everything else."""

    def __init__(self) -> None:
        self.pulled: list[str] = []

    def has_image(self, image: str) -> bool:
        return False

    def pull(self, image: str, progress: object) -> None:
        self.pulled.append(image)
        raise AssertionError("pulled")


def test_an_image_before_0_11_is_not_pulled(tmp_path: Path) -> None:
    """Its published build would take the runner's arguments as its command and not start."""
    from rich.console import Console

    from workflows.auth import Auth
    from workflows.errors import SetupError
    from workflows.servers.docker import DockerServer

    (tmp_path / "dev/tenstorrent").mkdir(parents=True)
    engine = _EngineWithoutImages()
    cfg = config_for("Llama-3.3-70B-Instruct", "galaxy")
    server = DockerServer(
        cfg,
        {},
        Auth(None, "none"),
        tmp_path / "server.log",
        Console(file=None),
        connect=lambda: engine,  # type: ignore[arg-type,return-value]
        host_root=tmp_path,
    )
    with pytest.raises(SetupError, match=r"not on this machine, and the published .*0\.10\.0"):
        server.start()
    assert engine.pulled == []
