"""Per-workflow environments under `.workflow_venvs/<name>/`, rebuilt only when they change.

Each environment records a fingerprint (Python version + requirements). A matching
fingerprint means reuse; a different, missing or corrupt one means rebuild, and the log says why.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reports.results import write_atomic
from workflows import command, paths
from workflows.envs import bootstrap, lock
from workflows.errors import SetupError

log = logging.getLogger(__name__)
VENVS_DIR = paths.VENVS_DIR
STAMP = "readiness-venv.json"
KEEP = frozenset({bootstrap.RUNNER_ENV, bootstrap.DEV_ENV, "bootstrap-uv"})
LineSink = Callable[[str], None]


@dataclass(frozen=True)
class VenvSpec:
    name: str
    requirements: tuple[str, ...] = ()
    no_deps_requirements: tuple[str, ...] = ()
    # Bytecode compiled once, at install: a Python run with PYTHONDONTWRITEBYTECODE (as CI
    # machines and containers often are) never writes it, and compiles every import from source
    # on every start instead (lm-eval's imports: 5.9 s so, 1.4 s compiled; compiling the evals
    # environment takes 24 s on 2 cores, once). Off for a tool started once per point, where
    # compiling its 14,000 files (35 s) costs more than it saves (about 1.5 s a start).
    compile_bytecode: bool = True

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
        }


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
    """The environment's Python, built first if it must be. One run builds at a time: another
    run waits for it (saying so), then reuses what it built."""
    if rebuild_reason(spec) is None:
        log.debug("reusing environment %s", spec.path)
        return spec.python
    with building(spec.name):
        reason = rebuild_reason(spec)
        if reason is None:
            log.info("environment %s: built meanwhile by another run; reusing it", spec.name)
            return spec.python
        return _build(spec, reason, log_path, on_line)


@contextmanager
def building(name: str) -> Iterator[None]:
    """The lock on `.workflow_venvs/<name>.lock`; a wait past the deadline is a SetupError."""
    try:
        with lock.held(VENVS_DIR / f"{name}.lock", f"building the {name} environment", log.info):
            yield
    except lock.LockTimeout as error:
        raise SetupError(str(error)) from None


def _build(spec: VenvSpec, reason: str, log_path: Path, on_line: LineSink | None) -> Path:
    log.info("building environment %s because %s", spec.name, reason)
    shutil.rmtree(spec.path, ignore_errors=True)
    uv = bootstrap.find_uv()
    _checked(
        command.run([uv, "venv", "--python", sys.executable, str(spec.path)], log_path=log_path),
        spec,
        log_path,
    )
    _install(uv, spec, list(spec.requirements), log_path, no_deps=False, on_line=on_line)
    _install(uv, spec, list(spec.no_deps_requirements), log_path, no_deps=True)
    write_atomic(spec.path / STAMP, json.dumps(spec.fingerprint(), indent=2) + "\n")
    return spec.python


def _install(
    uv: str,
    spec: VenvSpec,
    packages: list[str],
    log_path: Path,
    no_deps: bool,
    on_line: LineSink | None = None,
) -> None:
    if not packages:
        return
    argv = [uv, "pip", "install", "--python", str(spec.python), *packages]
    if spec.compile_bytecode:
        argv.append("--compile-bytecode")
    if no_deps:
        argv.append("--no-deps")
    _checked(command.run(argv, log_path=log_path, on_line=on_line), spec, log_path)


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
                with building(child.name):  # never under a run that is building it
                    shutil.rmtree(child)
                removed.append(child.name)
    return removed
