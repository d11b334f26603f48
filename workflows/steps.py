"""The run, as a short list of steps, read top to bottom. Each step is a small function of the run
context that returns the context for the next step, or an exit code that ends the run.
Teardown (stopping what the run started) always runs, from the context's exit stack."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

from benchmarking.server_api import ServedModelError, require_served_model
from reports.results import write_atomic
from reports.spec_words import source_words
from workflows import interrupts, server_choice
from workflows.auth import resolve_auth
from workflows.bringup_line import BringUpLine
from workflows.context import RunContext
from workflows.dispatch import WORKFLOWS
from workflows.envs.venvs import VenvSpec, ensure_venv, reset_venvs
from workflows.errors import ExitCode, ServerError
from workflows.host.device_ids import check_device_ids
from workflows.host.system_software import check_system_software
from workflows.ready_wait import DEFAULT_READY_TIMEOUT as DEFAULT_READY_TIMEOUT
from workflows.ready_wait import ready_wait
from workflows.registry.loader import load_registry
from workflows.registry.spec_json import read_spec_json
from workflows.run_config import validate_for_spec
from workflows.run_folder import add_file_log, create_run_folder, new_run_id
from workflows.runtime_spec import RuntimeSpec, build_runtime_spec
from workflows.servers import provision
from workflows.servers.base import Server, check_credentials, reported_version
from workflows.servers.docker_config import container_config, docker_run_command, secret_names
from workflows.spec_source import spec_source
from workflows.workflow_args import name_arg

log = logging.getLogger(__name__)
Step = Callable[[RunContext], "RunContext | ExitCode"]


def resolve_spec(ctx: RunContext) -> RunContext:
    """The registry entry for (model, device, impl), and the flags checked against it."""
    config = ctx.config
    if config.runtime_model_spec_json is not None:
        spec = read_spec_json(config.runtime_model_spec_json)
    else:
        spec = load_registry(ctx.paths.model_specs).find(
            config.model, config.device, config.impl, config.engine
        )
    validate_for_spec(config, spec)
    check_device_ids(spec, config)
    WORKFLOWS[config.workflow].check_spec(spec, config)
    return ctx.with_(spec=spec)


def print_docker_command(ctx: RunContext) -> RunContext | ExitCode:
    """`--print-docker-cmd`: what `--docker-server` would run, for pasting; nothing starts."""
    if not ctx.config.print_docker_cmd:
        return ctx
    spec, config = ctx.the_spec, ctx.config
    run_id = new_run_id(spec.model_name, spec.device.value, config.workflow)
    runtime = build_runtime_spec(spec, config, run_id)
    cfg = container_config(runtime.spec, config, run_id, secret_names(spec, config.no_auth))
    ctx.console.out(docker_run_command(cfg), highlight=False)
    return ExitCode.OK


def open_run_folder(ctx: RunContext) -> RunContext:
    spec, config = ctx.the_spec, ctx.config
    run_id = new_run_id(spec.model_name, spec.device.value, config.workflow)
    folder = create_run_folder(run_id, ctx.paths.logs_root)
    add_file_log(folder.run_log)
    log.info(
        "run %s: %s on %s, workflow %s, server %s",
        run_id,
        spec.model_name,
        spec.device.value,
        config.workflow,
        server_choice.target(config),
    )
    log.debug("run folder %s", folder.path)
    return ctx.with_(folder=folder)


def save_runtime_spec(ctx: RunContext) -> RunContext:
    runtime = build_runtime_spec(ctx.the_spec, ctx.config, ctx.the_folder.run_id)
    source = spec_source(ctx.the_spec, ctx.config, ctx.paths.model_specs)
    runtime = dataclasses.replace(runtime, spec_source=source)
    if (words := source_words(source)) is not None:
        log.warning("the spec comes from %s; the verdict is against it", words)
    write_atomic(ctx.the_folder.runtime_spec, runtime.to_json())
    log.debug("runner %s at %s", runtime.runner_version, runtime.git_sha)
    return ctx.with_(runtime=runtime)


def load_auth(ctx: RunContext) -> RunContext:
    auth = resolve_auth(ctx.secrets, ctx.config.no_auth, generate=ctx.config.starts_server)
    if auth.token and ctx.config.starts_server:  # the user's key for their own server: not copied
        write_atomic(ctx.the_folder.path / "api_token", auth.token + "\n", mode=0o600)
    log.info("auth: %s", auth.source)
    return ctx.with_(auth=auth)


def check_inputs(ctx: RunContext) -> RunContext:
    """Every cheap check of input and host, before anything is built, downloaded or started."""
    provision.check_inputs(ctx)
    expected_model(ctx)  # a served_model= that names nothing fails here, not at the server
    return ctx


def check_host_software(ctx: RunContext) -> RunContext:
    """A Tenstorrent host's firmware and KMD against the spec (tt-smi), before the build."""
    log_path = ctx.the_folder.path / "venv-tt-smi.log"
    check_system_software(ctx.the_spec, ctx.config, ctx.environ, log_path, ctx.console)
    return ctx


