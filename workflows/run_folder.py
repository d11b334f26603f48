"""The run folder (`workflow_logs/runs/<run_id>/`) and its logs; files go in through
`reports.results.write_atomic`."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

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
    path.mkdir(parents=True, exist_ok=False)
    _point_latest(root, path)
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
    shown = RichHandler(
        console=console, show_time=False, show_path=False, markup=False, rich_tracebacks=False
    )
    shown.setLevel(logging.DEBUG if verbose else logging.INFO)
    shown.addFilter(RedactingFilter())
    root.addHandler(shown)
    if run_log is not None:
        add_file_log(run_log)
    for noisy in ("urllib3", "filelock", "huggingface_hub", "docker"):
        logging.getLogger(noisy).setLevel(logging.INFO)


def add_file_log(run_log: Path) -> None:
    handler = logging.FileHandler(run_log)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.getLogger().addHandler(handler)
