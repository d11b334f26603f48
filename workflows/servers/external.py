"""A server that already runs elsewhere (`--server-url`, or localhost:SERVICE_PORT)."""

from __future__ import annotations

from workflows.servers.base import Server


class ExternalServer(Server):
    """Nothing to start or stop: the runner only talks to it."""

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def exit_code(self) -> int | None:
        return None

    @property
    def started_by_runner(self) -> bool:
        return False
