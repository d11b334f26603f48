"""Helpers shared by the unit and integration tests (fixtures live in the conftest files)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tokenizers.pre_tokenizers import ByteLevel

from workflows.registry.loader import load_registry
from workflows.run_config import RunConfig
from workflows.runtime_spec import apply_overrides
from workflows.servers.docker_config import ContainerConfig, container_config

REPO_ROOT = Path(__file__).resolve().parent.parent
FAKES = REPO_ROOT / "tests" / "fakes"


def wait_for(predicate: Callable[[], bool], seconds: float, poll: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `seconds` pass; its last answer."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return predicate()


def pid_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def processes_mentioning(text: str) -> list[int]:
    """PIDs of live processes whose command line contains `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if text.encode() in argv and pid_alive(int(entry.name)):
            found.append(int(entry.name))
    return found


@dataclass
class CliResult:
    code: int
    out: str
    err: str


Run = Callable[..., CliResult]


@dataclass
class FakeVllm:
    record_path: Path
    weights: Path
    port: int

    def record(self) -> dict[str, object]:
        data = json.loads(self.record_path.read_text())
        assert isinstance(data, dict)
        return data

    def args(self, *extra: str) -> list[str]:
        return [
            "--model",
            "Tiny-1B-Instruct",
            "--device",
            "n150",
            "--local-server",
            "--service-port",
            str(self.port),
            "--host-weights-dir",
            str(self.weights),
            *extra,
        ]


# Weights a fake hub serves (tests/fakes/hub.py)
HF_FILES = {
    "config.json": b"{}",
    "tokenizer.json": b"{}",
    "model.safetensors": b"\0" * 64,
    "original/consolidated.00.pth": b"skip me",
}


# Containers, as the runner configures them
RUN_ID = "2026-11-23_10-00-00_X_n150_server_abcd1234"


def config_for(model: str, device: str, **changes: object) -> ContainerConfig:
    run = dataclasses.replace(
        RunConfig(model=model, device=device, workflow="server", docker_server=True),
        **changes,  # type: ignore[arg-type]
    )
    spec = apply_overrides(load_registry().find(model, device), run)
    return container_config(spec, run, RUN_ID, ("HF_TOKEN", "VLLM_API_KEY"))


# GGUF files written by the tests (the format: little-endian, typed key/values)
GgufValue = int | float | bool | str | list[str] | list[int]
MERGES = ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "Ġwor l", "Ġworl d", "1 2"]
SPECIAL = "<|im_start|>"


def gguf_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def gguf_value(value: GgufValue) -> bytes:
    """Type tag and payload; ints are int32 (5), floats float32 (6), lists arrays (9)."""
    if isinstance(value, bool):
        return struct.pack("<I?", 7, value)
    if isinstance(value, int):
        return struct.pack("<Ii", 5, value)
    if isinstance(value, float):
        return struct.pack("<If", 6, value)
    if isinstance(value, str):
        return struct.pack("<I", 8) + gguf_string(value)
    if all(isinstance(v, str) for v in value):
        return struct.pack("<IIQ", 9, 8, len(value)) + b"".join(gguf_string(str(v)) for v in value)
    return struct.pack("<IIQ", 9, 5, len(value)) + struct.pack(f"<{len(value)}i", *value)


def write_gguf(path: Path, metadata: dict[str, GgufValue], version: int = 3) -> Path:
    header = b"GGUF" + struct.pack("<IQQ", version, 0, len(metadata))
    pairs = b"".join(gguf_string(key) + gguf_value(value) for key, value in metadata.items())
    path.write_bytes(header + pairs)
    return path


def tokenizer_metadata(model: str = "gpt2", pre: str = "smollm") -> dict[str, GgufValue]:
    alphabet = sorted(ByteLevel.alphabet())
    merged = ["".join(m.split(" ")) for m in MERGES]
    tokens = [SPECIAL, *alphabet, *merged]
    return {
        "general.architecture": "llama",
        "tokenizer.ggml.model": model,
        "tokenizer.ggml.pre": pre,
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": [3] + [1] * (len(tokens) - 1),
        "tokenizer.ggml.merges": MERGES,
        "tokenizer.chat_template": "{{ messages }}",
    }


# The real runner, as a user runs it (integration tests)
SERVER_ARGS = [
    "--model",
    "SmolLM2-135M-Instruct",
    "--device",
    "cpu",
    "--workflow",
    "server",
    "--local-server",
]


def runner(*args: str, logs: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`python run.py ARGS` in its own process group, output captured."""
    env = dict(os.environ, WORKFLOW_LOGS_DIR=str(logs)) | (env or {})
    return subprocess.Popen(
        [sys.executable, str(REPO_ROOT / "run.py"), *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def read_until(process: subprocess.Popen[str], pattern: str, timeout: float) -> str:
    """Output lines up to the first matching `pattern` (the process keeps running)."""
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if re.search(pattern, line):
            return "".join(seen)
    raise AssertionError(f"never saw {pattern!r}; output:\n{''.join(seen)}")


def servers_on(port: int) -> list[int]:
    """PIDs of llama-server processes listening on `port` (from their command lines)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if (
            state != "Z"
            and argv
            and argv[0].endswith(b"llama-server")
            and str(port).encode() in argv
        ):
            found.append(int(entry.name))
    return found


@dataclass
class RunningServer:
    base_url: str
    port: int
    pid: int
    token: str
    run_folder: Path
    output: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}
