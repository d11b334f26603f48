"""Issue 19, item 12: every file of the run folder takes the umask's mode; the token file is
0600 whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from reports.results import write_atomic
from tests.helpers import run_context


@pytest.fixture
def umask_027() -> Iterator[int]:
    before = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(before)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_results_and_the_run_log_share_the_umasks_mode(tmp_path: Path, umask_027: int) -> None:
    folder = run_context(tmp_path).the_folder
    write_atomic(folder.path / "benchmarks" / "point.json", "{}\n")
    modes = {
        path.name: mode_of(path)
        for path in folder.path.rglob("*")
        if path.is_file() and path.name != "api_token"
    }
    assert set(modes) >= {"run.log", "runtime_spec.json", "point.json"}
    assert set(modes.values()) == {0o666 & ~umask_027}


def test_the_token_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    before = os.umask(0)
    try:
        token = run_context(tmp_path).the_folder.path / "api_token"
    finally:
        os.umask(before)
    assert mode_of(token) == 0o600


def test_a_permissive_umask_is_followed(tmp_path: Path) -> None:
    before = os.umask(0o002)
    try:
        write_atomic(tmp_path / "report.json", "{}\n")
    finally:
        os.umask(before)
    assert mode_of(tmp_path / "report.json") == 0o664
