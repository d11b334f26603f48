"""The run folder (`workflow_logs/runs/<run_id>/`) and its logs; files go in through
`reports.results.write_atomic`."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from reports.results import WriteError
from workflows.paths import LOGS_ROOT
from workflows.redact import RedactingFilter


@dataclass(frozen=True)
class RunFolder:
    run_id: str
    path: Path

    @property
    def run_log(self) -> Path:
        return self.path / "run.log"

    @property
    def server_log(self) -> Path:
        return self.path / "server.log"

    @property
    def runtime_spec(self) -> Path:
        return self.path / "runtime_spec.json"


def new_run_id(model: str, device: str, workflow: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")
    return f"{stamp}_{model}_{device}_{workflow}_{secrets.token_hex(4)}"


def create_run_folder(run_id: str, root: Path = LOGS_ROOT) -> RunFolder:
    path = root / "runs" / run_id
    try:
        path.mkdir(parents=True, exist_ok=False)
        _point_latest(root, path)
    except OSError as error:  # a full disk, a read-only folder: which one, and why
        raise WriteError(path, error) from error
    return RunFolder(run_id, path)


def _point_latest(root: Path, target: Path) -> None:
    link = root / "latest"
    temp = root / f".latest-{os.getpid()}"
    temp.unlink(missing_ok=True)
    try:
        temp.symlink_to(target.relative_to(root))
        temp.replace(link)
    finally:
        temp.unlink(missing_ok=True)  # gone after the replace; left only by a failure


def setup_logging(console: Console, verbose: bool, run_log: Path | None = None) -> None:
    """Console at INFO (DEBUG with -v), run.log at DEBUG; both pass through the redactor."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(logging.DEBUG)
    shown = console_log_handler(console)
    shown.setLevel(logging.DEBUG if verbose else logging.INFO)
    shown.addFilter(RedactingFilter())
    root.addHandler(shown)
    if run_log is not None:
        add_file_log(run_log)
    for noisy in ("urllib3", "filelock", "huggingface_hub", "docker"):
        logging.getLogger(noisy).setLevel(logging.INFO)


class PlainLineHandler(logging.Handler):
    """A record as one line, `LEVEL    message`, never wrapped: a CI log keeps each line
    whole (a path in it stays one word to copy) whatever width it is shown at."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = f"{record.levelname:<8} {record.getMessage()}"
            self.console.print(line, markup=False, highlight=False, soft_wrap=True, crop=False)
        except Exception:
            self.handleError(record)


def console_log_handler(console: Console) -> logging.Handler:
    """On a terminal rich's handler (levels in colour, wrapped to the window); elsewhere plain
    lines that are never wrapped."""
    if console.is_terminal:
        return RichHandler(
            console=console, show_time=False, show_path=False, markup=False, rich_tracebacks=False
        )
    return PlainLineHandler(console)


class RunLogHandler(logging.FileHandler):
    """run.log. A record it cannot write (the disk is full) is dropped, and said once in one
    line, not as logging's traceback on every record."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        del record
        self._say_once(sys.exc_info()[1])

    def close(self) -> None:
        try:
            super().close()
        except OSError as error:  # the last records, flushed on close, on a full disk
            self._say_once(error)

    def _say_once(self, error: BaseException | None) -> None:
        if not self.failed:
            self.failed = True
            reason = getattr(error, "strerror", None) or error
            sys.stderr.write(f"note: cannot write {self.baseFilename} ({reason}); run.log stops\n")


def add_file_log(run_log: Path) -> None:
    handler = RunLogHandler(run_log)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.getLogger().addHandler(handler)
