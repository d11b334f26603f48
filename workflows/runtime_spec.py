"""RuntimeSpec: the registry spec with the user's overrides applied, frozen and saved as JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from workflows import command
from workflows.paths import REPO_ROOT
from workflows.redact import redact
from workflows.registry.frozen import merge_override, thaw
from workflows.registry.model_spec import ModelSpec, dev_docker_image
from workflows.rerun import host_facts
from workflows.run_config import RunConfig, config_summary

SCHEMA_VERSION = "1"  # its own: runtime_spec.json is read back as an input (--rerun, spec JSON)
_TAG = re.compile(
    r"^(?P<version>\d+\.\d+\.\d+[0-9A-Za-z.+]*)"
    r"(?:-(?P<tt>[0-9a-f]{7,40})-(?P<vllm>[0-9a-f]{7,40}))?$"
)


@dataclass(frozen=True)
class RuntimeSpec:
    spec: ModelSpec
    run_id: str
    runner_version: str
    git_sha: str
    server_mode: str
    service_port: int
    config: dict[str, Any]
    engine_version: str | None = None  # what the engine says of itself, once it is built
    served_model: str | None = None  # the name the server answers to, once it is checked
    # the image a container ran (id, digests, origin), once created; None: no container
    docker_image_used: dict[str, Any] | None = None
    # where the spec came from (workflows.spec_source): the registry, or a spec JSON and how
    # it differs from the registry's entry
    spec_source: dict[str, Any] | None = None

    def to_json(self) -> str:
        document = {
            "schema_version": SCHEMA_VERSION,
            "kind": "runtime_spec",
            "run_id": self.run_id,
            "runner_version": self.runner_version,
            "git_sha": self.git_sha,
            "model_id": self.spec.model_id,
            "engine_version": self.engine_version,
            "served_model": self.served_model,
            "server_mode": self.server_mode,
            "service_port": self.service_port,
            "docker_image_used": self.docker_image_used,
            "spec_source": self.spec_source,
            "command": redact(str(self.config.get("command", ""))),
            "host": host_facts(),
            "model_spec": thaw(self.spec),
            "run_config": self.config,
        }
        return json.dumps(document, indent=2, sort_keys=False) + "\n"


def apply_overrides(spec: ModelSpec, config: RunConfig) -> ModelSpec:
    """A new spec with the command line's overrides merged in; the registry's is untouched."""
    spec = replace(
        spec,
        override_tt_config=merge_override(spec.override_tt_config, config.override_tt_config),
        vllm_args=merge_override(spec.vllm_args, config.vllm_override_args),
    )
    if config.override_docker_image:
        return _with_image(spec, config.override_docker_image)
    if config.dev_mode and not spec.image_pinned:
        return replace(spec, docker_image=dev_docker_image(spec))
    return spec


def _with_image(spec: ModelSpec, image: str) -> ModelSpec:
    """Pin the image and re-derive version and commits from a `<version>-<tt>-<vllm>` tag."""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    match = _TAG.match(tag)
    if not match:
        return replace(spec, docker_image=image, image_pinned=True)
    return replace(
        spec,
        docker_image=image,
        image_pinned=True,
        version=match["version"],
        tt_metal_commit=match["tt"] or spec.tt_metal_commit,
        vllm_commit=match["vllm"] or spec.vllm_commit,
    )


def server_mode(config: RunConfig) -> str:
    if config.local_server:
        return "local"
    if config.docker_server:
        return "docker"
    return "external"


def runner_version() -> str:
    return (REPO_ROOT / "VERSION").read_text().strip()


def git_sha() -> str:
    try:
        result = command.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], timeout=10)
    except OSError:
        return "unknown"
    return result.output.strip() if result.ok else "unknown"


def build_runtime_spec(spec: ModelSpec, config: RunConfig, run_id: str) -> RuntimeSpec:
    return RuntimeSpec(
        spec=apply_overrides(spec, config),
        run_id=run_id,
        runner_version=runner_version(),
        git_sha=git_sha(),
        server_mode=server_mode(config),
        service_port=config.service_port,
        config=dict(config_summary(config)),
    )
