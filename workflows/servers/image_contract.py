"""What a published Tenstorrent vLLM image accepts after its name, by the image's version.

Facts from upstream tt-inference-server's Dockerfiles and entrypoints (docs in README, Docker):
- before 0.11.0 the image's entrypoint runs its own command (the server, which takes no flags and
  reads its spec from the JSON that TT_MODEL_SPEC_JSON_PATH names): any argument after the image
  replaces that command, so the container cannot start. Upstream v0.20.0 refuses these images.
- from 0.11.0 its server takes --model, --tt-device, --no-auth, --disable-trace-capture and
  --service-port, and hands every other flag to vLLM, over its built-in spec's defaults.
- the TT config reaches vLLM as --override-tt-config JSON before 0.15.0, as --plugin-config
  {"tt": JSON} in 0.15 and as --additional-config {"tt": JSON} from 0.16.0 (vLLM's TT plugin).
The image built from docker/vllm-tt-metal takes the 0.11.0 contract whatever its tag says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

TAKES_ARGUMENTS_FROM = (0, 11, 0)
PLUGIN_CONFIG_FROM = (0, 15, 0)
ADDITIONAL_CONFIG_FROM = (0, 16, 0)
_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?")


def image_version(version: str) -> tuple[int, int, int] | None:
    """'0.10.0' -> (0, 10, 0); None for a tag that names no version ('dev', 'latest')."""
    match = _VERSION.match(version)
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def published_image_takes_arguments(version: str) -> bool:
    """Whether the published image of this version accepts the runner's arguments (a version
    that cannot be read counts as the newest contract, as upstream counts it)."""
    parsed = image_version(version)
    return parsed is None or parsed >= TAKES_ARGUMENTS_FROM


def tt_config_flags(version: str, tt_config: Mapping[str, object]) -> list[str]:
    """The vLLM flag, and its value, that carries the TT config into this image's vLLM."""
    if not tt_config:
        return []
    config = dict(tt_config)
    parsed = image_version(version)
    if parsed is None or parsed >= ADDITIONAL_CONFIG_FROM:
        return ["--additional-config", json.dumps({"tt": config})]
    if parsed >= PLUGIN_CONFIG_FROM:
        return ["--plugin-config", json.dumps({"tt": config})]
    return ["--override-tt-config", json.dumps(config)]


def no_arguments_reason(image: str, version: str) -> str:
    """Why the published `image` (a version before 0.11.0) cannot run the runner's command."""
    return (
        f"the published {image} (version {version}, before 0.11.0) takes no arguments: its "
        "server reads its spec from a mounted JSON (TT_MODEL_SPEC_JSON_PATH), and upstream "
        "v0.20.0 refuses it; this command needs the image built from docker/vllm-tt-metal"
    )
