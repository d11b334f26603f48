"""The registry says what upstream tt-inference-server v0.20.0 says, field by field.

`data/upstream/` holds upstream's expanded catalogue (its `release_model_spec.json`, LLM specs
served by vLLM; see the README there). Every spec of ours that is not `ours_only` is compared with
upstream's spec for the same (weights repo, device, implementation); a difference passes only
when EXCEPTIONS names it with a reason. To follow a new upstream release, replace the data file
(scripts/upstream_specs.py), bump UPSTREAM_RELEASE, and read what this test reports.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO_ROOT
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import UPSTREAM_RELEASE, ModelSpec
from workflows.servers.local_vllm import tt_environment

UPSTREAM_FILE = Path(__file__).parent / "data" / "upstream" / "release_model_spec-v0.20.0-llm.json"

# (model_id pattern, field) -> why ours differs from upstream's. Keep it short: each entry is a
# difference a reviewer has agreed to.
EXCEPTIONS: dict[tuple[str, str], str] = {
    # Upstream reads the size off the name and finds none in 'DeepSeek-R1-0528', so it checks no
    # disk or RAM; the registry's minimum (20 GB disk, 8 GB RAM) still applies here.
    ("id_deepseek-r1-galaxy_DeepSeek-R1-0528_galaxy", "min_disk_gb"): "upstream checks none",
    ("id_deepseek-r1-galaxy_DeepSeek-R1-0528_galaxy", "min_ram_gb"): "upstream checks none",
}

# Upstream's specs this registry does not carry, by (hf_repo, DEVICE) -> why.
NOT_CARRIED: dict[tuple[str, str], str] = {
    ("meta-llama/Llama-3.1-8B", "GPU"): "upstream's runner starts no GPU server; ours is our own",
    ("meta-llama/Llama-3.1-8B-Instruct", "GPU"): "as above",
    ("deepseek-ai/DeepSeek-R1-0528", "DUAL_GALAXY"): "a multi-host device this runner lacks",
    ("deepseek-ai/DeepSeek-R1-0528", "QUAD_GALAXY"): "a multi-host device this runner lacks",
}

# Waivers (known_issues) are compared by workflow and task, not by wording: the reasons here are
# upstream's, shortened to one line with the issue they cite. Upstream's eval task names that
# differ from this runner's:
OUR_TASK_NAMES = {"meta_ifeval": "ifeval"}


def upstream_document() -> dict[str, Any]:
    return json.loads(UPSTREAM_FILE.read_text())  # type: ignore[no-any-return]


def upstream_entry(document: Mapping[str, Any], spec: ModelSpec) -> Mapping[str, Any] | None:
    by_device = document["model_specs"].get(spec.hf_repo, {})
    by_engine = by_device.get(spec.device.value.upper(), {})
    return by_engine.get("vLLM", {}).get(spec.impl)  # type: ignore[no-any-return]


def number(value: Any) -> Any:
    """Numbers as floats rounded to 6 places, so 36, 36.0 and 36.00000001 agree."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return round(float(value), 6)


def texts(mapping: Mapping[str, Any]) -> dict[str, str]:
    """A mapping's values as the text a command line or an environment carries."""
    return {
        key: json.dumps(value) if isinstance(value, dict) else str(value)
        for key, value in mapping.items()
    }


def our_perf(spec: ModelSpec) -> list[tuple[Any, ...]]:
    return [
        (
            p.isl,
            p.osl,
            p.concurrency,
            p.num_prompts,
            number(p.ttft_ms),
            number(p.tput_user),
            number(p.tput),
        )
        for p in spec.perf_reference
    ]


def our_tiers(spec: ModelSpec) -> list[dict[str, tuple[Any, ...]]]:
    """Each point's figures per tier as the verdict judges them: a time over the tier's
    fraction, a throughput times it (reports/targets.py)."""
    return [
        {
            tier: (
                number(p.ttft_ms / fraction) if p.ttft_ms is not None else None,
                number(p.tput_user * fraction) if p.tput_user is not None else None,
                number(p.tput * fraction) if p.tput is not None else None,
            )
            for tier, fraction in spec.perf_tiers.items()
        }
        for p in spec.perf_reference
    ]


