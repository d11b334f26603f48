"""Integration fixtures: the real runner, as a user runs it, against the real CPU server."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, free_port

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


@pytest.fixture(scope="session")
def cpu_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The README's command, run as is: builds the server environment on first use."""
    logs = tmp_path_factory.mktemp("logs")
    port = free_port()
    process = runner(*SERVER_ARGS, "--service-port", str(port), logs=logs)
    output, _ = process.communicate(timeout=3000)
    assert process.returncode == 0, output
    pid = int(re.search(r"kill (\d+)", output).group(1))  # type: ignore[union-attr]
    folder = (logs / "latest").resolve()
    yield RunningServer(
        f"http://127.0.0.1:{port}",
        port,
        pid,
        (folder / "api_token").read_text().strip(),
        folder,
        output,
    )
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
