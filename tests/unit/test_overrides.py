"""Overrides give a new RuntimeSpec; the registry's spec is never changed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from workflows.errors import UsageError
from workflows.registry.loader import load_registry
from workflows.run_config import RunConfig, parse_json_object
from workflows.runtime_spec import apply_overrides, build_runtime_spec


def config(**changes: object) -> RunConfig:
    base = RunConfig(model="Tiny-1B-Instruct", device="n150", workflow="server", local_server=True)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_json_null_deletes_and_values_merge(tiny_registry: Path) -> None:
    spec = load_registry(tiny_registry).find("Tiny-1B-Instruct", "n150")
    overridden = apply_overrides(
        spec,
        config(
            override_tt_config=parse_json_object(
                "--override-tt-config", '{"trace_region_size": 5, "keep": null, "new": true}'
            ),
            vllm_override_args=parse_json_object(
                "--vllm-override-args", '{"max_num_seqs": 2, "seed": null}'
            ),
        ),
    )
    assert dict(overridden.override_tt_config) == {"trace_region_size": 5, "new": True}
    assert overridden.vllm_args["max_num_seqs"] == 2 and "seed" not in overridden.vllm_args
    assert spec.override_tt_config["keep"] == 1, "the registry's spec must not change"
    assert spec.vllm_args["max_num_seqs"] == 4


def test_override_image_rederives_version_and_commits(tiny_registry: Path) -> None:
    spec = load_registry(tiny_registry).find("Tiny-1B-Instruct", "n150")
    image = "ghcr.io/acme/server:0.12.0-abcdef123456-0011223344ff"
    overridden = apply_overrides(spec, config(override_docker_image=image))
    assert overridden.docker_image == image and overridden.image_pinned
    assert (overridden.version, overridden.tt_metal_commit, overridden.vllm_commit) == (
        "0.12.0",
        "abcdef123456",
        "0011223344ff",
    )


def test_override_image_with_free_form_tag_keeps_pins(tiny_registry: Path) -> None:
    spec = load_registry(tiny_registry).find("Tiny-1B-Instruct", "n150")
    overridden = apply_overrides(spec, config(override_docker_image="localhost:5000/x:nightly"))
    assert overridden.docker_image == "localhost:5000/x:nightly"
    assert overridden.version == spec.version


def test_dev_mode_selects_the_dev_image(tiny_registry: Path) -> None:
    spec = load_registry(tiny_registry).find("Tiny-1B-Instruct", "n150")
    dev = apply_overrides(spec, config(dev_mode=True))
    assert "vllm-tt-metal-src-dev-ubuntu" in dev.docker_image
    assert "release" in spec.docker_image


@pytest.mark.parametrize("text", ["{bad", "[1, 2]", '"x"'])
def test_malformed_json_is_a_clear_error(text: str) -> None:
    with pytest.raises(UsageError, match="--vllm-override-args: "):
        parse_json_object("--vllm-override-args", text)


def test_runtime_spec_json_has_versions_and_overrides(tiny_registry: Path) -> None:
    spec = load_registry(tiny_registry).find("Tiny-1B-Instruct", "n150")
    runtime = build_runtime_spec(
        spec,
        config(vllm_override_args=parse_json_object("--vllm-override-args", '{"max_num_seqs": 3}')),
        "run-1",
    )
    document = json.loads(runtime.to_json())
    assert document["runner_version"] == (Path(__file__).parents[2] / "VERSION").read_text().strip()
    assert len(document["git_sha"]) in (40, len("unknown"))
    assert document["model_spec"]["vllm_args"]["max_num_seqs"] == 3
    assert document["model_spec"]["device"] == "n150"
    assert document["model_id"] == "id_tt-transformers_Tiny-1B-Instruct_n150"
