"""--rerun for real: a benchmark of the CPU server, repeated from its run folder, runs the same
spec with the same settings, and says what differs from the original."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import RunningServer, run_ok

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]


def record(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "runtime_spec.json").read_text())  # type: ignore[no-any-return]


def settings(runtime: dict[str, Any], ignored: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in runtime["run_config"].items() if k not in ignored}


def test_a_rerun_repeats_a_cpu_benchmark_exactly(tmp_path: Path, cpu_server: RunningServer) -> None:
    env = {"API_KEY": cpu_server.token}
    first, _ = run_ok(
        "--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks",
        "--server-url", cpu_server.base_url, "--workflow-args", "smoke=true seed=7",
        logs=tmp_path / "first", timeout=900, env=env,
    )  # fmt: skip
    again, output = run_ok("--rerun", str(first), logs=tmp_path / "again", timeout=900, env=env)
    assert f"re-running {first} (benchmarks)" in output
    assert "differs from the original: nothing: same runner, commit and host" in output
    original, repeated = record(first), record(again)
    assert repeated["model_spec"] == original["model_spec"]
    ignored = ("command", "runtime_model_spec_json", "rerun_of")
    assert settings(repeated, ignored) == settings(original, ignored)
    assert repeated["run_config"]["rerun_of"] == str(first)
    assert repeated["run_config"]["runtime_model_spec_json"] == str(first / "runtime_spec.json")
    points = sorted(path.name for path in (again / "benchmarks").glob("*[0-9].json"))
    assert points == sorted(path.name for path in (first / "benchmarks").glob("*[0-9].json"))
