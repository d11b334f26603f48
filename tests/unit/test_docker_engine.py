"""The Docker wrapper's seam: the exact SDK arguments per device, and the one-line errors for an
engine that is missing, stopped or refuses us. No engine is needed here."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Run, config_for
from workflows.errors import SetupError
from workflows.servers.docker import host_checked
from workflows.servers.docker_config import ContainerConfig
from workflows.servers.docker_engine import (
    DockerEngine,
    create_arguments,
    engine_error,
    pull_error,
    split_reference,
)

SECRETS = {"HF_TOKEN": "hf_secretvalue123", "VLLM_API_KEY": "jwt.secret.token"}


def mounts_of(arguments: dict[str, Any]) -> dict[str, dict[str, Any]]:
    mounts = arguments["mounts"]
    assert isinstance(mounts, list)
    return {mount["Target"]: dict(mount) for mount in mounts}


def test_n150_sdk_arguments() -> None:
    cfg = config_for("Llama-3.1-8B-Instruct", "n150")
    arguments = create_arguments(cfg, SECRETS)
    assert arguments["image"] == cfg.image and arguments["name"] == cfg.name
    assert arguments["devices"] == ["/dev/tenstorrent:/dev/tenstorrent"]
    assert arguments["ipc_mode"] == "host"
    assert "device_requests" not in arguments
    assert arguments["ports"] == {"8000/tcp": ("127.0.0.1", 8000)}
    mounts = mounts_of(arguments)
    assert mounts["/dev/hugepages-1G"]["Type"] == "bind"
    cache = mounts["/home/container_app_user/cache_root"]
    assert cache["Type"] == "volume" and cache["Source"] == (
        "readiness_tt_transformers-llama-3.1-8b-instruct-v0.9.0"
    )
    environment = arguments["environment"]
    assert isinstance(environment, dict)
    assert environment["MESH_DEVICE"] == "N150"
    assert environment["VLLM_API_KEY"] == "jwt.secret.token"
    assert arguments["command"] == list(cfg.command)
    assert arguments["labels"] == cfg.labels


def test_t3k_device_ids_give_one_device_node_each() -> None:
    cfg = config_for("Llama-3.1-8B-Instruct", "t3k", device_ids=(2, 3), bind_host="0.0.0.0")
    arguments = create_arguments(cfg, {})
    assert arguments["devices"] == [
        "/dev/tenstorrent/2:/dev/tenstorrent/2",
        "/dev/tenstorrent/3:/dev/tenstorrent/3",
    ]
    assert arguments["ports"] == {"8000/tcp": ("0.0.0.0", 8000)}
    assert arguments["environment"]["TT_VISIBLE_DEVICES"] == "2,3"


def test_galaxy_and_gpu_sdk_arguments() -> None:
    galaxy = create_arguments(config_for("Llama-3.3-70B-Instruct", "galaxy"), {})
    assert galaxy["environment"]["MESH_DEVICE"] == "TG"
    gpu = create_arguments(config_for("Llama-3.1-8B-Instruct", "gpu"), {})
    assert gpu["image"] == "vllm/vllm-openai:v0.13.0"
    assert gpu["devices"] == [] and gpu["ipc_mode"] == "host"
    (request,) = gpu["device_requests"]
    assert request["Count"] == -1 and request["Capabilities"] == [["gpu"]]


def test_cpu_sdk_arguments_and_read_only_host_folders(tmp_path: Path) -> None:
    cfg = config_for(
        "SmolLM2-135M-Instruct",
        "cpu",
        host_weights_dir=tmp_path / "weights",
        host_hf_cache=tmp_path / "hf",
        service_port=8123,
    )
    arguments = create_arguments(cfg, {"API_KEY": "k-123"})
    assert arguments["image"] == "local/readiness-llama-cpp-cpu:0.1.0"
    assert arguments["devices"] == [] and "ipc_mode" not in arguments
    assert arguments["ports"] == {"8123/tcp": ("127.0.0.1", 8123)}
    mounts = mounts_of(arguments)
    weights = mounts["/home/container_app_user/readonly_weights_mount/SmolLM2-135M-Instruct"]
    assert weights["ReadOnly"] is True and weights["Source"] == str(tmp_path / "weights")
    assert mounts["/home/container_app_user/hf_cache"]["ReadOnly"] is True
    command = arguments["command"]
    assert isinstance(command, list)
    assert command[command.index("--parallel") + 1] == "8"
    assert command[command.index("--max-context") + 1] == "4096"
    assert arguments["environment"]["API_KEY"] == "k-123"


def test_interactive_container_gets_a_shell_and_a_terminal() -> None:
    cfg = config_for("SmolLM2-135M-Instruct", "cpu", interactive=True)
    arguments = create_arguments(cfg, {})
    assert arguments["entrypoint"] == ["bash"] and arguments["command"] == []
    assert arguments["tty"] is True and arguments["stdin_open"] is True


def test_dev_mode_mounts_the_image_sources_of_the_engine() -> None:
    cpu = mounts_of(create_arguments(config_for("SmolLM2-135M-Instruct", "cpu", dev_mode=True), {}))
    assert cpu["/home/container_app_user/app/src"]["Source"].endswith("docker/cpu/src")
    tt = mounts_of(create_arguments(config_for("Llama-3.1-8B-Instruct", "n150", dev_mode=True), {}))
    assert tt["/home/container_app_user/app/src"]["Source"].endswith("docker/vllm-tt-metal/src")


def test_missing_socket_means_daemon_not_running(tmp_path: Path) -> None:
    host = f"unix://{tmp_path}/docker.sock"
    with pytest.raises(SetupError, match="the Docker daemon is not running") as caught:
        DockerEngine.connect({"DOCKER_HOST": host, "PATH": "/usr/bin:/bin"})
    assert host in caught.value.message and "\n" not in caught.value.message


def test_socket_nobody_listens_on_means_daemon_not_running(tmp_path: Path) -> None:
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as bound:
        bound.bind(str(path))  # bound, never listening: the kernel refuses connections
        with pytest.raises(SetupError, match="the Docker daemon is not running"):
            DockerEngine.connect({"DOCKER_HOST": f"unix://{path}"})


def test_no_docker_binary_and_no_socket_means_not_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `docker` here
    with pytest.raises(SetupError, match="Docker is not installed") as caught:
        DockerEngine.connect({"DOCKER_HOST": f"unix://{tmp_path}/docker.sock"})
    assert "--local-server" in caught.value.message


def test_permission_denied_on_the_socket() -> None:
    try:
        try:
            raise PermissionError(13, "Permission denied")
        except PermissionError as cause:
            raise ConnectionError("Connection aborted.") from cause
    except ConnectionError as error:
        message = engine_error(error, "/usr/bin/docker", "unix:///var/run/docker.sock").message
    assert message.startswith("permission denied on the Docker socket")
    assert "usermod -aG docker" in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io '
            "on 10.0.0.1:53: no such host",
            "its registry is unreachable",
        ),
        (
            "pull access denied for acme/nope, repository does not exist or may require "
            "'docker login'",
            "does not exist in its registry",
        ),
        ("manifest for acme/x:9 not found: manifest unknown", "does not exist in its registry"),
        ("toomanyrequests: rate limit", "pulling acme/x:1 failed: toomanyrequests"),
    ],
)
def test_pull_errors_say_what_happened(text: str, expected: str) -> None:
    assert expected in pull_error("acme/x:1", text).message


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("ghcr.io/tenstorrent/x:0.9.0-abc", ("ghcr.io/tenstorrent/x", "0.9.0-abc")),
        ("localhost:5000/x", ("localhost:5000/x", "latest")),
        ("localhost:5000/x:7", ("localhost:5000/x", "7")),
        ("vllm/vllm-openai", ("vllm/vllm-openai", "latest")),
    ],
)
def test_split_reference(image: str, expected: tuple[str, str]) -> None:
    assert split_reference(image) == expected


def fake_host(root: Path, *paths: str) -> Path:
    for path in paths:
        (root / path.lstrip("/")).mkdir(parents=True, exist_ok=True)
    return root


def test_tenstorrent_host_without_device_nodes_is_refused(tmp_path: Path) -> None:
    cfg = config_for("Llama-3.1-8B-Instruct", "t3k", device_ids=(0, 1))
    root = fake_host(tmp_path, "/dev/tenstorrent/0", "/dev/hugepages-1G")
    with pytest.raises(SetupError, match=r"/dev/tenstorrent/1 not found on this host"):
        host_checked(cfg, root)


def test_hugepages_mount_only_where_the_host_has_it(tmp_path: Path) -> None:
    cfg = config_for("Llama-3.1-8B-Instruct", "n150")
    without = host_checked(cfg, fake_host(tmp_path / "a", "/dev/tenstorrent"))
    assert "/dev/hugepages-1G" not in {mount.target for mount in without.mounts}
    with_pages = host_checked(
        cfg, fake_host(tmp_path / "b", "/dev/tenstorrent", "/dev/hugepages-1G")
    )
    assert with_pages == cfg


def test_cpu_needs_no_host_devices(tmp_path: Path) -> None:
    cfg: ContainerConfig = config_for("SmolLM2-135M-Instruct", "cpu")
    assert host_checked(cfg, tmp_path) == dataclasses.replace(cfg)


def test_docker_server_without_engine_is_one_line_and_no_secret(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    monkeypatch.setenv("JWT_SECRET", "jwt-secret-never-shown")
    monkeypatch.setenv("HF_TOKEN", "hf_tokennevershown")
    args = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks"]
    result = run_cli(*args, "--docker-server")
    assert result.code == 3
    errors = [line for line in result.err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and "the Docker daemon is not running" in errors[0]
    assert "Traceback" not in result.err + result.out
    (run_log,) = (tmp_path / "workflow_logs").rglob("run.log")
    written = run_log.read_text() + result.err + result.out
    assert "Traceback" in run_log.read_text()  # the details are kept for the developer
    assert "jwt-secret-never-shown" not in written and "hf_tokennevershown" not in written
    token = (run_log.parent / "api_token").read_text().strip()
    assert token and token not in written
