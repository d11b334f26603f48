"""The `server` workflow: bring the server up and say how to use it and how to stop it."""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

from rich.console import Console

from workflows.errors import ExitCode
from workflows.run_config import RunConfig
from workflows.run_folder import RunFolder
from workflows.runtime_spec import RuntimeSpec
from workflows.servers.base import Server
from workflows.servers.docker import DockerServer
from workflows.servers.local import LocalProcessServer
from workflows.workflow_args import reject_unknown_keys

ACCEPTED_ARGS = ("ready_timeout",)


def check_args(config: RunConfig) -> None:
    reject_unknown_keys("server", config.workflow_args, ACCEPTED_ARGS)


def keeps_server(config: RunConfig) -> bool:
    """A plain `server` run leaves the server up; -it runs it in the foreground instead."""
    return not config.interactive


def run(
    runtime: RuntimeSpec, config: RunConfig, server: Server, folder: RunFolder, console: Console
) -> ExitCode:
    if config.interactive and isinstance(server, LocalProcessServer):
        return follow(server, console)
    if config.interactive and isinstance(server, DockerServer):
        return shell(server, console)
    console.print(connection_help(runtime, server, folder))
    return ExitCode.OK


def connection_help(runtime: RuntimeSpec, server: Server, folder: RunFolder) -> str:
    token_path = _relative(folder.path / "api_token")
    auth = f'-H "Authorization: Bearer $(cat {token_path})" ' if server.auth.enabled else ""
    message = {"model": runtime.spec.hf_repo, "messages": [{"role": "user", "content": "Hello!"}]}
    body = shlex.quote(json.dumps(message))
    lines = [
        f"Server for {runtime.spec.hf_repo} is ready at {server.base_url}",
        f"  auth:  {_auth_line(server, token_path)}",
        f"  try:   curl {auth}-H 'Content-Type: application/json' "
        f"{server.base_url}/v1/chat/completions -d {body}",
    ]
    if isinstance(server, DockerServer) and server.container:
        name = server.container.name
        lines += [f"  logs:  docker logs -f {name}", f"  stop:  docker rm -f {name}"]
    elif isinstance(server, LocalProcessServer) and server.pid:
        lines += [
            f"  logs:  tail -f {_relative(folder.server_log)}",
            f"  stop:  kill {server.pid}",
        ]
    else:
        lines.append("  (this server was already running; the runner did not start it)")
    return "\n".join(lines)


def _auth_line(server: Server, token_path: str) -> str:
    if not server.auth.enabled:
        return "none (--no-auth)"
    return f"Authorization: Bearer <token in {token_path}> (from {server.auth.source})"


def follow(server: LocalProcessServer, console: Console) -> ExitCode:
    """Interactive mode: stream the server's log to the console until it ends or Ctrl-C."""
    console.print(f"Server running in the foreground at {server.base_url}; Ctrl-C stops it.")
    log_path = server.log_path_or_fail()
    with log_path.open(errors="replace") as stream:
        while server.exit_code() is None:
            line = stream.readline()
            if line:
                console.out(line.rstrip("\n"), highlight=False)
            else:
                time.sleep(0.2)
        console.out(stream.read().rstrip("\n"), highlight=False)
    code = server.exit_code()
    console.print(f"Server exited with code {code}.")
    return ExitCode.OK if code == 0 else ExitCode.SERVER


def shell(server: DockerServer, console: Console) -> ExitCode:
    """`-it`: a shell in the server's container; the container goes when the shell ends."""
    console.print(
        f"Shell in container {server.cfg.name}; exit it to remove the container. "
        "The server starts with:",
        markup=False,
    )
    console.out(f"  {server.server_command()}", highlight=False)
    code = server.attach()
    return ExitCode.OK if code == 0 else ExitCode.SERVER


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
