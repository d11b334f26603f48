"""The run folder (`workflow_logs/runs/<run_id>/`), its logs, and atomic writes into it."""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from workflows.redact import RedactingFilter

REPO_ROOT = Path(__file__).resolve().parent.parent
LOGS_ROOT = REPO_ROOT / "workflow_logs"


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
    temp.symlink_to(target.relative_to(root))
    temp.replace(link)


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write to a temp file in the same folder, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


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
