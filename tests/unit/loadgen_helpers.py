"""Helpers for tests of the load generator: the emulator as a process, its records, a
benchmark run through `python -m benchmarking`, a run context, and a process's children."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from benchmarking import bench
from benchmarking.client.requests import Target
from benchmarking.datasets import WordTokenizer
from benchmarking.server_api import API_KEY_ENV
from benchmarking.settings import settings_from
from reports.results import Identity
from tests.helpers import REPO_ROOT, free_port

Emulator = Callable[..., str]  # emulator(*flags) -> its base URL
IDENTITY = Identity("run-1", "model-1", "acme/Tiny", "cpu", "emulator")
RUNTIME_SPEC = {
    "run_id": "run-1",
    "model_id": "model-1",
    "model_spec": {
        "hf_repo": "acme/Tiny",
        "device": "cpu",
        "max_context": 4096,
        "max_concurrency": 8,
    },
}


def start_emulator(*flags: str) -> tuple[subprocess.Popen[str], str]:
    """The emulator in a process of its own, once it listens; and its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarking.emulator", "--port", str(port), *flags],
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
        "--disable-trace-capture",
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
    return bench.Context(target, "emulator", settings, WordTokenizer(), out, IDENTITY, kind)


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
