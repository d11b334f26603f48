"""Which server a run targets, said on its first line; with no server flag, the default
(127.0.0.1 at SERVICE_PORT, else 8000) only when something answers there."""

from __future__ import annotations

import socket
from collections.abc import Callable

from workflows.errors import UsageError
from workflows.run_config import RunConfig

DEFAULT_HOST = "127.0.0.1"
PROBE_SECONDS = 1.0
THE_THREE_WAYS = (
    "--local-server (start it on this host), --docker-server (start it in its pinned image) "
    "or --server-url URL (one that already runs)"
)
Answers = Callable[[str, int], bool]


def default_url(config: RunConfig) -> str:
    return f"http://{DEFAULT_HOST}:{config.service_port}"


def chosen(config: RunConfig) -> bool:
    return config.starts_server or config.server_url is not None


def target(config: RunConfig) -> str:
    """The server a run talks to, and how it was chosen, in a few words."""
    if config.docker_server:
        return f"a Docker container started on {config.bind_host}:{config.service_port}"
    if config.local_server:
        return f"a local server started on {config.bind_host}:{config.service_port}"
    if config.server_url is not None:
        return f"{config.server_url} (--server-url)"
    return f"{default_url(config)} (no server flag: the one already running there)"


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=PROBE_SECONDS):
            return True
    except OSError:
        return False


def refuse_silent_default(config: RunConfig, answers: Answers = accepts_connections) -> None:
    """No server flag and nothing at the default: the run stops before it starts, naming the
    ways to choose (a program of someone else's there is never reached without a word)."""
    if chosen(config) or answers(DEFAULT_HOST, config.service_port):
        return
    raise UsageError(
        f"no server chosen, and nothing answers at {default_url(config)}, the default; "
        f"choose one: {THE_THREE_WAYS}"
    )
