"""A container started for a workflow goes even when the runner is killed outright."""

from __future__ import annotations

import http.server
import signal
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, wait_for


class UnixHttpServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


@pytest.fixture
def fake_engine(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on a unix socket that records what the reaper asks of 'the engine'."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_DELETE(self) -> None:
            seen.append(f"DELETE {self.path}")
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            del format, args

        def address_string(self) -> str:
            return "unix"

    socket_path = tmp_path / "docker.sock"
    server = UnixHttpServer(str(socket_path), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"unix://{socket_path}", seen
    server.shutdown()
    server.server_close()


RUNNER = """
import sys, time
sys.path.insert(0, {repo!r})
from pathlib import Path
from workflows.servers.docker import start_reaper
class Container:
    id = "c0ffee"
start_reaper(sys.argv[1], Container(), Path(sys.argv[2]))
print("started", flush=True)
time.sleep(120)
"""


def test_runner_killed_outright_still_removes_its_container(
    fake_engine: tuple[str, list[str]], tmp_path: Path
) -> None:
    host, seen = fake_engine
    runner = subprocess.Popen(
        [sys.executable, "-c", RUNNER.format(repo=str(REPO_ROOT)), host, str(tmp_path / "s.log")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert runner.stdout is not None and runner.stdout.readline().strip() == "started"
        assert wait_for(lambda: "watching" in _log(tmp_path), 20)
        assert seen == []
        runner.send_signal(signal.SIGKILL)
        runner.wait(timeout=10)
        assert wait_for(lambda: seen != [], 20), "the container was not removed"
    finally:
        runner.kill()
    assert seen == ["DELETE /containers/c0ffee?force=true&v=false"]


def _log(folder: Path) -> str:
    path = folder / "container-reaper.log"
    return path.read_text() if path.exists() else ""
