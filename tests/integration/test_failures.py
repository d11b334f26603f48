"""What a user meets when things die: the server under a benchmark, or the runner itself."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.helpers import (
    CPU_MODEL,
    RunningServer,
    free_port,
    processes_mentioning,
    read_until,
    runner,
    servers_on,
    wait_for,
)

pytestmark = pytest.mark.integration
LOAD = "concurrency=1,4 num_prompts=8 isl=64 osl=128 ignore_eos=true"


def benchmark_run(port: int) -> list[str]:
    return [
        *CPU_MODEL,
        "--workflow",
        "benchmarks",
        "--local-server",
        "--service-port",
        str(port),
        "--disable-trace-capture",
        "--workflow-args",
        LOAD,
    ]


def first_point_written(logs: Path) -> bool:
    return any((logs / "latest" / "benchmarks").glob("benchmark_*_n-8.json"))


def test_server_killed_mid_benchmark_ends_the_run_with_its_status(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """It used to print the failed requests and `exit 0 (ok)`."""
    port = free_port()
    process = runner(*benchmark_run(port), logs=tmp_path)
    try:
        read_until(process, "server ready", timeout=300)
        assert wait_for(lambda: first_point_written(tmp_path), 120), "no point finished"
        [server] = servers_on(port)
        os.kill(server, signal.SIGKILL)
        output, _ = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 4, output
    assert "the server exited with signal SIGKILL during the benchmarks workflow" in output
    assert "exit 4 (server)" in output
    assert processes_mentioning(str(tmp_path / "latest" / "benchmarks")) == []


def test_runner_killed_outright_mid_benchmark_leaves_nothing(
    tmp_path: Path, cpu_server: RunningServer
) -> None:
    """SIGKILL (a CI timeout, the OOM killer): the server and the load generator go with it."""
    port = free_port()
    process = runner(*benchmark_run(port), logs=tmp_path)
    try:
        read_until(process, "server ready", timeout=300)
        results = str((tmp_path / "latest").resolve() / "benchmarks")
        assert wait_for(lambda: processes_mentioning(results) != [], 60), "no load generator"
        assert servers_on(port)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        process.kill()
    assert wait_for(lambda: servers_on(port) == [], 30), "llama-server outlived the runner"
    assert wait_for(lambda: processes_mentioning(results) == [], 30), "the generator outlived it"
