"""Shared fixtures: an isolated environment per test, a small registry, a fake vLLM install."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import (
    FAKES,
    REPO_ROOT,
    TINY_REGISTRY,
    CliResult,
    FakeVllm,
    free_port,
    pid_alive,
)
from workflows import cli
from workflows.redact import SECRET_ENV_VARS, forget_secrets
from workflows.servers import provision

__all__ = ["REPO_ROOT", "CliResult", "FakeVllm", "free_port", "pid_alive"]


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No secret, port or logs setting leaks in from the developer's shell or between tests."""
    original = dict(os.environ)
    for name in (*SECRET_ENV_VARS, "SERVICE_PORT", "MODEL_WEIGHTS_DIR", "HF_HUB_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WORKFLOW_LOGS_DIR", str(tmp_path / "workflow_logs"))
    yield
    forget_secrets()
    for handler in list(logging.getLogger().handlers):
        logging.getLogger().removeHandler(handler)
        handler.close()
    monkeypatch.undo()
    leaked = {
        k
        for k in set(original) | set(os.environ)
        if original.get(k) != os.environ.get(k) and k != "PYTEST_CURRENT_TEST"
    }
    assert not leaked, f"the test changed environment variables without monkeypatch: {leaked}"


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run the CLI in this process, as `python3 run.py ARGS` would."""

    def invoke(*args: str) -> CliResult:
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def tiny_registry(tmp_path: Path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY_REGISTRY)
    return folder


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeVllm]:
    """A 'tt-metal + vLLM' install whose server is tests/fakes/vllm; killed after the test."""
    env_dir = tmp_path / "python_env"
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "bin" / "python").symlink_to(sys.executable)
    weights = tmp_path / "weights"
    weights.mkdir()
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        (weights / name).write_text("{}")
    fake = FakeVllm(tmp_path / "fake_vllm.json", weights, free_port())
    host = tmp_path / "host"  # a host with Tenstorrent cards, for the device-node check
    for node in ("dev/tenstorrent/0", "dev/tenstorrent/1"):
        (host / node).mkdir(parents=True)
    monkeypatch.setattr(provision, "HOST_ROOT", host)
    monkeypatch.setenv("PYTHON_ENV_DIR", str(env_dir))
    monkeypatch.setenv("TT_METAL_HOME", str(tmp_path / "tt-metal"))
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(fake.record_path))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(FAKES), str(REPO_ROOT)]))
    yield fake
    if fake.record_path.exists():
        pid = int(str(fake.record()["pid"]))
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
