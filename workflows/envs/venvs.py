"""Per-workflow environments under `.workflow_venvs/<name>/`, rebuilt only when they change.

Each environment records a fingerprint (Python version + requirements + wheel builds). A matching
fingerprint means reuse; a different, missing or corrupt one means rebuild, and the log says why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports.results import write_atomic
from workflows import command, paths
from workflows.envs import bootstrap
from workflows.errors import SetupError

log = logging.getLogger(__name__)
VENVS_DIR = paths.VENVS_DIR
STAMP = "readiness-venv.json"
KEEP = frozenset({bootstrap.RUNNER_ENV, bootstrap.DEV_ENV, "bootstrap-uv", "wheels"})
LineSink = Callable[[str], None]


@dataclass(frozen=True)
class WheelBuild:
    """A package compiled from its sdist once, kept as a wheel under `.workflow_venvs/wheels/`."""

    requirement: str
    build_env: Mapping[str, str] = field(default_factory=dict)

    def key(self) -> str:
        """Names the kept wheel: the same requirement and build settings in any checkout."""
        env = json.dumps(dict(self.build_env), sort_keys=True)
        env = env.replace(str(paths.REPO_ROOT), "<repo>")
        digest = hashlib.sha256(f"{self.requirement}|{env}".encode()).hexdigest()[:12]
        return f"{self.requirement.replace('==', '-')}-{digest}"


@dataclass(frozen=True)
class VenvSpec:
    name: str
    requirements: tuple[str, ...] = ()
    no_deps_requirements: tuple[str, ...] = ()
    wheel_builds: tuple[WheelBuild, ...] = ()

    @property
    def path(self) -> Path:
        return VENVS_DIR / self.name

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def fingerprint(self) -> dict[str, Any]:
        return {
            "python": sys.version.split()[0],
            "requirements": sorted(self.requirements),
            "no_deps_requirements": sorted(self.no_deps_requirements),
            "wheel_builds": sorted(build.key() for build in self.wheel_builds),
        }


def wheels_dir() -> Path:
    return VENVS_DIR / "wheels"


def rebuild_reason(spec: VenvSpec) -> str | None:
    """Why the environment must be (re)built, or None if it can be reused."""
    stamp = spec.path / STAMP
    if not spec.python.exists():
        return "it does not exist yet"
    if not stamp.exists():
        return "its fingerprint file is missing"
    try:
        recorded = json.loads(stamp.read_text())
        if not isinstance(recorded, dict):
            raise ValueError("not an object")
    except ValueError:
        return "its fingerprint file is corrupt"
    return _describe_change(recorded, spec.fingerprint())


def _describe_change(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    changes = []
    for key, value in new.items():
        before = old.get(key)
        if before == value:
            continue
        if isinstance(value, list) and isinstance(before, list):
            added = sorted(set(value) - set(before))
            removed = sorted(set(before) - set(value))
            delta = [f"+{a}" for a in added] + [f"-{r}" for r in removed]
            changes.append(f"{key} changed ({' '.join(delta)})")
        else:
            changes.append(f"{key} changed {before} -> {value}")
    return "; ".join(changes) or None


def ensure_venv(spec: VenvSpec, log_path: Path, on_line: LineSink | None = None) -> Path:
    reason = rebuild_reason(spec)
    if reason is None:
        log.debug("reusing environment %s", spec.path)
        return spec.python
    log.info("building environment %s because %s", spec.name, reason)
    shutil.rmtree(spec.path, ignore_errors=True)
    uv = bootstrap.find_uv()
    _checked(
        command.run([uv, "venv", "--python", sys.executable, str(spec.path)], log_path=log_path),
        spec,
        log_path,
    )
    wheels = [build_wheel(build, log_path, on_line) for build in spec.wheel_builds]
    _install(uv, spec, [*map(str, wheels), *spec.requirements], log_path, no_deps=False)
    _install(uv, spec, list(spec.no_deps_requirements), log_path, no_deps=True)
    write_atomic(spec.path / STAMP, json.dumps(spec.fingerprint(), indent=2) + "\n")
    return spec.python


def _install(uv: str, spec: VenvSpec, packages: list[str], log_path: Path, no_deps: bool) -> None:
    if not packages:
        return
    argv = [uv, "pip", "install", "--python", str(spec.python), *packages]
    if no_deps:
        argv.append("--no-deps")
    _checked(command.run(argv, log_path=log_path), spec, log_path)


def build_wheel(build: WheelBuild, log_path: Path, on_line: LineSink | None = None) -> Path:
    """The wheel for `build`, compiled from its sdist unless one is already kept."""
    out_dir = wheels_dir() / build.key()
    existing = sorted(out_dir.glob("*.whl"))
    if existing:
        log.debug("reusing wheel %s", existing[0])
        return existing[0]
    sdist_dir = wheels_dir() / "sdists"
    download = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        build.requirement.partition("==")[0],  # only this one: its build tools come as wheels
        "--dest",
        str(sdist_dir),
        build.requirement,
    ]
    _checked(command.run(download, log_path=log_path), build.requirement, log_path)
    sdist = _find_sdist(sdist_dir, build.requirement)
    argv = [bootstrap.find_uv(), "build", "--wheel", "--out-dir", str(out_dir), str(sdist)]
    result = command.run(argv, env=dict(build.build_env), log_path=log_path, on_line=on_line)
    if not result.ok:
        shutil.rmtree(out_dir, ignore_errors=True)
    _checked(result, build.requirement, log_path)
    return sorted(out_dir.glob("*.whl"))[0]


def _find_sdist(sdist_dir: Path, requirement: str) -> Path:
    name, _, version = requirement.partition("==")
    for path in sorted(sdist_dir.glob("*.tar.gz")):
        dist, _, found_version = path.name.removesuffix(".tar.gz").rpartition("-")
        if _normalised(dist) == _normalised(name) and found_version == version:
            return path
    raise SetupError(f"pip did not download an sdist for {requirement} into {sdist_dir}")


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _checked(result: command.CommandResult, what: VenvSpec | str, log_path: Path) -> None:
    if result.ok:
        return
    name = what.name if isinstance(what, VenvSpec) else what
    raise SetupError(
        f"installing {name} failed (exit {result.returncode}); full output in {log_path}",
        details=relevant_lines(result.output),
    )


def relevant_lines(output: str, limit: int = 10) -> tuple[str, ...]:
    """Lines that mention an error, else the tail: at most `limit` of them."""
    lines = [line for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "failed" in line.lower()]
    return tuple((errors or lines)[-limit:])


def reset_venvs() -> list[str]:
    """Remove every workflow environment (not the runner's own, which is running this)."""
    removed = []
    if VENVS_DIR.is_dir():
        for child in sorted(VENVS_DIR.iterdir()):
            if child.is_dir() and child.name not in KEEP:
                shutil.rmtree(child)
                removed.append(child.name)
    return removed
