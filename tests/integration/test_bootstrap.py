"""A fresh clone on a machine with only Python and pip: run.py bootstraps itself, once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]
Run = subprocess.CompletedProcess[str]
BASE_PYTHON = Path(sys.base_prefix) / "bin" / "python3"
LIST_MODELS = ("run.py", "--list-models", "--json")


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    return listed.stdout.splitlines()


def fresh_clone(target: Path) -> Path:
    for name in tracked_files():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / name, destination)
    return target


@pytest.fixture(scope="module")
def bootstrapped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], Run]:
    """A fresh clone after its first run.py, with only Python and pip on the PATH: once for
    the module, since the first run builds a whole environment."""
    clone = fresh_clone(tmp_path_factory.mktemp("bootstrap") / "clone")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_"))}
    env["PATH"] = "/usr/bin:/bin"  # no uv here: the runner must fetch it with pip
    first = subprocess.run(
        [str(BASE_PYTHON), *LIST_MODELS], cwd=clone, env=env, capture_output=True, text=True,
        timeout=900,
    )  # fmt: skip
    return clone, env, first


def test_first_run_gets_uv_and_builds_its_environment_second_run_does_not(
    bootstrapped: tuple[Path, dict[str, str], Run],
) -> None:
    clone, env, first = bootstrapped
    assert first.returncode == 0, first.stderr
    assert "installing uv into .workflow_venvs/bootstrap-uv" in first.stderr
    assert "creating the runner environment" in first.stderr
    assert (clone / ".workflow_venvs" / "bootstrap-uv" / "bin" / "uv").exists()
    assert json.loads(first.stdout)["kind"] == "model_specs"

    started = time.perf_counter()
    second = subprocess.run(
        [str(BASE_PYTHON), *LIST_MODELS], cwd=clone, env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    assert second.returncode == 0 and second.stderr == ""
    assert json.loads(second.stdout) == json.loads(first.stdout)
    print(f"second run: {elapsed:.2f}s")


def test_changed_lock_rebuilds_the_runner_environment(
    bootstrapped: tuple[Path, dict[str, str], Run],
) -> None:
    clone, _env, first = bootstrapped
    assert first.returncode == 0, first.stderr
    argv = [
        sys.executable,
        "-c",
        "import sys; sys.path.insert(0, '.'); from workflows.envs import bootstrap; "
        "print(bootstrap.is_current('runner'))",
    ]
    assert subprocess.run(argv, cwd=clone, capture_output=True, text=True).stdout.strip() == "True"
    with (clone / "pyproject.toml").open("a") as handle:
        handle.write("\n# edited\n")
    assert subprocess.run(argv, cwd=clone, capture_output=True, text=True).stdout.strip() == "False"
