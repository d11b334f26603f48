"""The run context: everything a step needs, filled in as the run goes (spec, folder, auth...)."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from rich.console import Console

from workflows.auth import Auth
from workflows.paths import LOGS_ROOT, MODEL_SPECS_DIR, REPO_ROOT
from workflows.run_config import RunConfig
from workflows.secrets import Secrets

if TYPE_CHECKING:
    from workflows.registry.model_spec import ModelSpec
    from workflows.run_folder import RunFolder
    from workflows.runtime_spec import RuntimeSpec
    from workflows.servers.base import Server

T = TypeVar("T")


@dataclass(frozen=True)
class Paths:
    model_specs: Path
    logs_root: Path
    dotenv: Path


def default_paths(environ: Mapping[str, str]) -> Paths:
    """Repo defaults; WORKFLOW_LOGS_DIR moves the run folders (CI keeps them elsewhere)."""
    logs = Path(environ["WORKFLOW_LOGS_DIR"]) if environ.get("WORKFLOW_LOGS_DIR") else LOGS_ROOT
    return Paths(model_specs=MODEL_SPECS_DIR, logs_root=logs, dotenv=REPO_ROOT / ".env")


@dataclass(frozen=True)
class RunContext:
    """What the user asked for and where, then what each step found or made."""

    config: RunConfig
    console: Console
    paths: Paths
    environ: Mapping[str, str]
    secrets: Secrets
    teardown: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    spec: ModelSpec | None = None
    folder: RunFolder | None = None
    runtime: RuntimeSpec | None = None
    auth: Auth | None = None
    pythons: Mapping[str, Path] = field(default_factory=dict)  # environment name -> python
    server: Server | None = None

    def with_(self, **changes: object) -> RunContext:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def the_spec(self) -> ModelSpec:
        return _present(self.runtime.spec if self.runtime else self.spec, "the model spec")

    @property
    def the_folder(self) -> RunFolder:
        return _present(self.folder, "the run folder")

    @property
    def the_runtime(self) -> RuntimeSpec:
        return _present(self.runtime, "the runtime spec")

    @property
    def the_auth(self) -> Auth:
        return _present(self.auth, "auth")

    @property
    def the_server(self) -> Server:
        return _present(self.server, "the server")


def _present(value: T | None, what: str) -> T:
    if value is None:
        raise RuntimeError(f"step order: {what} is needed before the step that provides it")
    return value
