"""vLLM on the host (`--local-server` on a Tenstorrent device): tt-metal and vLLM built locally.

The runner does not install tt-metal; it needs TT_METAL_HOME and PYTHON_ENV_DIR (the Python
environment with tt-metal and vLLM installed) and runs vLLM's OpenAI server from there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from workflows.errors import SetupError
from workflows.registry.model_spec import Device, ModelSpec

MESH_DEVICE = {  # tt-metal's name of each device's mesh, as upstream passes it
    Device.N150: "N150",
    Device.N300: "N300",
    Device.N150X4: "N150x4",
    Device.T3K: "T3K",
    Device.GALAXY: "TG",
    Device.GALAXY_T3K: "T3K",
    Device.P100: "P100",
    Device.P150: "P150",
    Device.P150X4: "P150x4",
    Device.P150X8: "P150x8",
    Device.P300: "P300",
    Device.P300X2: "P300x2",
}
ETH_DISPATCH_DEVICES = (Device.N300, Device.T3K, Device.GALAXY_T3K)


def tt_environment(spec: ModelSpec, device_ids: tuple[int, ...]) -> dict[str, str]:
    """The accelerator stack's environment, derived from the device."""
    env = {
        "MESH_DEVICE": MESH_DEVICE[spec.device],
        "ARCH_NAME": "blackhole" if spec.device.is_blackhole else "wormhole_b0",
        "VLLM_CONFIGURE_LOGGING": "1",
        "VLLM_TARGET_DEVICE": "tt",
        "VLLM_RPC_TIMEOUT": "900000",
        "TORCHDYNAMO_DISABLE": "1",
    }
    if spec.device in ETH_DISPATCH_DEVICES:
        env["WH_ARCH_YAML"] = "wormhole_b0_80_arch_eth_dispatch.yaml"
    if device_ids:
        env["TT_VISIBLE_DEVICES"] = ",".join(map(str, device_ids))
    env.update({key: str(value) for key, value in spec.env_vars.items()})
    return env


def vllm_flags(vllm_args: Mapping[str, object]) -> list[str]:
    """{'max_num_seqs': 32, 'enable_x': True} -> ['--max-num-seqs', '32', '--enable-x']."""
    flags: list[str] = []
    for key, value in vllm_args.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            flags.append(flag)
        elif value is False or value is None:
            continue
        elif isinstance(value, (dict, list, tuple)) or hasattr(value, "items"):
            flags += [flag, json.dumps(value, default=dict)]
        else:
            flags += [flag, str(value)]
    return flags


def check_local_vllm(spec: ModelSpec, env: Mapping[str, str]) -> Path:
    """The Python of the local tt-metal + vLLM install, or an error naming what is missing."""
    missing = [name for name in ("TT_METAL_HOME", "PYTHON_ENV_DIR") if not env.get(name)]
    if missing:
        raise SetupError(
            f"--local-server on {spec.device.value} runs vLLM from a local tt-metal build and "
            f"needs {' and '.join(missing)} set; or use --docker-server"
        )
    python = Path(env["PYTHON_ENV_DIR"]) / "bin" / "python"
    if not python.exists():
        raise SetupError(
            f"PYTHON_ENV_DIR={env['PYTHON_ENV_DIR']} has no bin/python; point it at the Python "
            "environment where tt-metal and vLLM are installed"
        )
    return python


def local_vllm_command(
    spec: ModelSpec,
    env: Mapping[str, str],
    host: str,
    port: int,
    weights: Path,
    device_ids: tuple[int, ...] = (),
) -> tuple[list[str], dict[str, str | None]]:
    python = check_local_vllm(spec, env)
    argv = [
        str(python),
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(weights),
        "--served-model-name",
        spec.hf_repo,
        "--host",
        host,
        "--port",
        str(port),
        *vllm_flags(spec.vllm_args),
    ]
    if spec.override_tt_config:
        argv += ["--additional-config", json.dumps({"tt": dict(spec.override_tt_config)})]
    server_env: dict[str, str | None] = dict(tt_environment(spec, device_ids))
    server_env["TT_METAL_HOME"] = env["TT_METAL_HOME"]
    return argv, server_env
