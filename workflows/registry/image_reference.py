"""A Docker image reference checked by the grammar Docker itself parses (the distribution
project's `reference` package): `[host[:port]/]path[:tag][@digest]`, lower-case path components,
a tag of at most 128 word characters, dots and dashes, a name of at most 255 characters."""

from __future__ import annotations

import re

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_NAME = rf"(?:{_HOST}(?::[0-9]+)?/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?")
NAME_MAX = 255


def reference_problem(reference: str) -> str | None:
    """Why `reference` is not an image a registry entry can pin, or None when it is."""
    match = REFERENCE.fullmatch(reference)
    if match is None:
        return (
            f"'{reference}' is not a Docker image reference ([host[:port]/]path[:tag][@digest], "
            "lower-case path)"
        )
    if len(match["name"]) > NAME_MAX:
        return f"'{reference}': the name is longer than {NAME_MAX} characters"
    if match["digest"] is None and match["tag"] in (None, "latest"):
        return f"'{reference}' pins nothing: name a version tag or a digest, not 'latest'"
    return None
