"""`--list-models`: the registry as a table for people, or JSON for programs."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.table import Table

from workflows.errors import ExitCode
from workflows.registry.frozen import thaw
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import UPSTREAM_RELEASE, ModelSpec

COLUMNS = ("model", "device", "impl", "source", "status", "version", "tt-metal", "vllm", "image")


def row(spec: ModelSpec) -> tuple[str, ...]:
    return (
        spec.model_name,
        spec.device.value,
        spec.impl + ("*" if spec.default_impl else ""),
        source(spec),
        spec.status.value,
        spec.version,
        spec.tt_metal_commit or "-",
        spec.vllm_commit or "-",
        spec.docker_image,
    )


def source(spec: ModelSpec) -> str:
    """'upstream' for a spec tt-inference-server's release states, 'ours' for this runner's own."""
    return "ours" if spec.ours_only else "upstream"


def show(model_specs: Path, console: Console, as_json: bool) -> ExitCode:
    specs = sorted(
        load_registry(model_specs).specs, key=lambda s: (s.model_name, s.device.value, s.impl)
    )
    if as_json:
        document = {
            "schema_version": "1",
            "kind": "model_specs",
            "model_specs": [thaw(spec) | {"model_id": spec.model_id} for spec in specs],
        }
        console.out(json.dumps(document, indent=2), highlight=False)
        return ExitCode.OK
    caption = (
        f"* default implementation; source: upstream = as tt-inference-server v{UPSTREAM_RELEASE} "
        "states it, ours = this runner's own (why: `ours_only` in --list-models --json)"
    )
    table = Table(title=f"{len(specs)} model specs", caption=caption)
    for column in COLUMNS:
        table.add_column(column, no_wrap=True)
    for spec in specs:
        table.add_row(*row(spec))
    wide = Console(width=max(console.width, 240)) if not console.is_terminal else console
    wide.print(table)
    return ExitCode.OK
