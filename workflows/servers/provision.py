"""Choose and prepare the server a run talks to: local process, container, or external URL."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console

from workflows.auth import Auth
from workflows.docker_config import api_key_variable, container_config, docker_run_command
from workflows.host import check_host
from workflows.model_spec import Engine, ModelSpec
from workflows.progress import BuildProgress
from workflows.run_config import RunConfig
from workflows.run_folder import RunFolder
from workflows.servers import llama_cpp
from workflows.servers.base import Server
from workflows.servers.docker import DockerServer
from workflows.servers.external import ExternalServer
from workflows.servers.local import LocalProcessServer
from workflows.servers.local_vllm import local_vllm_command
from workflows.venvs import ensure_venv
from workflows.weights import hf_cache_dir, resolve_weights

log = logging.getLogger(__name__)


def create_server(
    spec: ModelSpec,
    config: RunConfig,
    auth: Auth,
    folder: RunFolder,
    console: Console,
    environ: Mapping[str, str],
) -> Server:
    if config.docker_server:
        return _docker_server(spec, config, auth, folder, console, environ)
    if config.local_server:
        return _local_server(spec, config, auth, folder, console, environ)
    url = config.server_url or f"http://127.0.0.1:{config.service_port}"
    return ExternalServer(url, auth, None)


def _local_server(
    spec: ModelSpec,
    config: RunConfig,
    auth: Auth,
    folder: RunFolder,
    console: Console,
    environ: Mapping[str, str],
) -> LocalProcessServer:
    weights_home = config.host_weights_dir or hf_cache_dir(environ)
    free, ram = check_host(spec, weights_home)
    log.debug("host: %.1f GB disk free, %.1f GB RAM available", free, ram)
    detach = config.workflow == "server" and not config.interactive
    if spec.inference_engine is Engine.LLAMA_CPP:
        argv, env = _llama_cpp_command(spec, config, auth, folder, console, environ)
    else:
        weights = resolve_weights(spec, environ, config.host_weights_dir)
        log.info("weights: %s (%s)", weights.path, weights.source)
        argv, env = local_vllm_command(
            spec, environ, config.bind_host, config.service_port, weights.path, config.device_ids
        )
        env["VLLM_API_KEY"] = auth.token
    return LocalProcessServer(
        argv, env, config.bind_host, config.service_port, auth, folder.server_log, detach=detach
    )


def _llama_cpp_command(
    spec: ModelSpec,
    config: RunConfig,
    auth: Auth,
    folder: RunFolder,
    console: Console,
    environ: Mapping[str, str],
) -> tuple[list[str], dict[str, str | None]]:
    venv = llama_cpp.server_venv(spec)
    install_log = folder.path / f"venv-{venv.name}.log"
    progress = BuildProgress(console, "compiling llama.cpp's server (first run only)")
    with progress.shown():
        python = ensure_venv(venv, install_log, on_line=progress)
    weights = resolve_weights(spec, environ, config.host_weights_dir, package_root=venv.path)
    model_file = weights.path if weights.path.is_file() else _first_gguf(weights.path)
    log.info("weights: %s (%s)", model_file, weights.source)
    binary = llama_cpp.binary_path(python, install_log)
    argv = llama_cpp.server_argv(spec, binary, model_file, config.bind_host, config.service_port)
    return argv, llama_cpp.server_env(auth.token)


def _first_gguf(folder: Path) -> Path:
    return sorted(folder.glob("*.gguf"))[0]


def _docker_server(
    spec: ModelSpec,
    config: RunConfig,
    auth: Auth,
    folder: RunFolder,
    console: Console,
    environ: Mapping[str, str],
) -> DockerServer:
    if config.host_weights_dir:  # the same completeness check as a local server's
        resolve_weights(spec, environ, config.host_weights_dir)
    secrets = container_secrets(spec, auth, environ)
    cfg = container_config(spec, config, folder.run_id, tuple(secrets))
    log.debug("container, as a docker run command:\n%s", docker_run_command(cfg))
    return DockerServer(cfg, secrets, auth, folder.server_log, console)


def container_secrets(spec: ModelSpec, auth: Auth, environ: Mapping[str, str]) -> dict[str, str]:
    """What the container gets from the runner's secrets: the API key its server checks, and
    HF_TOKEN for gated weights. Values travel in the create call only, never in a log."""
    secrets = {"HF_TOKEN": environ["HF_TOKEN"]} if environ.get("HF_TOKEN") else {}
    if auth.token:
        secrets[api_key_variable(spec)] = auth.token
    return secrets
