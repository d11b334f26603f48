"""A server the runner starts as a local process (llama.cpp's server, or vLLM on the host)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from workflows import command, interrupts
from workflows.auth import Auth
from workflows.errors import ExitCode, ServerError
from workflows.servers import port_owner
from workflows.servers.base import Server


class LocalProcessServer(Server):
    def __init__(
        self,
        argv: Sequence[str],
        env: Mapping[str, str | None],
        host: str,
        port: int,
        auth: Auth,
        log_path: Path,
        detach: bool = False,
    ) -> None:
        super().__init__(f"http://{client_host(host)}:{port}", auth, log_path)
        self.argv = tuple(argv)
        self.env = dict(env)
        self.host = host
        self.port = port
        self.detach = detach
        self.process: command.ManagedProcess | None = None

    @property
    def started_by_runner(self) -> bool:
        return True

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> None:
        ensure_port_free(self.host, self.port)
        with interrupts.deferred():
            self.process = command.start(
                self.argv,
                env=self.env,
                log_path=self.log_path_or_fail(),
                die_with_runner=not self.detach,
                masked=True,  # a key the server prints or is sent never reaches server.log
            )

    def log_path_or_fail(self) -> Path:
        assert self.log_path is not None
        return self.log_path

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def port_conflict(self) -> str | None:
        """Another process listens where this server should: the one that answers is not ours
        (two runs started on one port at once: both passed the free-port check)."""
        if self.process is None:
            return None
        holder = port_owner.taken_by(self.port, client_host(self.host), self.process.pid)
        return None if holder is None else port_taken(self.host, self.port, holder)

    def exit_code(self) -> int | None:
        return self.process.poll() if self.process else None

    def management_lines(self, relative: Callable[[Path], str]) -> list[str]:
        return [
            f"  logs:  tail -f {relative(self.log_path_or_fail())}",
            f"  stop:  kill {self.pid}",
        ]

    def interact(self, console: Any) -> ExitCode:
        """Stream the server's log to the console until it ends or Ctrl-C."""
        console.print(f"Server running in the foreground at {self.base_url}; Ctrl-C stops it.")
        with self.log_path_or_fail().open(errors="replace") as stream:
            while self.exit_code() is None:
                line = stream.readline()
                if line:
                    console.out(line.rstrip("\n"), highlight=False)
                else:
                    time.sleep(0.2)
            console.out(stream.read().rstrip("\n"), highlight=False)
        code = self.exit_code()
        console.print(f"Server exited with code {code}.")
        return ExitCode.OK if code == 0 else ExitCode.SERVER


def client_host(bind_host: str) -> str:
    return "127.0.0.1" if bind_host in ("0.0.0.0", "::", "") else bind_host


def ensure_port_free(host: str, port: int) -> None:
    """Nothing answers on the port, and a server could bind it (as servers do, with
    SO_REUSEADDR). Another run may still take it before this one's server binds it:
    `LocalProcessServer.port_conflict` sees that."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        in_use = probe.connect_ex((client_host(host), port)) == 0
    if in_use or not _bindable(host, port):
        raise ServerError(port_taken(host, port, port_owner.taken_by(port, client_host(host), -1)))


def _bindable(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def port_taken(host: str, port: int, holder: str | None) -> str:
    """One line: the port, who holds it (when this user can see), and the fix."""
    if holder is None:
        return (
            f"port {port} on {host} is already in use; stop what listens there "
            "or pick another port with --service-port"
        )
    return (
        f"port {port} on {host} is already in use by {holder}; stop it "
        "or pick another port with --service-port"
    )
