"""Where a run's spec came from (runtime_spec.json's `spec_source`, written by
workflows.spec_source), in the words of the report and the run log (standard library only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REGISTRY = "registry"
SPEC_FILE = "spec file"
RERUN_RECORD = "rerun record"


def source_words(source: Mapping[str, Any] | None) -> str | None:
    """The spec's origin in a report's words; None for the registry (or a run recorded before
    the source was)."""
    if not source or source.get("from") == REGISTRY:
        return None
    what = "the record of the run it repeats" if source["from"] == RERUN_RECORD else "a spec file"
    differing = source.get("differs_from_registry")
    if differing is None:
        against = "a spec this checkout's registry does not have"
    elif differing:
        against = f"it differs from this checkout's registry in {', '.join(differing)}"
    else:
        against = "the same as this checkout's registry in every field a verdict reads"
    return f"{what} ({source.get('path')}), not the registry: {against}"
