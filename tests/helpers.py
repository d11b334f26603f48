"""Helpers shared by the unit and integration tests (fixtures live in the conftest files):
processes and ports, the CLI, fakes, containers, GGUF files, the runner as a user runs it, and
the load generator against the emulator."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tokenizers.pre_tokenizers import ByteLevel

from benchmarking import bench
from benchmarking.client.requests import Target
from benchmarking.datasets import WordTokenizer
from benchmarking.server_api import API_KEY_ENV
from benchmarking.settings import settings_from
from evals.config import EvalTask, Limit, Score
from reports.results import Identity
from workflows.context import RunContext
from workflows.paths import REPO_ROOT as REPO_ROOT  # the tests find the checkout here too
from workflows.registry.loader import load_registry
from workflows.run_config import RunConfig
from workflows.runtime_spec import apply_overrides
from workflows.servers.docker_config import ContainerConfig, container_config

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


def command_lines() -> Iterator[tuple[int, list[bytes]]]:
    """(pid, argv) of every live process but this one (zombies and vanished ones skipped)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if pid_alive(int(entry.name)):
            yield int(entry.name), argv


def processes_mentioning(text: str) -> list[int]:
    """PIDs of live processes whose command line contains `text`."""
    return [pid for pid, argv in command_lines() if text.encode() in b" ".join(argv)]


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
CPU_MODEL = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu"]
SERVER_ARGS = [*CPU_MODEL, "--workflow", "server", "--local-server"]


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


def shown_log_tail(output: str) -> list[str]:
    """The lines the runner printed under its last `error:` line (a server log's tail). The
    error may share its line with a progress bar's last frame (stdout and stderr interleave)."""
    lines = output.splitlines()
    start = max(i for i, line in enumerate(lines) if "error:" in line) + 1
    tail = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        tail.append(line[2:])
    return [line for line in tail if line.strip()]


def servers_on(port: int) -> list[int]:
    """PIDs of the CPU engine's processes serving `port` (from their command lines: the launcher,
    docker/cpu/src/llama_server.py, run by a Python)."""
    return [
        pid
        for pid, argv in command_lines()
        if any(part.endswith(b"llama_server.py") for part in argv[:3])
        and str(port).encode() in argv
    ]


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


# The load generator: the emulator as a process, its records, benchmark runs
Emulator = Callable[..., str]  # emulator(*flags) -> its base URL
IDENTITY = Identity("run-1", "model-1", "acme/Tiny", "cpu", "emulator")
SPEC_REPO = "acme/Tiny"  # the model RUNTIME_SPEC names, and the one the emulator serves
RUNTIME_SPEC = {
    "run_id": "run-1",
    "model_id": "model-1",
    "model_spec": {
        "hf_repo": SPEC_REPO,
        "device": "cpu",
        "max_context": 4096,
        "max_concurrency": 8,
    },
}


def start_emulator(*flags: str) -> tuple[subprocess.Popen[str], str]:
    """The emulator in a process of its own, once it listens; and its base URL. It serves the
    model RUNTIME_SPEC names unless `--model` says another."""
    port = free_port()
    model = [] if "--model" in flags else ["--model", SPEC_REPO]
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarking.emulator", "--port", str(port), *model, *flags],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and "listening" in process.stdout.readline()
    return process, f"http://127.0.0.1:{port}"


def records(url: str) -> dict[str, dict[str, Any]]:
    """What the emulator wrote for each request, by request id."""
    with urllib.request.urlopen(f"{url}/emulator/records") as reply:
        return {r["request_id"]: r for r in json.loads(reply.read())}


