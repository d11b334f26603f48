"""The images the registry pins, and how to build the ones this repo owns (`docker/`).

Pure planning and build-context staging; the build itself goes through the Docker wrapper.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflows.errors import SetupError
from workflows.paths import REPO_ROOT
from workflows.registry.model_spec import Device, Engine, ModelSpec

DOCKER_DIR = REPO_ROOT / "docker"
DEFAULT_CPU_BASE = "python:3.11-slim-bookworm"
TT_METAL_BASE = "ghcr.io/tenstorrent/tt-metal/tt-metalium-ubuntu-22.04-release-amd64"
ENGINE_PACKAGE = "xllamacpp"
RECIPE_LABEL = "readiness.recipe"  # the recipe digest of an image built here
RECIPE_FOLDER_LABEL = "readiness.recipe.folder"  # docker/<recipe>, the folder it was built from
RECIPE_FILES_LABEL = "readiness.recipe.files"  # the digest of that folder's files at the build
RECIPE_ARGS_LABEL = "readiness.recipe.args"  # the build args (JSON): the pins it was built with
USER_CHOSEN_ARGS = ("BASE_IMAGE",)  # build_images.py --cpu-base-image: a choice, not a pin
CURRENT = "current"  # built from this checkout's docker/ folder and pins
UNCHECKED = "unchecked"  # built before images carried what a check needs


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
            "ENGINE_REQUIREMENT": spec.engine_packages[0] if spec.engine_packages else "",
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
        _add_folder(digest, build.recipe)
    return digest.hexdigest()[:16]


def folder_digest(recipe: str) -> str:
    """The digest of docker/<recipe>'s files as this checkout has them."""
    digest = hashlib.sha256()
    _add_folder(digest, recipe)
    return digest.hexdigest()[:16]


def _add_folder(digest: Any, recipe: str) -> None:
    for path in sorted((DOCKER_DIR / recipe).rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(DOCKER_DIR)).encode())
            digest.update(path.read_bytes())


def recipe_labels(build: ImageBuild) -> dict[str, str]:
    """The labels a build of ours carries: what it was built from, for the run that uses it."""
    assert build.recipe is not None
    return {
        RECIPE_LABEL: recipe_digest(build),
        RECIPE_FOLDER_LABEL: f"docker/{build.recipe}",
        RECIPE_FILES_LABEL: folder_digest(build.recipe),
        RECIPE_ARGS_LABEL: json.dumps(build.build_args, sort_keys=True),
    }


def recipe_state(labels: Mapping[str, str], spec: ModelSpec) -> str:
    """Whether an image of ours was built from this checkout's recipe for `spec`: CURRENT,
    UNCHECKED (built before images carried the labels), or `stale: ` and what changed since
    (the folder's files, a pinned build arg); the base image is the builder's choice."""
    recipe = recipe_for(spec)
    built_args = labels.get(RECIPE_ARGS_LABEL)
    if recipe is None or built_args is None or RECIPE_FILES_LABEL not in labels:
        return UNCHECKED
    changes = [] if labels[RECIPE_FILES_LABEL] == folder_digest(recipe) else [f"docker/{recipe}/"]
    built = json.loads(built_args)
    wanted = build_args_for(spec, str(built.get("BASE_IMAGE", DEFAULT_CPU_BASE)))
    changes += [
        f"{key} (built with {built.get(key, 'none')}, pinned now {value})"
        for key, value in sorted(wanted.items())
        if key not in USER_CHOSEN_ARGS and built.get(key) != value
    ]
    return f"stale: {' and '.join(changes)} changed since the build" if changes else CURRENT


def stage_cpu_context(
    destination: Path, model_files: Iterable[Path], engine: Iterable[Path]
) -> Path:
    """The CPU image's build context: docker/cpu, the GGUF file(s), and the engine's package
    folders (the xllamacpp package and its metadata) under engine/."""
    shutil.copytree(DOCKER_DIR / "cpu", destination, dirs_exist_ok=True)
    models = destination / "models"
    models.mkdir(exist_ok=True)
    for model_file in model_files:
        _link_or_copy(model_file, models / model_file.name)
    target = destination / "engine"
    target.mkdir(exist_ok=True)
    for folder in engine:
        shutil.copytree(folder, target / folder.name, copy_function=_link_or_copy_function)
    return destination


def stage_tt_context(destination: Path) -> Path:
    shutil.copytree(DOCKER_DIR / "vllm-tt-metal", destination, dirs_exist_ok=True)
    return destination


def installed_engine(venv_root: Path) -> list[Path]:
    """The engine's package folder and its dist-info in an environment's site-packages."""
    for site in sorted(venv_root.glob("lib/python3*/site-packages")):
        package = site / ENGINE_PACKAGE
        if (package / "__init__.py").is_file():
            return [package, *sorted(site.glob(f"{ENGINE_PACKAGE}-*.dist-info"))]
    raise SetupError(f"no {ENGINE_PACKAGE} package in {venv_root}; rebuild it with --reset-venvs")


def _link_or_copy_function(source: str, target: str) -> None:
    _link_or_copy(Path(source), Path(target))


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        target.unlink()
    try:
        target.hardlink_to(source)
    except OSError:
        shutil.copy2(source, target)
