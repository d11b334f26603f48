"""The container a `--docker-server` run starts, as data: image, devices, mounts, environment,
ports, labels and command. Pure: nothing here talks to Docker, so every device's exact
configuration is testable, and `--print-docker-cmd` renders the same data as a `docker run`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from workflows.paths import REPO_ROOT
from workflows.registry.model_spec import Device, Engine, ModelSpec
from workflows.run_config import RunConfig
from workflows.servers.image_contract import (
    no_arguments_reason,
    published_image_takes_arguments,
    tt_config_flags,
)
from workflows.servers.local_vllm import MESH_DEVICE, tt_environment, vllm_flags

CONTAINER_HOME = "/home/container_app_user"
CACHE_ROOT = f"{CONTAINER_HOME}/cache_root"
HUGEPAGES = "/dev/hugepages-1G"
TT_DEVICE_DIR = "/dev/tenstorrent"
LABEL_PREFIX = "readiness"
DEFAULT_PORT = 8000  # the port the images' servers listen on unless told


@dataclass(frozen=True)
class Mount:
    source: str
    target: str
    kind: str = "bind"  # or "volume"
    read_only: bool = False


@dataclass(frozen=True)
class ContainerConfig:
    image: str
    name: str
    command: tuple[str, ...]
    labels: dict[str, str]
    environment: dict[str, str]
    secret_names: tuple[str, ...]  # passed from the runner's environment, never written out
    devices: tuple[str, ...] = ()
    mounts: tuple[Mount, ...] = ()
    host_ip: str = "127.0.0.1"
    host_port: int = 8000
    container_port: int = 8000
    ipc_host: bool = False
    gpus: bool = False
    interactive: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    # why the image's published build cannot run `command` (so it is not pulled); "" if it can
    not_pullable: str = ""


def api_key_variable(spec: ModelSpec) -> str:
    """The variable the image's server reads its API key from."""
    return "API_KEY" if spec.inference_engine is Engine.LLAMA_CPP else "VLLM_API_KEY"


def secret_names(spec: ModelSpec, no_auth: bool) -> tuple[str, ...]:
    return ("HF_TOKEN",) + (() if no_auth else (api_key_variable(spec),))


def container_name(spec: ModelSpec, run_id: str) -> str:
    raw = f"{spec.model_name}-{spec.device.value}-{run_id.rsplit('_', 1)[-1]}"
    return re.sub(r"[^a-zA-Z0-9_.-]", "-", raw).lower()


def volume_name(spec: ModelSpec) -> str:
    return f"{LABEL_PREFIX}_{spec.impl}-{spec.model_name}-v{spec.version}".lower()


def tt_devices(device_ids: tuple[int, ...]) -> tuple[str, ...]:
    if not device_ids:
        return (f"{TT_DEVICE_DIR}:{TT_DEVICE_DIR}",)
    return tuple(f"{TT_DEVICE_DIR}/{i}:{TT_DEVICE_DIR}/{i}" for i in device_ids)


def container_config(
    spec: ModelSpec, config: RunConfig, run_id: str, secret_names: tuple[str, ...]
) -> ContainerConfig:
    tenstorrent = spec.device.is_tenstorrent
    return ContainerConfig(
        image=spec.docker_image,
        name=container_name(spec, run_id),
        command=server_command(spec, config),
        labels={
            f"{LABEL_PREFIX}.run_id": run_id,
            f"{LABEL_PREFIX}.model_id": spec.model_id,
            f"{LABEL_PREFIX}.managed": "true",
        },
        environment=environment(spec, config),
        secret_names=secret_names,
        devices=tt_devices(config.device_ids) if tenstorrent else (),
        mounts=mounts(spec, config),
        host_ip=config.bind_host,
        host_port=config.service_port,
        container_port=config.service_port,
        ipc_host=tenstorrent or spec.device is Device.GPU,
        gpus=spec.device is Device.GPU,
        interactive=config.interactive,
        not_pullable=not_pullable(spec),
    )


def not_pullable(spec: ModelSpec) -> str:
    """A Tenstorrent vLLM image before 0.11.0 runs only when built here (see image_contract)."""
    if not (spec.device.is_tenstorrent and spec.inference_engine is Engine.VLLM):
        return ""
    if published_image_takes_arguments(spec.version):
        return ""
    return no_arguments_reason(spec.docker_image, spec.version)


def server_command(spec: ModelSpec, config: RunConfig) -> tuple[str, ...]:
    if spec.device is Device.GPU:
        return (
            "--model",
            spec.hf_repo,
            "--served-model-name",
            spec.hf_repo,
            "--host",
            "0.0.0.0",
            "--port",
            str(config.service_port),
            *vllm_flags(spec.vllm_args),
        )
    if spec.device.is_tenstorrent and spec.inference_engine is Engine.VLLM:
        return tt_vllm_command(spec, config)
    device_flag = "--tt-device" if spec.device.is_tenstorrent else "--device"
    argv = ["--model", spec.hf_repo, device_flag, spec.device.value]
    argv += ["--service-port", str(config.service_port)]
    argv += ["--no-auth"] if config.no_auth else []
    argv += ["--disable-trace-capture"] if config.disable_trace_capture else []
    if spec.inference_engine is Engine.VLLM:
        argv += vllm_flags(spec.vllm_args)
    else:
        argv += [
            "--max-context",
            str(spec.vllm_args.get("max_model_len", spec.max_context)),
            "--parallel",
            str(spec.vllm_args.get("max_num_seqs", spec.max_concurrency)),
        ]
    return tuple(argv)


