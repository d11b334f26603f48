"""Standard-library-only bootstrap: make sure the runner's own environment exists, then enter it.

`run.py` imports this module before anything third-party is importable. It finds `uv` (on PATH,
or installed with pip into a bootstrap venv), syncs `.workflow_venvs/<env>` from `pyproject.toml`
and `uv.lock`, stamps it with a fingerprint and re-executes the caller inside it. When the stamp
matches, none of that happens: the cost is two small file reads and one hash.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reports.results import write_atomic  # standard library only, as this module must be
from workflows.envs import lock
from workflows.paths import REPO_ROOT, VENVS_DIR

RUNNER_ENV = "runner"
DEV_ENV = "dev"
FINGERPRINT_FILE = ".readiness-fingerprint"
BOOTSTRAP_LOG = VENVS_DIR / "bootstrap.log"
LAYOUT = "2"  # bump when the way environments are built changes


class BootstrapError(RuntimeError):
    """The runner's own environment could not be created."""


def env_dir(name: str) -> Path:
    return VENVS_DIR / name


def env_python(path: Path) -> Path:
    return path / "bin" / "python"


def _dependency_groups(name: str) -> tuple[str, ...]:
    return ("dev",) if name == DEV_ENV else ()


def fingerprint(name: str) -> str:
    """Hash of what the environment is built from: lock, project file, Python, groups."""
    digest = hashlib.sha256(LAYOUT.encode())
    for source in ("pyproject.toml", "uv.lock"):
        digest.update((REPO_ROOT / source).read_bytes())
    digest.update(sys.version.encode())
    digest.update(",".join(_dependency_groups(name)).encode())
    return digest.hexdigest()


def is_current(name: str) -> bool:
    stamp = env_dir(name) / FINGERPRINT_FILE
    try:
        return stamp.read_text().strip() == fingerprint(name)
    except OSError:
        return False


def running_inside(name: str) -> bool:
    return Path(sys.prefix).resolve() == env_dir(name).resolve()


def find_uv() -> str:
    """Path of a `uv` binary: on PATH, or pip-installed into `.workflow_venvs/bootstrap-uv`."""
    import shutil
    import venv

    on_path = shutil.which("uv")
    if on_path:
        return on_path
    bootstrap = env_dir("bootstrap-uv")
    uv_bin = bootstrap / "bin" / "uv"
    if uv_bin.exists():
        return str(uv_bin)
    with _building("bootstrap-uv"):
        if not uv_bin.exists():
            _say("installing uv into .workflow_venvs/bootstrap-uv (first run only)")
            venv.EnvBuilder(with_pip=True, clear=True).create(bootstrap)
            _run_logged([str(env_python(bootstrap)), "-m", "pip", "install", "--quiet", "uv"])
    return str(uv_bin)


def sync_env(name: str) -> Path:
    """Create or update the environment from uv.lock and stamp it."""
    target = env_dir(name)
    uv = find_uv()
    _say(f"creating the {name} environment in .workflow_venvs/{name} (first run only)")
    argv = [
        uv,
        "sync",
        "--frozen",
        "--no-install-project",
        "--compile-bytecode",
        "--python",
        sys.executable,
    ]
    argv += [arg for group in _dependency_groups(name) for arg in ("--group", group)]
    if not _dependency_groups(name):
        argv.append("--no-dev")
    env = dict(os.environ, UV_PROJECT_ENVIRONMENT=str(target))
    _run_logged(argv, env=env)
    write_atomic(target / FINGERPRINT_FILE, fingerprint(name) + "\n")
    return target


def ensure_env(name: str) -> Path:
    if not is_current(name):
        with _building(name):
            if not is_current(name):  # another run may have built it while this one waited
                sync_env(name)
    return env_dir(name)


@contextmanager
def _building(name: str) -> Iterator[None]:
    """One run builds `name` at a time (workflows/envs/lock.py); the others wait, saying so."""
    try:
        with lock.held(VENVS_DIR / f"{name}.lock", f"building the {name} environment", _say):
            yield
    except lock.LockTimeout as error:
        raise BootstrapError(str(error)) from None


def reexec_inside(name: str, script: Path, argv: list[str]) -> None:
    """Replace this process with the same script run by the environment's interpreter."""
    python = env_python(ensure_env(name))
    os.execv(str(python), [str(python), str(script), *argv])


def _run_logged(argv: list[str], env: dict[str, str] | None = None) -> None:
    from workflows import command  # stdlib only; imported on the slow path alone

    VENVS_DIR.mkdir(parents=True, exist_ok=True)
    result = command.run(argv, env=env, log_path=BOOTSTRAP_LOG)
    if not result.ok:
        raise BootstrapError(
            f"`{Path(argv[0]).name} {' '.join(argv[1:3])}` failed (exit {result.returncode}); "
            f"see {BOOTSTRAP_LOG}"
        )


def _say(message: str) -> None:
    print(f"[bootstrap] {message}", file=sys.stderr, flush=True)
