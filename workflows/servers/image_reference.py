"""Docker image references checked for syntax before anything talks to an engine or registry."""

from __future__ import annotations

import re

from workflows.errors import UsageError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_DOMAIN = rf"(?:{_HOST}(?::[0-9]+)?|\[[0-9A-Fa-f:]+\](?::[0-9]+)?)"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(
    rf"^(?:(?P<domain>{_DOMAIN})/)?(?P<path>{_COMPONENT}(?:/{_COMPONENT})*)"
    rf"(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?$"
)
MAX_NAME = 255


def is_valid_reference(image: str) -> bool:
    match = _REFERENCE.match(image)
    if match is None:
        return False
    name = (match["domain"] + "/" if match["domain"] else "") + match["path"]
    return len(name) <= MAX_NAME


def check_image_reference(image: str, what: str) -> str:
    if not is_valid_reference(image):
        raise UsageError(
            f"{what} '{image}' is not a valid Docker image reference; write it as "
            "[registry[:port]/]name[:tag][@sha256:digest], e.g. ghcr.io/org/image:1.0"
        )
    return image
