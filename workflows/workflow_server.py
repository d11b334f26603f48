"""The `server` workflow: bring the server up, warm it, and say how to use it and stop it."""

from __future__ import annotations

import json
import logging
import shlex
from pathlib import Path

from benchmarking.trace_capture import TraceCaptureError, capture_traces, warmup_lengths
from workflows.context import RunContext
from workflows.envs.venvs import VenvSpec
from workflows.errors import ExitCode, ServerError, UsageError
from workflows.paths import MODEL_SPECS_DIR, REPO_ROOT
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig
from workflows.servers.base import Server
from workflows.workflow_args import RUNNER_KEYS, reject_unknown_keys

log = logging.getLogger(__name__)
TOKEN_FILE = "api_token"  # the token of a server the runner started, 0600
ACCEPTED_ARGS = RUNNER_KEYS  # the server workflow takes the runner's own arguments only


class ServerWorkflow:
    name = "server"

    def check_args(self, config: RunConfig) -> None:
        reject_unknown_keys("server", config.workflow_args, ACCEPTED_ARGS)
        if not (config.starts_server or config.server_url):
            raise UsageError(
                "--workflow server needs --local-server or --docker-server "
                "(or --server-url to check a server that already runs)"
            )

    def environments(self, config: RunConfig) -> tuple[VenvSpec, ...]:
        del config
        return ()

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        del spec, config

    def keeps_server(self, config: RunConfig) -> bool:
        """A plain `server` run leaves the server up; -it runs it in the foreground instead."""
        return not config.interactive

    def run(self, ctx: RunContext) -> ExitCode:
        server = ctx.the_server
        if ctx.config.interactive:
            return server.interact(ctx.console)
        if server.started_by_runner and not ctx.config.disable_trace_capture:
            warm_up(ctx, server)
        ctx.console.print(connection_help(ctx, server), markup=False)
        return ExitCode.OK


def warm_up(ctx: RunContext, server: Server) -> None:
    """Trace capture: one short request per padded prompt length the device compiles."""
    spec = ctx.the_spec
    lengths = warmup_lengths(spec.max_context, spec.device.is_tenstorrent)
    try:
        durations = capture_traces(server.base_url, server.headers(), served_name(ctx), lengths)
    except TraceCaptureError as error:
        raise ServerError(str(error), server.log_tail()) from None
    shown = ", ".join(map(str, lengths))
    log.info("trace capture: %d requests (%s tokens) in %.1fs", len(lengths), shown, sum(durations))


def served_name(ctx: RunContext) -> str:
    """The name the server answers to, as the runner checked it."""
    return ctx.the_runtime.served_model or ctx.the_spec.hf_repo


def token_reference(ctx: RunContext, server: Server) -> str:
    """How a shell command names the token: the run's token file for a server the runner
    started, else the user's own variable (never copied into the run folder)."""
    if server.started_by_runner:
        return f"$(cat {_token_path(ctx)})"
    if server.auth.source == "API_KEY":
        return "$API_KEY"
    return f"<the token made from {server.auth.source}>"


def connection_help(ctx: RunContext, server: Server) -> str:
    spec = ctx.the_spec
    token = token_reference(ctx, server)
    auth = f'-H "Authorization: Bearer {token}" ' if server.auth.enabled else ""
    message = {"model": served_name(ctx), "messages": [{"role": "user", "content": "Hello!"}]}
    body = shlex.quote(json.dumps(message))
    return "\n".join(
        [
            f"Server for {spec.hf_repo} is ready at {server.base_url}",
            f"  auth:  {_auth_line(ctx, server)}",
            f"  try:   curl {auth}-H 'Content-Type: application/json' "
            f"{server.base_url}/v1/chat/completions -d {body}",
            f"  bench: {benchmark_command(ctx, server, token)}",
            *server.management_lines(relative),
        ]
    )


def benchmark_command(ctx: RunContext, server: Server, token: str) -> str:
    """The command that benchmarks this server, naming the same spec the way this run did (the
    registry folder, --impl, --engine or the spec JSON); the token goes by environment, never in
    the command's text."""
    argv = ["python3", relative(REPO_ROOT / "run.py"), *_spec_flags(ctx)]
    argv += ["--workflow", "benchmarks", "--server-url", server.base_url]
    command = shlex.join(argv)
    if not server.auth.enabled or not server.started_by_runner:
        return command  # the user's own API_KEY / JWT_SECRET already reach it
    return f'API_KEY="{token}" {command}'


def _spec_flags(ctx: RunContext) -> list[str]:
    config = ctx.config
    if config.runtime_model_spec_json is not None:
        return ["--runtime-model-spec-json", relative(config.runtime_model_spec_json)]
    spec = ctx.the_spec
    flags = ["--model", spec.model_name, "--device", spec.device.value]
    if ctx.paths.model_specs.resolve() != MODEL_SPECS_DIR.resolve():
        flags += ["--model-specs-dir", relative(ctx.paths.model_specs)]
    for flag, value in (("--impl", config.impl), ("--engine", config.engine)):
        if value:
            flags += [flag, value]
    return flags


def _token_path(ctx: RunContext) -> str:
    return relative(ctx.the_folder.path / TOKEN_FILE)


def _auth_line(ctx: RunContext, server: Server) -> str:
    if not server.auth.enabled:
        return "none (--no-auth)"
    if server.started_by_runner:
        token = f"<token in {_token_path(ctx)}>"
    else:
        token = token_reference(ctx, server)
    return f"Authorization: Bearer {token} (from {server.auth.source})"


def relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


SERVER = ServerWorkflow()