def their_tiers(device_spec: Mapping[str, Any]) -> list[dict[str, tuple[Any, ...]]]:
    return [
        {
            tier: (number(t.get("ttft_ms")), number(t.get("tput_user")), number(t.get("tput")))
            for tier, t in point["targets"].items()
        }
        for point in device_spec["perf_reference"]
    ]


def their_perf(device_spec: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Upstream's points with the theoretical figures (its 'target' tier is 100% of them)."""
    rows = []
    for point in device_spec["perf_reference"]:
        target = point["targets"].get("target", {})
        rows.append(
            (
                point["isl"],
                point["osl"],
                point["max_concurrency"],
                point["num_prompts"],
                number(target.get("ttft_ms")),
                number(target.get("tput_user")),
                number(target.get("tput")),
            )
        )
    return rows


def ours(spec: ModelSpec) -> dict[str, Any]:
    """The fields compared, as this registry expands them."""
    return {
        "model_id": spec.model_id,
        "inference_engine": spec.inference_engine.value,
        "status": spec.status.value,
        "version": spec.version,
        "tt_metal_commit": spec.tt_metal_commit,
        "vllm_commit": spec.vllm_commit,
        "docker_image": spec.docker_image,
        "max_concurrency": spec.max_concurrency,
        "max_context": spec.max_context,
        "default_impl": spec.default_impl,
        "vllm_args": texts(spec.vllm_args),
        "override_tt_config": dict(spec.override_tt_config),
        "env_vars": texts(tt_environment(spec, ())),
        "tensor_cache_timeout": number(spec.tensor_cache_timeout),
        "system_requirements": {k: dict(v) for k, v in spec.system_requirements.items()},
        "perf_reference": our_perf(spec),
        "perf_tiers": our_tiers(spec),
        "known_issues": sorted((i.workflow, i.task) for i in spec.known_issues),
        "min_disk_gb": number(spec.min_disk_gb),
        "min_ram_gb": number(spec.min_ram_gb),
    }


def theirs(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The same fields as upstream's release_model_spec.json states them."""
    device = entry["device_model_spec"]
    vllm_args = {
        k: v for k, v in device["vllm_args"].items() if k not in ("model", "additional_config")
    }
    return {
        "model_id": entry["model_id"],
        "inference_engine": entry["inference_engine"].lower(),
        "status": entry["status"].lower(),
        "version": entry["version"],
        "tt_metal_commit": entry["tt_metal_commit"],
        "vllm_commit": entry["vllm_commit"],
        "docker_image": entry["docker_image"],
        "max_concurrency": device["max_concurrency"],
        "max_context": device["max_context"],
        "default_impl": device["default_impl"],
        "vllm_args": texts(vllm_args),
        "override_tt_config": device["override_tt_config"],
        "env_vars": texts(entry["env_vars"]),
        "tensor_cache_timeout": number(device["tensor_cache_timeout"]),
        "system_requirements": {k: v for k, v in (entry["system_requirements"] or {}).items() if v},
        "perf_reference": their_perf(device),
        "perf_tiers": their_tiers(device),
        "known_issues": sorted(
            (i["workflow_type"].lower(), OUR_TASK_NAMES.get(i["task_name"], i["task_name"]))
            for i in device["known_issues"]
        ),
        "min_disk_gb": number(entry["min_disk_gb"]),
        "min_ram_gb": number(entry["min_ram_gb"]),
    }


def excepted(model_id: str, field: str) -> str | None:
    for (pattern, name), reason in EXCEPTIONS.items():
        if name == field and fnmatch.fnmatchcase(model_id, pattern):
            return reason
    return None


def shared_specs() -> Iterator[tuple[ModelSpec, Mapping[str, Any]]]:
    document = upstream_document()
    for spec in load_registry().specs:
        entry = upstream_entry(document, spec)
        if entry is not None and not spec.ours_only:
            yield spec, entry


def differences() -> list[tuple[str, str, Any, Any]]:
    found = []
    for spec, entry in shared_specs():
        mine, upstream = ours(spec), theirs(entry)
        for field, value in mine.items():
            if value != upstream[field]:
                found.append((spec.model_id, field, value, upstream[field]))
    return found


def test_the_data_is_upstreams_release_this_registry_follows() -> None:
    assert upstream_document()["release_version"] == UPSTREAM_RELEASE


def test_every_spec_of_ours_is_upstreams_or_says_it_is_ours() -> None:
    document = upstream_document()
    for spec in load_registry().specs:
        twin = upstream_entry(document, spec)
        if spec.ours_only:
            assert twin is None, f"{spec.model_id} is marked ours_only, but upstream has it"
        else:
            assert twin is not None, (
                f"{spec.model_id}: upstream has no such spec; mark it ours_only"
            )


def test_shared_specs_agree_field_by_field_but_for_the_listed_exceptions() -> None:
    unexplained = [
        f"{model_id} {field}: ours {mine!r}, upstream {theirs_!r}"
        for model_id, field, mine, theirs_ in differences()
        if excepted(model_id, field) is None
    ]
    assert not unexplained, "\n".join(unexplained)


def test_every_exception_still_excuses_a_difference() -> None:
    """An exception nothing needs any more is removed, so the list stays short and true."""
    used = {
        (pattern, field)
        for model_id, field, _, _ in differences()
        for pattern, name in EXCEPTIONS
        if name == field and fnmatch.fnmatchcase(model_id, pattern)
    }
    assert set(EXCEPTIONS) <= used, f"unused exceptions: {sorted(set(EXCEPTIONS) - used)}"


@pytest.mark.parametrize(
    "field", ["model_id", "docker_image", "vllm_args", "perf_reference", "perf_tiers"]
)
def test_the_comparison_would_see_a_change_in(field: str) -> None:
    """The comparison is not vacuous: changing a field of upstream's data shows up."""
    spec, entry = next(shared_specs())
    upstream = theirs(entry)
    upstream[field] = "changed"
    assert ours(spec)[field] != upstream[field]


def test_the_shipped_data_is_what_the_script_keeps_of_upstreams_file(tmp_path: Path) -> None:
    """Whole vLLM LLM entries only; an image model or another engine is dropped."""
    document = upstream_document()
    widened = json.loads(json.dumps(document))
    widened["model_specs"]["acme/Picture"] = {"N150": {"media": {"x": {"model_type": "IMAGE"}}}}
    forge = {"f": {"model_type": "LLM", "inference_engine": "forge"}}
    widened["model_specs"]["meta-llama/Llama-3.1-8B"]["N150"]["forge"] = forge
    source, kept = tmp_path / "release_model_spec.json", tmp_path / "kept.json"
    source.write_text(json.dumps(widened))
    script = REPO_ROOT / "scripts" / "upstream_specs.py"
    subprocess.run([sys.executable, str(script), str(source), str(kept)], check=True, timeout=60)
    assert json.loads(kept.read_text()) == document


def test_every_upstream_spec_is_here_or_listed_as_not_carried() -> None:
    upstreams = [spec for spec in load_registry().specs if not spec.ours_only]
    ours_ = {(spec.hf_repo, spec.device.value.upper(), spec.impl) for spec in upstreams}
    missing = []
    for repo, devices in upstream_document()["model_specs"].items():
        for device, engines in devices.items():
            for impl in engines.get("vLLM", {}):
                if (repo, device, impl) not in ours_ and (repo, device) not in NOT_CARRIED:
                    missing.append(f"{repo} on {device} ({impl})")
    assert not missing, "upstream specs missing here: " + ", ".join(missing)
    carried = {(repo, device) for repo, device, _ in ours_}
    assert not set(NOT_CARRIED) & carried, "carried now: drop it from NOT_CARRIED"
