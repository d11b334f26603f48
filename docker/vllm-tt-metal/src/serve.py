"""Entrypoint of the Tenstorrent server image: vLLM's OpenAI server for one model on one device.

    serve.py --model HF_REPO --tt-device DEVICE [--no-auth] [--disable-trace-capture]
             [--service-port PORT] [--override-tt-config JSON] [vLLM flags ...]

(the runner names the TT config as the pinned vLLM takes it: `--override-tt-config` before
image 0.15, `--additional-config '{"tt": ...}'` from 0.16, which goes to vLLM unchanged)

The contract the runner's `--docker-server` relies on (the CPU image keeps the same one):
- the API key comes from $VLLM_API_KEY (vLLM checks it); `--no-auth` serves without one;
- weights: $MODEL_WEIGHTS_DIR when set (a read-only host folder), else the Hugging Face repo,
  downloaded into $HF_HOME on the cache volume with $HF_TOKEN;
- the device's mesh comes from --tt-device unless $MESH_DEVICE is set;
- every other flag goes to vLLM unchanged.
Standard library only: it runs before anything else in the image is trusted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping, Sequence

MESH_DEVICE = {  # the runner's table (workflows/servers/local_vllm.py), which a test keeps equal
    "n150": "N150",
    "n300": "N300",
    "n150x4": "N150x4",
    "p100": "P100",
    "p150": "P150",
    "p150x4": "P150x4",
    "p150x8": "P150x8",
    "p300": "P300",
    "p300x2": "P300x2",
    "t3k": "T3K",
    "galaxy": "TG",
    "galaxy_t3k": "T3K",
}


def parse(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(prog="serve.py", allow_abbrev=False)
    parser.add_argument("--model", required=True, help="Hugging Face repo id")
    parser.add_argument("--tt-device", required=True, choices=sorted(MESH_DEVICE))
    default_port = int(os.environ.get("SERVICE_PORT", "8000"))
    parser.add_argument("--service-port", type=int, default=default_port)
    parser.add_argument("--no-auth", action="store_true")
    # Accepted for the contract: the runner sends the trace-capture requests from outside.
    parser.add_argument("--disable-trace-capture", action="store_true")
    parser.add_argument("--override-tt-config", type=json.loads, default=None)
    return parser.parse_known_args(list(argv))


def vllm_command(
    args: argparse.Namespace, passthrough: Sequence[str], environ: Mapping[str, str]
) -> tuple[list[str], dict[str, str]]:
    """The vLLM server's argv and environment for these arguments."""
    weights = environ.get("MODEL_WEIGHTS_DIR") or args.model
    argv = [
        sys.executable,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        weights,
        "--served-model-name",
        args.model,
        "--host",
        "0.0.0.0",
        "--port",
        str(args.service_port),
    ]
    if args.override_tt_config:
        argv += ["--override-tt-config", json.dumps(args.override_tt_config)]
    argv += list(passthrough)
    env = dict(environ)
    env.setdefault("MESH_DEVICE", MESH_DEVICE[args.tt_device])
    env.setdefault("VLLM_TARGET_DEVICE", "tt")
    if args.no_auth:
        env.pop("VLLM_API_KEY", None)
    elif not env.get("VLLM_API_KEY"):
        raise SystemExit("serve.py: set VLLM_API_KEY, or pass --no-auth")
    return argv, env


def main(argv: Sequence[str]) -> None:
    args, passthrough = parse(argv)
    command, env = vllm_command(args, passthrough, os.environ)
    mesh = env["MESH_DEVICE"]
    print(f"serve.py: {args.model} on {args.tt_device} ({mesh}), port {args.service_port}")
    sys.stdout.flush()
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv[1:])
