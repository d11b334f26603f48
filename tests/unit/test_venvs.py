"""Workflow environments: fingerprints decide reuse, and every rebuild says why."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from workflows.envs import venvs
from workflows.envs.venvs import VenvSpec, ensure_venv, rebuild_reason, relevant_lines
from workflows.errors import SetupError


@pytest.fixture
def venv_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "venvs"
    monkeypatch.setattr(venvs, "VENVS_DIR", root)
    return root


def test_environment_is_built_stamped_and_then_reused(
    venv_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    spec = VenvSpec(name="tiny")
    assert rebuild_reason(spec) == "it does not exist yet"
    python = ensure_venv(spec, tmp_path / "install.log")
    assert python.exists() and python.parent.parent == venv_root / "tiny"
    assert "building environment tiny because it does not exist yet" in caplog.text
    assert rebuild_reason(spec) is None
    marker = venv_root / "tiny" / "marker"
    marker.write_text("still here")
    ensure_venv(spec, tmp_path / "install.log")
    assert marker.exists(), "a matching fingerprint must reuse the environment"


def test_changed_requirements_rebuild_and_say_what_changed(venv_root: Path, tmp_path: Path) -> None:
    ensure_venv(VenvSpec(name="tiny"), tmp_path / "install.log")
    changed = VenvSpec(name="tiny", no_deps_requirements=("six==1.16.0",))
    assert rebuild_reason(changed) == "no_deps_requirements changed (+six==1.16.0)"


def test_python_change_is_named(venv_root: Path, tmp_path: Path) -> None:
    spec = VenvSpec(name="tiny")
    ensure_venv(spec, tmp_path / "install.log")
    stamp = venv_root / "tiny" / venvs.STAMP
    stamp.write_text(json.dumps(spec.fingerprint() | {"python": "3.10.0"}))
    assert rebuild_reason(spec) == f"python changed 3.10.0 -> {spec.fingerprint()['python']}"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "its fingerprint file is missing"),
        ("{not json", "its fingerprint file is corrupt"),
        ("[1, 2]", "its fingerprint file is corrupt"),
    ],
)
def test_missing_or_corrupt_fingerprint_means_rebuild(
    venv_root: Path, tmp_path: Path, content: str | None, reason: str
) -> None:
    spec = VenvSpec(name="tiny")
    ensure_venv(spec, tmp_path / "install.log")
    stamp = venv_root / "tiny" / venvs.STAMP
    if content is None:
        stamp.unlink()
    else:
        stamp.write_text(content)
    assert rebuild_reason(spec) == reason
    ensure_venv(spec, tmp_path / "install.log")
    assert rebuild_reason(spec) is None


def test_failed_install_points_at_the_log_with_relevant_lines(
    venv_root: Path, tmp_path: Path
) -> None:
    spec = VenvSpec(name="broken", no_deps_requirements=(str(tmp_path / "no-such-dir"),))
    log_path = tmp_path / "install.log"
    with pytest.raises(SetupError) as error:
        ensure_venv(spec, log_path)
    assert f"full output in {log_path}" in error.value.message
    assert error.value.details and len(error.value.details) <= 10
    assert any("no-such-dir" in line for line in error.value.details)
    assert "no-such-dir" in log_path.read_text()
    assert rebuild_reason(spec) is not None, "a failed build must not be stamped as good"


def test_relevant_lines_prefer_errors_then_tail() -> None:
    output = "\n".join([f"line {i}" for i in range(30)] + ["error: boom"])
    assert relevant_lines(output) == ("error: boom",)
    assert relevant_lines("\n".join(f"l{i}" for i in range(30))) == tuple(
        f"l{i}" for i in range(20, 30)
    )


def test_installs_compile_bytecode_except_for_tools_started_once_per_point(
    venv_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under PYTHONDONTWRITEBYTECODE (CI, containers) nothing else would ever write it: every
    lm-eval start compiled its imports again (5.9 s, 1.4 s compiled)."""
    from workflows import command
    from workflows.workflow_load import TOOL_VENVS

    installs: list[list[str]] = []
    real_run = command.run

    def recording(argv: list[str], **kwargs: object) -> command.CommandResult:
        if "install" in argv:
            installs.append(list(argv))
            return command.CommandResult(tuple(argv), 0, "")
        return real_run(argv, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(command, "run", recording)
    ensure_venv(VenvSpec(name="evals-like", requirements=("lm-eval==0.4.13",)), tmp_path / "a.log")
    ensure_venv(TOOL_VENVS["guidellm"], tmp_path / "b.log")
    assert ["--compile-bytecode" in argv for argv in installs] == [True, False]
    from workflows.workflow_evals import VENV as EVALS_VENV
    from workflows.workflow_load import VENV as BENCHMARKS_VENV

    assert EVALS_VENV.compile_bytecode and BENCHMARKS_VENV.compile_bytecode
