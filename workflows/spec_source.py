"""Where a run's spec came from, for its record and its report: the registry, or a spec JSON
(`--runtime-model-spec-json`, or the record a `--rerun` repeats), and then in which of the fields
a verdict reads it differs from this checkout's registry entry. A verdict against a spec of the
user's own is still a verdict, but the report must not say its targets came from the registry."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from reports.spec_words import REGISTRY, RERUN_RECORD, SPEC_FILE
from workflows.errors import ReadinessError
from workflows.registry.frozen import thaw
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig

log = logging.getLogger(__name__)
# what acceptance reads of a spec: a difference here can change the verdict
JUDGED_FIELDS = (
    "status",
    "perf_reference",
    "perf_tiers",
    "known_issues",
    "release_limit_samples_mode",
    "answers_under_load_min_share",
    "max_repeats",
)


def spec_source(spec: ModelSpec, config: RunConfig, registry_dir: Path) -> dict[str, Any]:
    """{"from", "path", "differs_from_registry"}: the judged fields that differ from the
    registry's entry for the same (model, device, impl, engine), or None when the registry has
    no such entry."""
    if config.runtime_model_spec_json is None:
        return {"from": REGISTRY, "path": str(registry_dir), "differs_from_registry": []}
    origin = RERUN_RECORD if config.rerun_of else SPEC_FILE
    source = {"from": origin, "path": str(config.runtime_model_spec_json)}
    try:
        entry = load_registry(registry_dir).find(
            spec.model_name, spec.device.value, spec.impl, spec.inference_engine.value
        )
    except ReadinessError as error:
        log.debug("the spec's registry entry: %s", error.message)
        return source | {"differs_from_registry": None}
    mine, theirs = thaw(spec), thaw(entry)
    differing = [name for name in JUDGED_FIELDS if mine.get(name) != theirs.get(name)]
    return source | {"differs_from_registry": differing}
