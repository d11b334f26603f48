"""The image a run's container ran, as runtime_spec.json records it (`docker_image_used`), in
the words the report, the run log and the results store's notes use (standard library only:
the server's start imports it too)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def image_used(runtime: Mapping[str, Any]) -> Mapping[str, Any]:
    """What runtime_spec.json records of the image a container ran; empty where none ran (a
    local process, an external server) or the run predates the record."""
    return runtime.get("docker_image_used") or {}


def image_origin(used: Mapping[str, Any]) -> str | None:
    """Where the image came from, in words: a build of ours (the folder and recipe digest its
    label names), a registry's (its digest), or neither."""
    origin = used.get("origin")
    if origin == "built here":
        folder = f" from {used['recipe_folder']}" if used.get("recipe_folder") else ""
        state = used.get("recipe_state") or ""
        stale = f" ({state})" if state.startswith("stale") else ""
        return f"built here{folder}, recipe {used.get('recipe_digest')}{stale}"
    if origin == "pulled" and used.get("repo_digests"):
        return f"pulled, {used['repo_digests'][0].rpartition('@')[2]}"
    return None if origin is None else str(origin)


def image_difference(
    theirs: tuple[object, object], mine: tuple[object, object], whose: str = "the baseline"
) -> str | None:
    """A sentence when two runs' containers ran different images, each given as (id, origin
    words); None when they ran the same, or either ran none or did not record it."""
    if theirs[0] is None or mine[0] is None or theirs == mine:
        return None
    return (
        f"{whose} ran image {_short(theirs[0])} ({theirs[1] or 'origin unknown'}), "
        f"this run {_short(mine[0])} ({mine[1] or 'origin unknown'})"
    )


def _short(image_id: object) -> str:
    return str(image_id).removeprefix("sha256:")[:12]