def reset_environments(ctx: RunContext) -> RunContext:
    """`--reset-venvs`: the environments are rebuilt from scratch, once every check passed
    (a mistyped flag must not cost the environments' installs)."""
    if ctx.config.reset_venvs:
        reset_only()
    return ctx


def build_environments(ctx: RunContext) -> RunContext:
    """The server's environment (the engine's wheel) and the workflow's own."""
    pythons = dict(ctx.pythons)
    server_env = provision.server_environment(ctx.the_spec, ctx.config.local_server)
    if server_env is not None:
        pythons[server_env.name] = provision.build_server_environment(ctx, server_env)
    for workflow_env in WORKFLOWS[ctx.config.workflow].environments(ctx.config):
        pythons[workflow_env.name] = _build(ctx, workflow_env)
    return ctx.with_(pythons=pythons)


def record_engine_version(ctx: RunContext) -> RunContext:
    """The engine's own version joins runtime_spec.json once the engine is built."""
    version = provision.engine_version(ctx)
    return ctx if version is None else _record_engine(ctx, version)


def _build(ctx: RunContext, venv: VenvSpec) -> Path:
    return ensure_venv(venv, ctx.the_folder.path / f"venv-{venv.name}.log")


def start_server(ctx: RunContext) -> RunContext:
    """Start (or reach) the server; teardown stops it unless the workflow keeps it running."""
    server = provision.create_server(ctx, WORKFLOWS[ctx.config.workflow].keeps_server(ctx.config))
    ctx.teardown.push(_stop_unless_kept(ctx, server))
    wait = ready_wait(ctx.the_spec, ctx.config.workflow_args, server.started_by_runner)
    if server.started_by_runner:
        log.info(
            "starting the %s server on %s", ctx.the_spec.inference_engine.value, server.base_url
        )
    try:
        server.start()
    finally:  # a container that was created but would not start still says what it ran
        ctx = record_image(ctx, server)
    if server.serves_on_start:
        log.info("waiting up to %s for the server to be ready", wait.describe())
        with BringUpLine(ctx.console, server.log_path, wait.seconds) as line:
            waited = server.wait_ready(wait.seconds, why=wait.reason, on_wait=line)
        log.info("server ready at %s after %.1fs", server.base_url, waited)
        check_credentials(server)
    interrupts.check()
    return ctx.with_(server=server)


def record_image(ctx: RunContext, server: Server) -> RunContext:
    """The image a container runs (its id, digests and origin) joins runtime_spec.json; a local
    process or an external server ran none."""
    if server.image_used is None:
        return ctx
    used = server.image_used.to_json()
    return _save_runtime(ctx, dataclasses.replace(ctx.the_runtime, docker_image_used=used))


