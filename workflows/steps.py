"""The run, as a short list of steps. Each is a small function; teardown always runs."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from workflows import interrupts
from workflows.auth import Auth, load_secrets, resolve_auth
from workflows.dispatch import WORKFLOWS
from workflows.docker_config import container_config, docker_run_command, secret_names
from workflows.errors import ExitCode
from workflows.model_spec import ModelSpec
from workflows.registry import load_registry
from workflows.run_config import RunConfig, validate
from workflows.run_folder import (
    REPO_ROOT,
    RunFolder,
    add_file_log,
    create_run_folder,
    new_run_id,
    write_atomic,
)
from workflows.runtime_spec import RuntimeSpec, build_runtime_spec
from workflows.servers.base import Server
from workflows.servers.provision import create_server
from workflows.venvs import reset_venvs
from workflows.warmup import capture_traces, warmup_lengths
from workflows.workflow_args import number_arg

log = logging.getLogger(__name__)
DEFAULT_READY_TIMEOUT = {"llama_cpp": 300.0, "vllm": 1200.0}
EXTERNAL_READY_TIMEOUT = 30.0  # a server that already runs should answer at once


@dataclass(frozen=True)
class Paths:
    model_specs: Path
    logs_root: Path
    dotenv: Path


def reset_only() -> ExitCode:
    removed = reset_venvs()
    log.info("removed workflow environments: %s", ", ".join(removed) or "none")
    return ExitCode.OK


def execute(
    config: RunConfig, console: Console, paths: Paths, environ: Mapping[str, str]
) -> ExitCode:
    if config.reset_venvs:
        reset_only()
    spec = resolve_spec(config, paths.model_specs)
    if config.print_docker_cmd:
        return print_docker_command(spec, config, console)
    folder = open_run_folder(config, spec, paths.logs_root)
    runtime = save_runtime_spec(spec, config, folder)
    auth = load_auth(config, environ, paths.dotenv, folder)
    with running_server(runtime, config, auth, folder, console, environ) as server:
        return WORKFLOWS[config.workflow].run(runtime, config, server, folder, console)


def print_docker_command(spec: ModelSpec, config: RunConfig, console: Console) -> ExitCode:
    """What `--docker-server` would run, for pasting; nothing is started."""
    run_id = new_run_id(spec.model_name, spec.device.value, config.workflow)
    runtime = build_runtime_spec(spec, config, run_id)
    cfg = container_config(runtime.spec, config, run_id, secret_names(spec, config.no_auth))
    console.out(docker_run_command(cfg), highlight=False)
    return ExitCode.OK


def resolve_spec(config: RunConfig, model_specs: Path) -> ModelSpec:
    spec = load_registry(model_specs).find(config.model, config.device, config.impl)
    validate(config, spec.device.is_tenstorrent)
    return spec


def open_run_folder(config: RunConfig, spec: ModelSpec, logs_root: Path) -> RunFolder:
    folder = create_run_folder(
        new_run_id(spec.model_name, spec.device.value, config.workflow), logs_root
    )
    add_file_log(folder.run_log)
    log.info(
        "run %s: %s on %s, workflow %s",
        folder.run_id,
        spec.model_name,
        spec.device.value,
        config.workflow,
    )
    log.debug("run folder %s", folder.path)
    return folder


def save_runtime_spec(spec: ModelSpec, config: RunConfig, folder: RunFolder) -> RuntimeSpec:
    runtime = build_runtime_spec(spec, config, folder.run_id)
    write_atomic(folder.runtime_spec, runtime.to_json())
    log.debug(
        "runner %s at %s; runtime spec %s",
        runtime.runner_version,
        runtime.git_sha,
        folder.runtime_spec,
    )
    return runtime


def load_auth(
    config: RunConfig, environ: Mapping[str, str], dotenv: Path, folder: RunFolder
) -> Auth:
    found = load_secrets(environ, dotenv)
    auth = resolve_auth(found, config.no_auth, generate=config.starts_server)
    if auth.token:
        write_atomic(token_file(folder), auth.token + "\n", mode=0o600)
    log.info("auth: %s", auth.source)
    return auth


def token_file(folder: RunFolder) -> Path:
    return folder.path / "api_token"


@contextmanager
def running_server(
    runtime: RuntimeSpec,
    config: RunConfig,
    auth: Auth,
    folder: RunFolder,
    console: Console,
    environ: Mapping[str, str],
) -> Iterator[Server]:
    """Start (or reach) the server; stop it afterwards unless it is meant to keep running."""
    server = create_server(runtime.spec, config, auth, folder, console, environ)
    keep = False
    try:
        bring_up(server, runtime.spec, config)
        interrupts.check()
        yield server
        interrupts.check()
        keep = WORKFLOWS[config.workflow].keeps_server(config)
    finally:
        if not keep:
            server.stop()


def bring_up(server: Server, spec: ModelSpec, config: RunConfig) -> None:
    default = (
        DEFAULT_READY_TIMEOUT[spec.inference_engine.value]
        if server.started_by_runner
        else EXTERNAL_READY_TIMEOUT
    )
    timeout = number_arg(config.workflow_args, "ready_timeout", default)
    if server.started_by_runner:
        log.info("starting the %s server on %s", spec.inference_engine.value, server.base_url)
    server.start()
    if not server.serves_on_start:
        return
    waited = server.wait_ready(timeout)
    log.info("server ready at %s after %.1fs", server.base_url, waited)
    if (
        config.workflow == "server"
        and not config.disable_trace_capture
        and server.started_by_runner
    ):
        lengths = warmup_lengths(spec.max_context, spec.device.is_tenstorrent)
        durations = capture_traces(server.base_url, server.headers(), spec.hf_repo, lengths)
        log.info(
            "trace capture: %d requests (%s tokens) in %.1fs",
            len(lengths),
            ", ".join(map(str, lengths)),
            sum(durations),
        )


def default_paths(environ: Mapping[str, str] = os.environ) -> Paths:
    """Repo defaults; WORKFLOW_LOGS_DIR moves the run folders (CI keeps them elsewhere)."""
    from workflows.registry import MODEL_SPECS_DIR
    from workflows.run_folder import LOGS_ROOT

    logs_root = (
        Path(environ["WORKFLOW_LOGS_DIR"]) if environ.get("WORKFLOW_LOGS_DIR") else LOGS_ROOT
    )
    return Paths(model_specs=MODEL_SPECS_DIR, logs_root=logs_root, dotenv=REPO_ROOT / ".env")
