"""What the runner's log lines look like on a console that is not a terminal (a CI log,
issue 22 item 1): one line per record, never wrapped, so a path stays whole."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from workflows.cli import current_run_folder
from workflows.run_folder import RunLogHandler, add_file_log, setup_logging

LONG_PATH = "/tmp/wl/runs/2026-12-05_14-59-51_SmolLM2-135M-Instruct_cpu_release_e4c39e69/benchmarks"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    handlers = list(logging.getLogger().handlers)
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)


@pytest.mark.usefixtures("restore_logging")
def test_a_log_line_in_a_ci_log_is_one_line_whatever_its_length() -> None:
    out = io.StringIO()
    setup_logging(Console(file=out, width=40), verbose=False)
    logging.getLogger("workflows.x").info("results are in %s", LONG_PATH)
    logging.getLogger("workflows.x").warning("short")
    assert out.getvalue().splitlines() == [
        f"INFO     results are in {LONG_PATH}",
        "WARNING  short",
    ]


@pytest.mark.usefixtures("restore_logging")
def test_debug_lines_show_only_with_verbose() -> None:
    out = io.StringIO()
    setup_logging(Console(file=out, width=40), verbose=True)
    logging.getLogger("workflows.x").debug("step resolve_spec")
    assert out.getvalue() == "DEBUG    step resolve_spec\n"


def test_the_run_folder_is_the_run_logs_not_another_file_handlers(tmp_path: Path) -> None:
    """A host's own file handler (pytest adds one, to /dev/null) is not a run's log: an error
    said outside a run never points to its folder."""
    root = logging.getLogger()
    other = logging.FileHandler(tmp_path / "elsewhere.log")
    root.addHandler(other)
    try:
        assert current_run_folder() is None
        (tmp_path / "run").mkdir()
        add_file_log(tmp_path / "run" / "run.log")
        assert current_run_folder() == tmp_path / "run"
    finally:
        for handler in list(root.handlers):
            if handler is other or isinstance(handler, RunLogHandler):
                root.removeHandler(handler)
                handler.close()