def expected_model(ctx: RunContext) -> str:
    """The name the server must answer to: `served_model=` if given, else the spec's repo (the
    name every server the runner starts registers, --served-model-name or --alias)."""
    return name_arg(ctx.config.workflow_args, "served_model") or ctx.the_spec.hf_repo


def check_served_model(ctx: RunContext) -> RunContext:
    """A server of another model stops the run before any workflow measures it; the name it
    answers to joins runtime_spec.json, where every workflow reads it."""
    server = ctx.the_server
    if not server.serves_on_start:
        return ctx
    try:
        name = require_served_model(server.base_url, server.headers(), expected_model(ctx))
    except ServedModelError as error:
        raise ServerError(str(error)) from None
    log.info("model: the server serves %s", name)
    return _save_runtime(ctx, dataclasses.replace(ctx.the_runtime, served_model=name))


def record_served_version(ctx: RunContext) -> RunContext:
    """A server the runner did not build (a container, vLLM, one already running) is asked
    what it runs; its answer joins runtime_spec.json."""
    server = ctx.the_server
    if ctx.the_runtime.engine_version is not None or not server.serves_on_start:
        return ctx
    version = reported_version(server.base_url, server.headers())
    if version is None:
        log.debug("engine: the server reports no version")
        return ctx
    return _record_engine(ctx, version)


def _record_engine(ctx: RunContext, version: str) -> RunContext:
    log.info("engine: %s", version)
    return _save_runtime(ctx, dataclasses.replace(ctx.the_runtime, engine_version=version))


def _save_runtime(ctx: RunContext, runtime: RuntimeSpec) -> RunContext:
    """What the run learned of its server joins runtime_spec.json (and the context)."""
    write_atomic(ctx.the_folder.runtime_spec, runtime.to_json())
    return ctx.with_(runtime=runtime)


ExitHook = Callable[[type[BaseException] | None, BaseException | None, TracebackType | None], None]


def _stop_unless_kept(ctx: RunContext, server: Server) -> ExitHook:
    def stop(kind: type[BaseException] | None, *_: object) -> None:
        keep = kind is None and WORKFLOWS[ctx.config.workflow].keeps_server(ctx.config)
        if not (keep and server.exit_code() is None):
            server.stop()

    return stop


DEATH_GRACE_SECONDS = 2.0  # a workflow that failed may have seen its server die a moment early


def _death_after(server: Server, grace: float) -> str | None:
    """The server's death notice, waiting up to `grace` seconds for one."""
    deadline = time.monotonic() + grace
    while (died := server.death_notice()) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    return died


def run_workflow(ctx: RunContext) -> ExitCode:
    """The workflow, against the ready server; a server that died under it ends the run with
    the server's exit status and log tail, whatever the workflow made of it."""
    code = WORKFLOWS[ctx.config.workflow].run(ctx)
    interrupts.check()
    server = ctx.the_server
    failed = code is not ExitCode.OK and server.started_by_runner
    died = _death_after(server, DEATH_GRACE_SECONDS if failed else 0)
    if died and not ctx.config.interactive:
        raise ServerError(f"{died} during the {ctx.config.workflow} workflow", server.log_tail())
    return code


STEPS: Sequence[Step] = (
    resolve_spec,
    print_docker_command,
    open_run_folder,
    save_runtime_spec,
    load_auth,
    check_inputs,
    check_host_software,
    reset_environments,
    build_environments,
    record_engine_version,
    start_server,
    check_served_model,
    record_served_version,
    run_workflow,
)


def execute(ctx: RunContext, steps: Sequence[Step] = STEPS) -> ExitCode:
    """Run the steps in order; the first exit code ends the run; teardown always runs."""
    with ctx.teardown:
        for step in steps:
            log.debug("step %s", step.__name__)
            outcome = step(ctx)
            if isinstance(outcome, ExitCode):
                return outcome
            ctx = outcome
    return ExitCode.OK


def reset_only() -> ExitCode:
    removed = reset_venvs()
    log.info("removed workflow environments: %s", ", ".join(removed) or "none")
    return ExitCode.OK
