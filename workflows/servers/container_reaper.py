"""Removes one container when told to stop: the runner's stand-in if the runner is killed.

    python -I container_reaper.py DOCKER_HOST CONTAINER_ID

Started under workflows/guard.py for a container the run must not leave behind. The guard ends
it with SIGTERM when the runner ends, however that happens (SIGKILL included); it then asks the
engine to remove the container. Standard library only: it talks HTTP to the engine's socket.
"""

from __future__ import annotations

import http.client
import signal
import socket
import sys
from types import FrameType
from urllib.parse import urlparse

TIMEOUT_SECONDS = 30


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=TIMEOUT_SECONDS)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(TIMEOUT_SECONDS)
        self.sock.connect(self.path)


def engine_connection(docker_host: str) -> http.client.HTTPConnection:
    parsed = urlparse(docker_host)
    if parsed.scheme == "unix":
        return UnixConnection(parsed.path)
    return http.client.HTTPConnection(parsed.hostname or "localhost", parsed.port or 2375)


def remove_container(docker_host: str, container: str) -> int:
    """DELETE /containers/<id>?force=true; the HTTP status (404: already gone)."""
    connection = engine_connection(docker_host)
    try:
        connection.request("DELETE", f"/containers/{container}?force=true&v=false")
        return connection.getresponse().status
    finally:
        connection.close()


def main(argv: list[str]) -> int:
    docker_host, container = argv

    def on_stop(signum: int, frame: FrameType | None) -> None:
        del signum, frame
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        status = remove_container(docker_host, container)
        print(f"container {container}: removal answered HTTP {status}", flush=True)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner decides; Ctrl-C reaches it
    print(f"watching container {container}", flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
