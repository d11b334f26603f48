"""Expand one registry template into one ModelSpec per (weights repo, device)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflows.registry.frozen import EMPTY, FrozenMap, freeze
from workflows.registry.image_reference import reference_problem
from workflows.registry.model_spec import (
    DEFAULT_TENSOR_CACHE_TIMEOUT,
    DEFAULT_TIERS,
    TIER_NAMES,
    Device,
    Engine,
    KnownIssue,
    ModelSpec,
    PerfTarget,
    Status,
    WeightsSource,
    default_min_disk_gb,
    default_min_ram_gb,
    default_vllm_args,
    derived_docker_image,
    model_name_of,
    per_rank_seqs,
)
from workflows.registry.schema import Entry

TEMPLATE_FIELDS = (
    "weights",
    "impl",
    "inference_engine",
    "version",
    "tt_metal_commit",
    "vllm_commit",
    "status",
    "docker_image",
    "min_disk_gb",
    "min_ram_gb",
    "env_vars",
    "vllm_args",
    "weights_source",
    "engine_packages",
    "system_requirements",
    "ours_only",
    "devices",
)
DEVICE_FIELDS = (
    "device",
    "max_concurrency",
    "max_context",
    "default_impl",
    "vllm_args",
    "override_tt_config",
    "env_vars",
    "perf_reference",
    "perf_tiers",
    "known_issues",
    "release_limit_samples_mode",
    "system_requirements",
    "docker_image",
    "tensor_cache_timeout",
    "answers_under_load_min_share",
    "max_repeats",
)
PERF_FIELDS = ("isl", "osl", "concurrency", "num_prompts", "ttft_ms", "tput_user", "tput")
LIMIT_MODES = ("smoke", "ci-commit", "ci-nightly", "ci-long", "full")
KNOWN_ISSUE_FIELDS = ("workflow", "task", "reason")
WEIGHTS_SOURCE_FIELDS = ("format", "package", "path")
WEIGHT_FORMATS = ("hf", "gguf", "meta")


@dataclass(frozen=True)
class _Template:
    entry: Entry
    engine: Engine
    version: str
    status: Status
    tt_metal_commit: str | None
    vllm_commit: str | None


def expand_template(raw: Any, file_label: str, index: int) -> list[ModelSpec]:
    weights_hint = _first_weight(raw)
    entry = Entry(raw, f"{file_label}: template {index} ({weights_hint})", TEMPLATE_FIELDS)
    template = _Template(
        entry=entry,
        engine=entry.choice("inference_engine", Engine),
        version=entry.text("version", required=True) or "",
        status=entry.choice("status", Status),
        tt_metal_commit=entry.text("tt_metal_commit"),
        vllm_commit=entry.text("vllm_commit"),
    )
    weights = entry.texts("weights", required=True)
    devices = [
        Entry(raw_device, f"{entry.where}: devices[{i}]", DEVICE_FIELDS)
        for i, raw_device in enumerate(entry.items("devices", required=True))
    ]
    return [_spec(template, repo, device) for repo in weights for device in devices]


def _first_weight(raw: Any) -> str:
    weights = raw.get("weights") if isinstance(raw, dict) else None
    return str(weights[0]) if isinstance(weights, list) and weights else "no weights"


def _spec(template: _Template, repo: str, device_entry: Entry) -> ModelSpec:
    entry = template.entry
    device = device_entry.choice("device", Device)
    _check_commits(template, device)
    max_context = device_entry.positive_int("max_context") or 0
    max_concurrency = device_entry.positive_int("max_concurrency") or 0
    pinned = _pinned_image(entry, device_entry)
    if device is Device.GPU and not pinned:
        device_entry.fail("docker_image", "a gpu entry must pin the upstream vLLM image")
    return ModelSpec(
        model_name=model_name_of(repo),
        hf_repo=repo,
        device=device,
        impl=entry.text("impl", required=True) or "",
        inference_engine=template.engine,
        version=template.version,
        status=template.status,
        docker_image=pinned
        or derived_docker_image(
            template.engine,
            device,
            template.version,
            template.tt_metal_commit,
            template.vllm_commit,
        ),
        image_pinned=pinned is not None,
        tt_metal_commit=template.tt_metal_commit,
        vllm_commit=template.vllm_commit,
        max_concurrency=max_concurrency,
        max_context=max_context,
        default_impl=device_entry.flag("default_impl"),
        min_disk_gb=entry.number("min_disk_gb") or default_min_disk_gb(repo),
        min_ram_gb=entry.number("min_ram_gb") or default_min_ram_gb(repo),
        weights=_weights_source(entry, repo),
        source_file=entry.where.split(":")[0],
        engine_packages=entry.texts("engine_packages"),
        vllm_args=_vllm_args(template, device_entry, device, max_context, max_concurrency),
        override_tt_config=freeze(device_entry.mapping("override_tt_config")),
        env_vars=freeze(dict(entry.mapping("env_vars")) | dict(device_entry.mapping("env_vars"))),
        perf_reference=tuple(
            _perf_target(device_entry, i, raw)
            for i, raw in enumerate(device_entry.items("perf_reference"))
        ),
        perf_tiers=_perf_tiers(device_entry),
        known_issues=tuple(
            _known_issue(device_entry, i, raw)
            for i, raw in enumerate(device_entry.items("known_issues"))
        ),
        release_limit_samples_mode=_limit_mode(device_entry),
        system_requirements=_system_requirements(entry, device_entry)
        if device.is_tenstorrent
        else EMPTY,
        tensor_cache_timeout=_tensor_cache_timeout(template, device_entry, device),
        ours_only=entry.text("ours_only"),
        max_repeats=device_entry.positive_int("max_repeats", required=False) or 3,
        answers_under_load_min_share=_share(device_entry, "answers_under_load_min_share"),
    )


def _vllm_args(
    template: _Template, device_entry: Entry, device: Device, max_context: int, concurrency: int
) -> FrozenMap:
    """Defaults, then the template's, then the device entry's; with data parallelism each rank
    gets its share of the concurrency unless `max_num_seqs` is given."""
    given = dict(template.entry.mapping("vllm_args")) | dict(device_entry.mapping("vllm_args"))
    ranks = given.get("data_parallel_size", 1)
    if isinstance(ranks, bool) or not isinstance(ranks, int) or ranks <= 0:
        device_entry.fail("vllm_args", f"data_parallel_size must be a positive integer: {ranks!r}")
    if concurrency % ranks:
        device_entry.fail(
            "max_concurrency", f"{concurrency} does not split over data_parallel_size {ranks}"
        )
    seqs = per_rank_seqs(concurrency, ranks)
    args = default_vllm_args(template.engine, device, max_context, seqs) | given
    return freeze(args)  # type: ignore[no-any-return]


def _pinned_image(template: Entry, device_entry: Entry) -> str | None:
    """The image the registry pins (the device entry's, else the template's), checked by the
    rules of a Docker reference; None when the image is derived from the version and commits."""
    for entry in (device_entry, template):
        image = entry.text("docker_image")
        if image is not None:
            problem = reference_problem(image)
            if problem:
                entry.fail("docker_image", problem)
            return image
    return None


def _tensor_cache_timeout(template: _Template, device_entry: Entry, device: Device) -> float | None:
    """The first start's deadline: the entry's, else upstream's default for vLLM on Tenstorrent;
    None where no tensor cache is built (the ready wait then takes the engine's default)."""
    given = device_entry.number("tensor_cache_timeout")
    if given is not None and given <= 0:
        device_entry.fail("tensor_cache_timeout", f"expected seconds above 0, got {given:g}")
    if given is None and template.engine is Engine.VLLM and device.is_tenstorrent:
        return DEFAULT_TENSOR_CACHE_TIMEOUT
    return given


def _share(device_entry: Entry, key: str) -> float:
    """A share above 0 and at most 1; 1.0 when the entry does not give one."""
    share = device_entry.number(key)
    if share is not None and not 0 < share <= 1:
        device_entry.fail(key, f"expected a share above 0 and at most 1, got {share:g}")
    return 1.0 if share is None else share


def _check_commits(template: _Template, device: Device) -> None:
    if template.engine is Engine.VLLM and device.is_tenstorrent:
        for key in ("tt_metal_commit", "vllm_commit"):
            if not template.entry.has(key):
                template.entry.fail(key, f"is required for vLLM on {device.value}")


def _weights_source(entry: Entry, repo: str) -> WeightsSource:
    if not entry.has("weights_source"):
        return WeightsSource(repo=repo)
    source = Entry(
        entry.raw["weights_source"], f"{entry.where}: weights_source", WEIGHTS_SOURCE_FIELDS
    )
    package = source.text("package")
    path = source.text("path")
    if (package is None) != (path is None):
        source.fail("path" if package else "package", "'package' and 'path' go together")
    return WeightsSource(
        repo=repo, format=source.text("format", "hf") or "hf", package=package, package_path=path
    )


def _perf_target(device_entry: Entry, index: int, raw: Any) -> PerfTarget:
    entry = Entry(raw, f"{device_entry.where}: perf_reference[{index}]", PERF_FIELDS)
    return PerfTarget(
        isl=entry.positive_int("isl") or 0,
        osl=entry.positive_int("osl") or 0,
        concurrency=entry.positive_int("concurrency") or 0,
        num_prompts=entry.positive_int("num_prompts", required=False),
        ttft_ms=entry.number("ttft_ms"),
        tput_user=entry.number("tput_user"),
        tput=entry.number("tput"),
    )


def _perf_tiers(device_entry: Entry) -> FrozenMap:
    """The tiers' fractions of `perf_reference`; a map may change some and keep the rest."""
    given = device_entry.mapping("perf_tiers")
    tiers = dict(DEFAULT_TIERS)
    for name, fraction in given.items():
        if name not in TIER_NAMES:
            device_entry.fail(
                "perf_tiers", f"unknown tier '{name}'; tiers: {', '.join(TIER_NAMES)}"
            )
        if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or fraction <= 0:
            device_entry.fail(
                "perf_tiers", f"tier '{name}' needs a fraction above 0, got {fraction!r}"
            )
        tiers[name] = float(fraction)
    return freeze(tiers)  # type: ignore[no-any-return]


REQUIREMENT_KEYS = ("firmware", "kmd")
REQUIREMENT_FIELDS = ("specifier", "mode")
REQUIREMENT_MODES = ("STRICT", "SUGGESTED")


def _system_requirements(template: Entry, device_entry: Entry) -> FrozenMap:
    """Firmware and KMD versions a Tenstorrent host needs; a device entry's requirements replace
    the template's as a whole, as upstream's do."""
    entry = device_entry if device_entry.has("system_requirements") else template
    if not entry.has("system_requirements"):
        return EMPTY
    where = f"{entry.where}: system_requirements"
    section = Entry(entry.raw["system_requirements"], where, REQUIREMENT_KEYS)
    found = {
        key: _requirement(Entry(section.raw[key], f"{where}.{key}", REQUIREMENT_FIELDS))
        for key in REQUIREMENT_KEYS
        if section.has(key)
    }
    return freeze(found)  # type: ignore[no-any-return]


def _requirement(entry: Entry) -> dict[str, str]:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    specifier = entry.text("specifier", required=True) or ""
    try:
        SpecifierSet(specifier)
    except InvalidSpecifier:
        entry.fail("specifier", f"'{specifier}' is not a version specifier such as '>=18.6.0'")
    mode = (entry.text("mode") or "STRICT").upper()
    if mode not in REQUIREMENT_MODES:
        entry.fail("mode", f"'{mode}' is not {' or '.join(REQUIREMENT_MODES)}")
    return {"specifier": specifier, "mode": mode}


def _limit_mode(device_entry: Entry) -> str | None:
    mode = device_entry.text("release_limit_samples_mode")
    if mode is not None and mode not in LIMIT_MODES:
        device_entry.fail(
            "release_limit_samples_mode", f"'{mode}' is not one of {', '.join(LIMIT_MODES)}"
        )
    return mode


def _known_issue(device_entry: Entry, index: int, raw: Any) -> KnownIssue:
    entry = Entry(raw, f"{device_entry.where}: known_issues[{index}]", KNOWN_ISSUE_FIELDS)
    return KnownIssue(
        workflow=entry.text("workflow", required=True) or "",
        task=entry.text("task"),
        reason=entry.text("reason", required=True) or "",
    )
