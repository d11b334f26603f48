"""Integration fixtures: the real runner, as a user runs it, against the real CPU server."""

from __future__ import annotations

import contextlib
import os
import re
import signal
from collections.abc import Iterator

import pytest

from tests.helpers import SERVER_ARGS, RunningServer, free_port, runner


@pytest.fixture(scope="session")
def cpu_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """The README's command, run as is: builds the server environment on first use."""
    logs = tmp_path_factory.mktemp("logs")
    port = free_port()
    process = runner(*SERVER_ARGS, "--service-port", str(port), logs=logs)
    output, _ = process.communicate(timeout=3000)
    assert process.returncode == 0, output
    pid = int(re.search(r"kill (\d+)", output).group(1))  # type: ignore[union-attr]
    folder = (logs / "latest").resolve()
    yield RunningServer(
        f"http://127.0.0.1:{port}",
        port,
        pid,
        (folder / "api_token").read_text().strip(),
        folder,
        output,
    )
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)


LAST_MODULES = ("test_docker.py",)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The Docker tests run last: .ci/run prepares their engine (a debootstrap base image) in the
    background while everything before them runs, so the later they start, the less they wait."""
    items.sort(key=lambda item: item.path.name in LAST_MODULES)