def benchmarking_process(
    url: str,
    out: Path,
    args: Mapping[str, object],
    mode: str = "benchmarks",
    api_key: str | None = None,
    trace_capture: bool = False,
) -> subprocess.Popen[str]:
    """`python -m benchmarking` against `url`, as the runner starts it, output captured."""
    spec = out.parent / f"{out.name}-runtime_spec.json"
    spec.write_text(json.dumps(RUNTIME_SPEC))
    argv = [
        sys.executable,
        "-m",
        "benchmarking",
        "--mode",
        mode,
        "--runtime-spec",
        str(spec),
        "--server-url",
        url,
        "--output-dir",
        str(out),
        *([] if trace_capture else ["--disable-trace-capture"]),
        "--workflow-args-json",
        json.dumps(dict(args)),
    ]
    env = dict(os.environ) | ({API_KEY_ENV: api_key} if api_key else {})
    return subprocess.Popen(
        argv, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def point_files(out: Path) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each point's document and request rows, in file name order."""
    found = []
    for path in sorted(out.glob("*[0-9].json")):
        rows_file = path.with_name(path.stem + "_requests.jsonl")
        rows = [json.loads(line) for line in rows_file.read_text().splitlines()]
        found.append((json.loads(path.read_text()), rows))
    return found


def context(url: str, out: Path, kind: str = "benchmark", **args: object) -> bench.Context:
    """A run context for bench.run_point against `url`, words as tokens (the emulator's)."""
    settings = settings_from({"warmups": 0} | args)
    target = Target.from_url(url, {})
    return bench.Context(target, SPEC_REPO, settings, WordTokenizer(), out, IDENTITY, kind)


# A registry of made-up models for the runner's flag and lifecycle tests.
TINY_REGISTRY = """
templates:
  - weights: [acme/Tiny-1B-Instruct]
    impl: tt_transformers
    inference_engine: vllm
    version: "0.9.0"
    tt_metal_commit: 25305db0123456789
    vllm_commit: 6e67d2d0123456789
    status: functional
    min_disk_gb: 0.001
    min_ram_gb: 0.001
    env_vars: {VLLM_ALLOW_LONG_MAX_MODEL_LEN: 1}
    devices:
      - device: n150
        max_concurrency: 4
        max_context: 2048
        default_impl: true
        override_tt_config: {trace_region_size: 1000, keep: 1}
      - device: t3k
        max_concurrency: 8
        max_context: 4096
        default_impl: true
  - weights: [acme/Tiny-1B-Instruct]
    impl: other_impl
    inference_engine: vllm
    version: "0.8.0"
    tt_metal_commit: aaaaaaa
    vllm_commit: bbbbbbb
    status: experimental
    min_disk_gb: 0.001
    min_ram_gb: 0.001
    devices:
      - device: n150
        max_concurrency: 4
        max_context: 2048
  - weights: [acme/Twin-2B]
    impl: first
    inference_engine: vllm
    version: "0.1.0"
    tt_metal_commit: ccccccc
    vllm_commit: ddddddd
    status: experimental
    devices:
      - {device: n300, max_concurrency: 4, max_context: 2048}
  - weights: [acme/Twin-2B]
    impl: second
    inference_engine: vllm
    version: "0.1.0"
    tt_metal_commit: ccccccc
    vllm_commit: ddddddd
    status: experimental
    devices:
      - {device: n300, max_concurrency: 4, max_context: 2048}
"""


def run_context(tmp_path: Path, workflow: str = "benchmarks", args: str = "") -> RunContext:
    """A run's context up to its server, as the first steps build it: the CPU spec resolved,
    a run folder under `tmp_path`, runtime_spec.json saved, auth settled. Nothing starts."""
    from rich.console import Console

    from workflows import steps
    from workflows.context import Paths
    from workflows.paths import MODEL_SPECS_DIR
    from workflows.secrets import Secrets
    from workflows.workflow_args import parse_workflow_args

    config = RunConfig(
        model="SmolLM2-135M-Instruct",
        device="cpu",
        workflow=workflow,
        local_server=True,
        workflow_args=parse_workflow_args(args or None),
    )
    paths = Paths(MODEL_SPECS_DIR, tmp_path / "logs", tmp_path / ".env")
    ctx = RunContext(config, Console(file=io.StringIO()), paths, {}, Secrets())
    ctx = steps.open_run_folder(steps.resolve_spec(ctx))
    return steps.load_auth(steps.save_runtime_spec(ctx))


def children_of(pid: int) -> list[int]:
    """The live child processes of `pid` (from /proc: any thread may have forked them)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


VLLM_FIELDS = (
    "mean_ttft_ms",
    "median_ttft_ms",
    "p99_ttft_ms",
    "mean_tpot_ms",
    "p99_itl_ms",
    "mean_e2el_ms",
    "output_throughput",
    "total_token_throughput",
    "request_throughput",
    "request_goodput",
    "completed",
    "failed",
    "duration",
)


def result_files(run_folder: Path) -> list[dict[str, Any]]:
    files = sorted((run_folder / "benchmarks").glob("benchmark_*[0-9].json"))
    return [json.loads(path.read_text()) for path in files]


def run_ok(
    *args: str, logs: Path, timeout: int, env: dict[str, str] | None = None
) -> tuple[Path, str]:
    """Run `run.py ARGS` to a zero exit; the run folder and the console output."""
    process = runner(*args, logs=logs, env=env)
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output
    return (logs / "latest").resolve(), output


# Evals: a task configuration and lm-eval's results for it
EVAL_TASK = EvalTask(  # a shipped chat task, in percent, with a smoke reference
    task="qa",
    model_type="local-chat-completions",
    output_type="generate_until",
    dataset="shipped",
    result_keys=("exact_match,strict-match",),
    combine="single",
    unit="percent",
    published=Score(60.0, "paper"),
    reference=Score(50.0, "measured"),
    tolerance=0.05,
    num_fewshot=None,
    seed=42,
    gen_kwargs=MappingProxyType({}),
    model_args=MappingProxyType({}),
    min_context=0,
    max_concurrency=8,
    limits=MappingProxyType({"smoke": Limit(30, Score(40.0, "measured, first 30"))}),
    source_file="test.yaml",
)


def lm_eval_results(values: dict[str, object], n: int = 300) -> dict[str, object]:
    return {"results": {"qa": {"alias": "qa", **values}}, "n-samples": {"qa": {"effective": n}}}
