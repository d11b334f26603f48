"""`--runtime-model-spec-json`: a ModelSpec from JSON (a run folder's `runtime_spec.json`, or a
bare ModelSpec as `--list-models --json` prints one), validated as strictly as a registry entry:
it is turned back into a registry template and expanded by the same code, then checked to be
the very spec the JSON describes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from workflows.registry.frozen import thaw
from workflows.registry.model_spec import ModelSpec, dev_docker_image
from workflows.registry.schema import RegistryError
from workflows.registry.templates import expand_template

SPEC_FIELDS = tuple(field.name for field in dataclasses.fields(ModelSpec))
DERIVED = ("model_name", "source_file", "image_pinned")  # follow from the other fields


def read_spec_json(path: Path) -> ModelSpec:
    """The spec in `path`; any problem is one RegistryError naming the file and the field."""
    where = str(path)
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise RegistryError(f"{where}: cannot read it ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RegistryError(f"{where}: not valid JSON ({error})") from None
    if isinstance(document, dict) and document.get("kind") == "runtime_spec":
        document = document.get("model_spec")
        where += ": model_spec"
    return spec_from_json(document, where)


def spec_from_json(raw: Any, where: str) -> ModelSpec:
    if not isinstance(raw, dict):
        raise RegistryError(f"{where}: expected a ModelSpec object, got {type(raw).__name__}")
    unknown = sorted(set(raw) - set(SPEC_FIELDS) - {"model_id"})
    missing = sorted(set(SPEC_FIELDS) - set(raw) - set(DERIVED) - _optional())
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if missing:
        raise RegistryError(f"{where}: missing field(s) {', '.join(missing)}")
    [spec] = expand_template(_template(raw), where, 0)
    spec = _with_dev_image(spec, raw)
    _check_same(spec, raw, where)
    # the registry file it first came from, if the JSON says; the run records the JSON's path
    return dataclasses.replace(spec, source_file=str(raw.get("source_file") or where))


def _optional() -> set[str]:
    return {
        field.name
        for field in dataclasses.fields(ModelSpec)
        if field.default is not dataclasses.MISSING
        or field.default_factory is not dataclasses.MISSING
    }


def _template(raw: dict[str, Any]) -> dict[str, Any]:
    """The registry template (one weights repo, one device) that expands to this spec."""
    weights = raw.get("weights") or {}
    device: dict[str, Any] = {
        "device": raw.get("device"),
        "max_concurrency": raw.get("max_concurrency"),
        "max_context": raw.get("max_context"),
        "default_impl": raw.get("default_impl", False),
        "vllm_args": raw.get("vllm_args") or {},
        "override_tt_config": raw.get("override_tt_config") or {},
        "env_vars": raw.get("env_vars") or {},
        "perf_reference": raw.get("perf_reference") or [],
        "perf_tiers": raw.get("perf_tiers") or {},
        "known_issues": raw.get("known_issues") or [],
        "release_limit_samples_mode": raw.get("release_limit_samples_mode"),
        "system_requirements": raw.get("system_requirements") or {},
        "tensor_cache_timeout": raw.get("tensor_cache_timeout"),
        "answers_under_load_min_share": raw.get("answers_under_load_min_share"),
        "max_repeats": raw.get("max_repeats"),
    }
    if raw.get("image_pinned"):
        device["docker_image"] = raw.get("docker_image")
    template: dict[str, Any] = {
        "weights": [raw.get("hf_repo")],
        "impl": raw.get("impl"),
        "inference_engine": raw.get("inference_engine"),
        "version": raw.get("version"),
        "status": raw.get("status"),
        "min_disk_gb": raw.get("min_disk_gb"),
        "min_ram_gb": raw.get("min_ram_gb"),
        "engine_packages": raw.get("engine_packages") or [],
        "ours_only": raw.get("ours_only"),
        "devices": [_without_nulls(device)],
    }
    for key in ("tt_metal_commit", "vllm_commit"):
        if raw.get(key) is not None:
            template[key] = raw[key]
    if isinstance(weights, dict) and (
        weights.get("package") or weights.get("format", "hf") != "hf"
    ):
        template["weights_source"] = _without_nulls(
            {
                "format": weights.get("format"),
                "package": weights.get("package"),
                "path": weights.get("package_path"),
            }
        )
    return _without_nulls(template)


def _with_dev_image(spec: ModelSpec, raw: dict[str, Any]) -> ModelSpec:
    """A spec recorded by a `--dev-mode` run names the development image it derived."""
    if raw.get("image_pinned") or raw.get("docker_image") == spec.docker_image:
        return spec
    dev = dev_docker_image(spec)
    return dataclasses.replace(spec, docker_image=dev) if raw.get("docker_image") == dev else spec


def _without_nulls(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _check_same(spec: ModelSpec, raw: dict[str, Any], where: str) -> None:
    """Fields the expansion derives must agree with what the JSON says."""
    rebuilt = thaw(spec)
    for key in SPEC_FIELDS:
        if key in raw and key != "source_file" and _normal(rebuilt[key]) != _normal(raw[key]):
            raise RegistryError(
                f"{where}: field '{key}': {json.dumps(raw[key])} does not follow from the rest "
                f"of the spec (it gives {json.dumps(rebuilt[key])})"
            )
    if "model_id" in raw and raw["model_id"] not in _accepted_ids(spec):
        raise RegistryError(f"{where}: field 'model_id': expected {spec.model_id}")


def _accepted_ids(spec: ModelSpec) -> tuple[str, str]:
    """Today's id, and the one earlier runs wrote (the impl's key with underscores), so an
    older runtime_spec.json still reruns."""
    return spec.model_id, f"id_{spec.impl}_{spec.model_name}_{spec.device.value}"


def _normal(value: Any) -> Any:
    """Numbers compared as numbers (JSON keeps 4096 and 4096.0 apart)."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    return value
