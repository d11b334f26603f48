"""What scripts/build_images.py builds, tagged as the registry derives it, and the CPU image's
build context (the engine's installed package, the GGUF), without an engine."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from workflows.errors import SetupError
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import ModelSpec
from workflows.servers import image_builder, image_builds
from workflows.servers.image_builder import build_all
from workflows.servers.image_builds import (
    CURRENT,
    RECIPE_LABEL,
    UNCHECKED,
    ImageBuild,
    installed_engine,
    plan_builds,
    recipe_digest,
    recipe_labels,
    recipe_state,
    stage_cpu_context,
)


def test_plan_has_one_build_per_pinned_image() -> None:
    specs = load_registry().specs
    plan = {build.image: build for build in plan_builds(specs, cpu_base="base:1")}
    assert set(plan) == {spec.docker_image for spec in specs}
    cpu = plan["local/readiness-llama-cpp-cpu:0.1.0"]
    assert cpu.recipe == "cpu" and cpu.models == ("SmolLM2-135M-Instruct",)
    assert cpu.build_args == {
        "BASE_IMAGE": "base:1",
        "ENGINE_REQUIREMENT": "xllamacpp==2026.10.11549",
    }
    tag = "ghcr.io/tenstorrent/tt-inference-server/vllm-tt-metal-src-release-ubuntu-22.04-amd64"
    llama = plan[f"{tag}:0.9.0-25305db-6e67d2d"]
    assert llama.recipe == "vllm-tt-metal"
    assert {"Llama-3.1-8B-Instruct", "Llama-3.1-8B"} <= set(llama.models)
    assert llama.build_args["TT_METAL_COMMIT"] == "25305db"
    assert llama.build_args["VLLM_COMMIT"] == "6e67d2d"
    assert plan["vllm/vllm-openai:v0.13.0"].recipe is None, "the upstream gpu image is pulled"


def test_recipe_digest_follows_pins() -> None:
    build = ImageBuild("x:1", "cpu", {"BASE_IMAGE": "a"}, ("M",))
    assert recipe_digest(build) == recipe_digest(
        ImageBuild("x:1", "cpu", {"BASE_IMAGE": "a"}, ("M",))
    )
    assert recipe_digest(build) != recipe_digest(
        ImageBuild("x:1", "cpu", {"BASE_IMAGE": "b"}, ("M",))
    )


def make_venv(root: Path) -> Path:
    """An environment with the engine installed as uv installs it: package and dist-info."""
    site = root / "lib" / "python3.11" / "site-packages"
    (site / "xllamacpp").mkdir(parents=True)
    (site / "xllamacpp" / "__init__.py").write_text("__version__ = '1'\n")
    (site / "xllamacpp" / "xllamacpp.abi3.so").write_bytes(b"\x7fELF")
    (site / "xllamacpp-1.dist-info").mkdir()
    (site / "xllamacpp-1.dist-info" / "METADATA").write_text("Name: xllamacpp\n")
    (site / "requests").mkdir()
    return root


def test_installed_engine_is_the_package_and_its_metadata(tmp_path: Path) -> None:
    folders = installed_engine(make_venv(tmp_path / "venv"))
    assert [folder.name for folder in folders] == ["xllamacpp", "xllamacpp-1.dist-info"]


def test_environment_without_the_engine_is_refused(tmp_path: Path) -> None:
    (tmp_path / "venv" / "lib" / "python3.11" / "site-packages").mkdir(parents=True)
    with pytest.raises(SetupError, match=r"no xllamacpp package in .*--reset-venvs"):
        installed_engine(tmp_path / "venv")


def test_cpu_context_holds_recipe_launcher_model_and_engine(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    engine = installed_engine(make_venv(tmp_path / "venv"))
    context = stage_cpu_context(tmp_path / "context", [model], engine)
    for name in ("Dockerfile", "install.sh", "src/entrypoint.sh", "src/llama_server.py"):
        assert (context / name).is_file(), name
    assert (context / "models" / "m.gguf").read_bytes() == b"GGUF"
    assert (context / "engine" / "xllamacpp" / "xllamacpp.abi3.so").read_bytes() == b"\x7fELF"
    assert (context / "engine" / "xllamacpp-1.dist-info" / "METADATA").is_file()
    assert not (context / "engine" / "requests").exists(), "only the engine, not the whole venv"


def test_dry_run_lists_without_an_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        model=["SmolLM2-135M-Instruct"],
        device=[],
        dry_run=True,
        cpu_base_image="readiness/debian-python:bookworm",
        force=False,
    )
    environ = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    assert build_all(args, environ, tmp_path) == 0
    out = capsys.readouterr().out
    assert "[to build (not checked)] local/readiness-llama-cpp-cpu:0.1.0" in out
    assert "--build-arg BASE_IMAGE=readiness/debian-python:bookworm" in out
    assert list(tmp_path.iterdir()) == [], "a dry run stages nothing"


def cpu_build_for(spec: ModelSpec, base: str = "base:1") -> ImageBuild:
    [build] = plan_builds([spec], cpu_base=base)
    return build


def test_an_image_of_this_checkouts_recipe_is_current_whatever_base_it_was_built_on() -> None:
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    labels = recipe_labels(cpu_build_for(spec, base="local/debootstrap-base:1"))
    assert recipe_state(labels, spec) == CURRENT


def test_an_image_built_before_a_pin_moved_is_stale_naming_the_pin() -> None:
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    labels = recipe_labels(cpu_build_for(spec))
    moved = dataclasses.replace(spec, engine_packages=("xllamacpp==2027.1.1",))
    assert recipe_state(labels, moved) == (
        "stale: ENGINE_REQUIREMENT (built with xllamacpp==2026.10.11549, "
        "pinned now xllamacpp==2027.1.1) changed since the build"
    )


def test_an_image_built_before_its_docker_folder_changed_is_stale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "Dockerfile").write_text("FROM base\n")
    monkeypatch.setattr(image_builds, "DOCKER_DIR", tmp_path)
    labels = recipe_labels(cpu_build_for(spec))
    assert recipe_state(labels, spec) == CURRENT
    (tmp_path / "cpu" / "Dockerfile").write_text("FROM base\nRUN true\n")
    assert recipe_state(labels, spec) == "stale: docker/cpu/ changed since the build"


def test_an_image_without_the_labels_is_unchecked() -> None:
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    old_build = {RECIPE_LABEL: recipe_digest(cpu_build_for(spec))}
    assert recipe_state(old_build, spec) == UNCHECKED


class LabelledImages:
    """An engine that has each image with the labels given."""

    def __init__(self, labels: dict[str, dict[str, str]]) -> None:
        self.labels = labels

    def has_image(self, image: str) -> bool:
        return image in self.labels

    def image_label(self, image: str, key: str) -> str | None:
        return self.labels[image].get(key)


@pytest.mark.parametrize(
    ("labels", "status"),
    [
        ("current", "exists: skipped"),
        ("recipe only", "to build (built before images carried the labels a run checks)"),
        ("other pins", "to build (stale: docker/ or pins changed)"),
    ],
)
def test_build_images_rebuilds_what_a_run_could_not_check(labels: str, status: str) -> None:
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    build = cpu_build_for(spec)
    full = recipe_labels(build)
    have = {
        "current": full,
        "recipe only": {RECIPE_LABEL: full[RECIPE_LABEL]},
        "other pins": recipe_labels(ImageBuild(build.image, "cpu", {"BASE_IMAGE": "x"})),
    }[labels]
    engine = LabelledImages({build.image: have})
    assert image_builder._status(build, engine, force=False) == status  # type: ignore[arg-type]
