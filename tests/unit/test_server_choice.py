"""No silent default server (issue 22, item 4): a run says on its first line which server it
targets; with no server flag and nothing answering at the default it refuses to start, naming
the three ways to choose one."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.helpers import CliResult, Emulator, free_port
from workflows.errors import UsageError
from workflows.run_config import RunConfig
from workflows.server_choice import refuse_silent_default, target

Run = Callable[..., CliResult]
CPU = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu"]
BASE = RunConfig(model="m", device="cpu", workflow="benchmarks", service_port=8123)


def test_with_no_flag_and_nothing_at_the_default_the_run_is_refused(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("SERVICE_PORT", str(port))
    result = run_cli(*CPU, "--workflow", "benchmarks")
    assert result.code == 2, result.out + result.err
    [line] = result.err.strip().splitlines()
    assert f"no server chosen, and nothing answers at http://127.0.0.1:{port}" in line
    for flag in ("--local-server", "--docker-server", "--server-url"):
        assert flag in line
    assert not (tmp_path / "workflow_logs").exists(), "nothing starts: no run folder"


def test_with_no_flag_a_server_at_the_default_is_named_on_the_first_line(
    run_cli: Run, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = emulator("--model", "HuggingFaceTB/SmolLM2-135M-Instruct")
    port = urlparse(url).port
    monkeypatch.setenv("SERVICE_PORT", str(port))
    result = run_cli(*CPU, "--workflow", "spec_tests", "--workflow-args", "only=models_list")
    assert result.code == 0, result.out + result.err
    first = result.out.splitlines()[0]
    assert first.startswith("INFO") and "run " in first, first
    assert f"server http://127.0.0.1:{port} (no server flag: the one already running" in first


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"server_url": "http://gpu-box:8000"}, "server http://gpu-box:8000 (--server-url)"),
        ({"local_server": True}, "a local server started on 127.0.0.1:8123"),
        ({"docker_server": True}, "a Docker container started on 127.0.0.1:8123"),
        ({}, "http://127.0.0.1:8123 (no server flag: the one already running there)"),
    ],
)
def test_each_way_of_choosing_is_said(changes: dict[str, object], said: str) -> None:
    config = dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]
    assert said.removeprefix("server ") in target(config)


def test_a_chosen_server_is_never_probed() -> None:
    def probe(host: str, port: int) -> bool:
        raise AssertionError(f"probed {host}:{port}")

    for changes in ({"server_url": "http://x:1"}, {"local_server": True}):
        refuse_silent_default(dataclasses.replace(BASE, **changes), probe)
    with pytest.raises(UsageError, match=r"nothing answers at http://127\.0\.0\.1:8123"):
        refuse_silent_default(BASE, lambda host, port: False)
    refuse_silent_default(BASE, lambda host, port: (host, port) == ("127.0.0.1", 8123))
