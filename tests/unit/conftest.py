"""Unit-test fixtures shared by the load generator's tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from tests.helpers import Emulator, start_emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Start emulators with the given flags; each is stopped after the test."""
    started: list[subprocess.Popen[str]] = []

    def start(*flags: str) -> str:
        process, url = start_emulator(*flags)
        started.append(process)
        return url

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)