def tt_vllm_command(spec: ModelSpec, config: RunConfig) -> tuple[str, ...]:
    """Upstream's arguments, in its order (`--service-port` only off 8000), then the spec's vLLM
    flags, which the image's server lays over its built-in defaults, the TT config named as the
    image's vLLM takes it."""
    argv = ["--model", spec.hf_repo, "--tt-device", spec.device.value]
    argv += ["--no-auth"] if config.no_auth else []
    argv += ["--disable-trace-capture"] if config.disable_trace_capture else []
    if config.service_port != DEFAULT_PORT:
        argv += ["--service-port", str(config.service_port)]
    argv += vllm_flags(spec.vllm_args)
    argv += tt_config_flags(spec.version, spec.override_tt_config)
    return tuple(argv)


def environment(spec: ModelSpec, config: RunConfig) -> dict[str, str]:
    env = {
        "CACHE_ROOT": CACHE_ROOT,
        "HF_HOME": f"{CACHE_ROOT}/huggingface",
        "SERVICE_PORT": str(config.service_port),
    }
    if spec.device.is_tenstorrent:
        env |= tt_environment(spec, config.device_ids)
        env["TT_CACHE_PATH"] = (
            f"{CACHE_ROOT}/tt_metal_cache/cache_{spec.model_name}/{MESH_DEVICE[spec.device]}"
        )
    else:
        env |= {key: str(value) for key, value in spec.env_vars.items()}
    if config.host_weights_dir:
        env["MODEL_WEIGHTS_DIR"] = weights_target(spec)
    if config.host_hf_cache:
        env["HF_HUB_CACHE"] = f"{CONTAINER_HOME}/hf_cache/hub"
    return env


def weights_target(spec: ModelSpec) -> str:
    return f"{CONTAINER_HOME}/readonly_weights_mount/{spec.model_name}"


def mounts(spec: ModelSpec, config: RunConfig) -> tuple[Mount, ...]:
    found: list[Mount] = []
    if config.host_volume:
        found.append(Mount(str(config.host_volume / volume_name(spec)), CACHE_ROOT))
    else:
        found.append(Mount(volume_name(spec), CACHE_ROOT, kind="volume"))
    if config.host_weights_dir:
        found.append(Mount(str(config.host_weights_dir), weights_target(spec), read_only=True))
    if config.host_hf_cache:
        found.append(Mount(str(config.host_hf_cache), f"{CONTAINER_HOME}/hf_cache", read_only=True))
    if spec.device.is_tenstorrent:
        found.append(Mount(HUGEPAGES, HUGEPAGES))
    if config.dev_mode and spec.device is not Device.GPU:
        found.append(Mount(str(server_sources(spec)), f"{CONTAINER_HOME}/app/src"))
    return tuple(found)


def server_sources(spec: ModelSpec) -> Path:
    """The repo folder whose files the image holds as its server-side sources."""
    image_dir = "cpu" if spec.inference_engine is Engine.LLAMA_CPP else "vllm-tt-metal"
    return REPO_ROOT / "docker" / image_dir / "src"


def docker_run_command(cfg: ContainerConfig) -> str:
    """The equivalent `docker run`, one option per line, secrets as `$NAME` references that the
    shell fills in from the environment (their values are never printed)."""
    q = shlex.quote
    note = (
        f"# export {' '.join(cfg.secret_names)} first: their values are not printed\n"
        if cfg.secret_names
        else ""
    )
    if cfg.not_pullable:
        note += f"# runs only where built locally: {cfg.not_pullable}\n"
    lines = [f"{note}docker run --rm --name {q(cfg.name)}"]
    lines.append("-it --entrypoint bash" if cfg.interactive else "--detach")
    lines += [f"--label {q(f'{key}={value}')}" for key, value in cfg.labels.items()]
    lines += ["--ipc host"] if cfg.ipc_host else []
    lines += ["--gpus all"] if cfg.gpus else []
    lines += [f"--device {q(device)}" for device in cfg.devices]
    lines += [f"--mount {q(_mount_spec(mount))}" for mount in cfg.mounts]
    lines.append(f"--publish {q(f'{cfg.host_ip}:{cfg.host_port}:{cfg.container_port}')}")
    lines += [f"--env {q(f'{key}={value}')}" for key, value in cfg.environment.items()]
    lines += [f'--env {name}="${name}"' for name in cfg.secret_names]
    lines.append(q(cfg.image))
    if not cfg.interactive:
        lines += _argument_lines(cfg.command)
    return " \\\n  ".join(lines)


def _mount_spec(mount: Mount) -> str:
    spec = f"type={mount.kind},src={mount.source},dst={mount.target}"
    return spec + (",readonly" if mount.read_only else "")


def _argument_lines(command: tuple[str, ...]) -> list[str]:
    """Each flag with its value on one line."""
    lines: list[str] = []
    for token in command:
        if lines and not token.startswith("--") and " " not in lines[-1]:
            lines[-1] += f" {shlex.quote(token)}"
        else:
            lines.append(shlex.quote(token))
    return lines
