"""The image a container actually ran, for the run's record: its id, its registry digests, and
where it came from. A build of `scripts/build_images.py` is tagged exactly as the registry pins
upstream's image, so the reference alone cannot tell ours from upstream's published one."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.image_words import image_origin
from workflows.servers.docker_engine import split_reference
from workflows.servers.image_builds import RECIPE_FOLDER_LABEL, RECIPE_LABEL

BUILT_HERE = "built here"  # it carries our recipe label: built from docker/ on some machine
PULLED = "pulled"  # it has a registry digest
UNKNOWN = "local, unknown origin"  # neither: loaded, or built by someone else's recipe


@dataclass(frozen=True)
class ImageUsed:
    reference: str  # what the container was created from (the spec's pinned image)
    image_id: str  # sha256:...
    repo_digests: tuple[str, ...]  # repo@sha256:... for an image from (or pushed to) a registry
    origin: str  # BUILT_HERE, PULLED or UNKNOWN
    recipe_digest: str | None = None  # our recipe label's value, for a build of ours
    recipe_folder: str | None = None  # docker/<recipe>, for a build of ours
    recipe_state: str | None = None  # a build of ours: current, unchecked, or stale: what changed

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "id": self.image_id,
            "repo_digests": list(self.repo_digests),
            "origin": self.origin,
            "recipe_digest": self.recipe_digest,
            "recipe_folder": self.recipe_folder,
            "recipe_state": self.recipe_state,
        }


def image_used(
    reference: str,
    image_id: str,
    repo_digests: Sequence[str],
    labels: Mapping[str, str],
    recipe_folder: str | None = None,
    recipe_check: Callable[[Mapping[str, str]], str] | None = None,
) -> ImageUsed:
    """The record of an image as the engine describes it; `recipe_folder` is the folder the
    spec's image is built from, for builds from before the folder was labelled; `recipe_check`
    says from the labels whether a build of ours is of this checkout's recipe."""
    digests = _own_repository_first(reference, repo_digests)
    recipe = labels.get(RECIPE_LABEL)
    if recipe:
        folder = labels.get(RECIPE_FOLDER_LABEL) or recipe_folder
        state = recipe_check(labels) if recipe_check else None
        return ImageUsed(reference, image_id, digests, BUILT_HERE, recipe, folder, state)
    return ImageUsed(reference, image_id, digests, PULLED if digests else UNKNOWN)


def _own_repository_first(reference: str, repo_digests: Sequence[str]) -> tuple[str, ...]:
    """The digest of the reference's own repository first (an image can be known under more)."""
    repository = split_reference(reference)[0]
    return tuple(sorted(repo_digests, key=lambda digest: digest.split("@", 1)[0] != repository))


def describe(image: ImageUsed) -> str:
    """One line for the run log, the origin in the report's words."""
    return f"{image.reference} ({image.image_id}): {image_origin(image.to_json())}"
