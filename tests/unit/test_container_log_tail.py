"""A container that dies at start must show why under the error. Its output reaches server.log
through a background copy that can lag behind the container's end (CI saw an error with no
tail at all), so once the container has ended its tail comes from the engine itself. A fake
handle stands in for the docker SDK's container."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from rich.console import Console

from tests.helpers import config_for
from workflows.auth import Auth
from workflows.errors import ServerError
from workflows.redact import register_secret
from workflows.servers.base import TAIL_LINES
from workflows.servers.docker import DockerServer
from workflows.servers.docker_engine import Container

KEY = "sk-TAILSECRET98765"
OUTPUT = [f"line {n}" for n in range(30)] + [f"api_key={KEY}", "error: failed to load model"]


class EndedHandle:
    """A container that has exited: the engine keeps its whole output; the follow stream (the
    copy into server.log) has not delivered a byte yet."""

    def __init__(self, status: str = "exited", fails: bool = False) -> None:
        self.name, self.id, self.attrs = "readiness-test", "c" * 64, {"State": {"ExitCode": 1}}
        self.status = status
        self._fails = fails

    def reload(self) -> None:
        pass

    def logs(self, stream: bool = False, tail: int | str = "all", **_: object) -> object:
        if stream:
            return iter(())
        if self._fails:
            raise RuntimeError("engine went away")
        lines = OUTPUT if tail == "all" else OUTPUT[-int(tail) :]
        return ("\n".join(lines) + "\n").encode()


def server_with(handle: EndedHandle, log_path: Path) -> DockerServer:
    cfg = dataclasses.replace(config_for("SmolLM2-135M-Instruct", "cpu"), host_port=18123)
    server = DockerServer(cfg, {}, Auth(None, "none"), log_path, Console(file=io.StringIO()))
    server.container = Container(handle)
    return server


def test_a_container_that_ended_shows_its_own_tail_masked_though_the_copy_lags(
    tmp_path: Path,
) -> None:
    register_secret(KEY)
    log = tmp_path / "server.log"
    log.write_text("")  # the copy has not caught up
    server = server_with(EndedHandle(), log)
    with pytest.raises(ServerError) as raised:
        server.wait_ready(5)
    assert "the server exited with code 1 before it was ready" in str(raised.value)
    details = raised.value.details
    assert len(details) == TAIL_LINES and details[-1] == "error: failed to load model"
    assert "api_key=***" in details and not any(KEY in line for line in details)


def test_a_running_container_or_a_silent_engine_falls_back_to_server_log(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("copied line\n")
    assert server_with(EndedHandle(status="running"), log).log_tail() == ("copied line",)
    assert server_with(EndedHandle(fails=True), log).log_tail() == ("copied line",)
