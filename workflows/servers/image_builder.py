"""`scripts/build_images.py`: list or build the images of the pinned specs."""

from __future__ import annotations

import argparse
import logging
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from rich.console import Console

from workflows.envs.venvs import VENVS_DIR, ensure_venv
from workflows.errors import SetupError, UsageError
from workflows.host.weights import resolve_weights
from workflows.paths import MODEL_SPECS_DIR
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import ModelSpec
from workflows.servers import llama_cpp
from workflows.servers.docker_engine import DockerEngine
from workflows.servers.image_builds import (
    DEFAULT_CPU_BASE,
    RECIPE_FILES_LABEL,
    RECIPE_LABEL,
    ImageBuild,
    installed_engine,
    plan_builds,
    recipe_digest,
    recipe_labels,
    stage_cpu_context,
    stage_tt_context,
)

log = logging.getLogger(__name__)


def selected_specs(models: list[str], devices: list[str]) -> list[ModelSpec]:
    registry = load_registry(MODEL_SPECS_DIR)
    for model in models:  # an unknown name gets the registry's own error with suggestions
        registry.find(model, devices[0] if devices else _any_device(registry.specs, model))
    wanted_models = {name.lower() for name in models}
    wanted_devices = {name.lower() for name in devices}
    return [
        spec
        for spec in registry.specs
        if (not wanted_models or spec.model_name.lower() in wanted_models)
        and (not wanted_devices or spec.device.value in wanted_devices)
    ]


def _any_device(specs: tuple[ModelSpec, ...], model: str) -> str:
    for spec in specs:
        if spec.model_name.lower() == model.lower():
            return spec.device.value
    return "cpu"


def build_all(args: argparse.Namespace, environ: Mapping[str, str], scratch: Path) -> int:
    console = Console(highlight=False)
    plan = plan_builds(
        selected_specs(args.model, args.device), args.cpu_base_image or DEFAULT_CPU_BASE
    )
    if not plan:
        raise UsageError("no spec matches --model/--device; see python3 run.py --list-models")
    engine = _engine_or_none(environ) if args.dry_run else DockerEngine.connect(environ)
    statuses = {build.image: _status(build, engine, args.force) for build in plan}
    for build in plan:
        console.out(describe(build, statuses[build.image]))
    if args.dry_run:
        return 0
    assert engine is not None
    for build in plan:
        if statuses[build.image].startswith("to build"):
            _build_one(engine, build, environ, scratch, console)
    return 0


def _engine_or_none(environ: Mapping[str, str]) -> DockerEngine | None:
    try:
        return DockerEngine.connect(environ)
    except SetupError as error:
        log.info("(no Docker engine, so existing images are not checked: %s)", error)
        return None


def _status(build: ImageBuild, engine: DockerEngine | None, force: bool) -> str:
    if build.recipe is None:
        return "upstream: pulled at run time"
    if engine is None:
        return "to build (not checked)"
    if force or not engine.has_image(build.image):
        return "to build"
    if engine.image_label(build.image, RECIPE_LABEL) != recipe_digest(build):
        return "to build (stale: docker/ or pins changed)"
    if engine.image_label(build.image, RECIPE_FILES_LABEL) is None:
        return "to build (built before images carried the labels a run checks)"
    return "exists: skipped"


def describe(build: ImageBuild, status: str) -> str:
    """Two lines per image: its status and models, then what builds it."""
    head = f"[{status}] {build.image}  ({', '.join(build.models)})"
    if build.recipe is None:
        return head + "\n    not built here: the upstream image, pulled on first use"
    args = " ".join(f"--build-arg {key}={value}" for key, value in build.build_args.items())
    return head + f"\n    docker/{build.recipe}/Dockerfile {args}"


def _build_one(
    engine: DockerEngine,
    build: ImageBuild,
    environ: Mapping[str, str],
    scratch: Path,
    console: Console,
) -> None:
    context = scratch / f"readiness-build-{build.recipe}"
    shutil.rmtree(context, ignore_errors=True)
    try:
        if build.recipe == "cpu":
            _stage_cpu(context, build, environ)
        else:
            stage_tt_context(context)
        console.print(f"building {build.image} from docker/{build.recipe} ...")
        labels = recipe_labels(build)
        engine.build(context, build.image, build.build_args, labels, on_line=_log_build_line)
        console.print(f"built {build.image}")
    finally:
        shutil.rmtree(context, ignore_errors=True)


def _stage_cpu(context: Path, build: ImageBuild, environ: Mapping[str, str]) -> None:
    """The GGUF and the engine come from the CPU server's own environment, installed exactly as
    `--local-server` installs it."""
    registry = load_registry(MODEL_SPECS_DIR)
    specs = [spec for spec in registry.specs if spec.docker_image == build.image]
    venv = llama_cpp.server_venv(specs[0])
    install_log = VENVS_DIR / "build-images.log"
    ensure_venv(venv, install_log)
    models = []
    for spec in specs:
        weights = resolve_weights(spec, environ, package_root=venv.path)
        models += [weights.path] if weights.path.is_file() else sorted(weights.path.glob("*.gguf"))
    stage_cpu_context(context, models, installed_engine(venv.path))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _log_build_line(line: str) -> None:
    plain = _ANSI.sub("", line).rstrip()
    if plain.strip():
        log.info("  %s", plain)
