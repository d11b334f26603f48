"""A real run stores itself: a benchmarks run against the emulator, given a store (the throwaway
PostgreSQL cluster where Debian's binaries are installed, else a SQLite file), lands in it, and
`reports --history` gives back the figures of its result file; the store's password is in no
file of the run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, free_port, result_files, run_ok
from tests.postgres import cluster, postgres_bin

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]
MODEL = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.fixture
def emulator_url() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarking.emulator", "--port", str(port),
         "--ttft-ms", "30", "--itl-ms", "3", "--model", MODEL],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None and "listening" in process.stdout.readline()
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[str]:
    bindir = postgres_bin()
    if bindir is None:  # the SQLite path still runs; the unit tests say PostgreSQL was skipped
        yield f"sqlite:///{tmp_path / 'team.db'}"
        return
    with cluster(bindir) as url:
        yield url


def test_a_run_given_a_store_stores_itself(tmp_path: Path, emulator_url: str, store: str) -> None:
    logs = tmp_path / "logs"
    folder, output = run_ok(
        "--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks",
        "--server-url", emulator_url, "--db", store,
        "--workflow-args", "isl=48 osl=4 concurrency=2 num_prompts=4",
        logs=logs, timeout=300,
    )  # fmt: skip
    assert "stored this run" in output
    [document] = result_files(folder)
    _, history = run_ok(
        "--workflow", "reports", "--db", store, "--history", "--model", "SmolLM2-135M-Instruct",
        "--device", "cpu", "--point", "48,4,2", "--json", logs=logs, timeout=120,
    )  # fmt: skip
    [point] = json.loads(history[history.index("{") :])["points"]
    [run] = point["series"]
    assert run["run_id"] == folder.name and run["verdict"] == "PARTIAL"
    assert run["value"] == pytest.approx(document["mean_ttft_ms"], rel=1e-12)
    assert [run["ci95_low"], run["ci95_high"]] == pytest.approx(
        document["interval_95"]["mean_ttft_ms"], rel=1e-12
    )
    password = "pg-s3cret-pass"
    for path in folder.rglob("*"):
        if path.is_file():
            assert password not in path.read_text(errors="replace"), path
    assert password not in output + history
