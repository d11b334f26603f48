"""How a benchmark process ends on failure: one line on the console, the traceback in a file,
exit 130 on Ctrl-C with the finished points kept. Shared by our generator and the tool drivers
(light: no generator dependencies)."""

from __future__ import annotations

import argparse
import traceback
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from benchmarking.server_api import CredentialsError, ServedModelError
from benchmarking.trace_capture import TraceCaptureError
from reports.redaction import redact
from reports.results import WriteError


def run_reporting_failures(
    run: Callable[[argparse.Namespace, Console], int], args: argparse.Namespace, console: Console
) -> int:
    """`run(args, console)`; any failure becomes one line, its traceback <output-dir>/error.log."""
    try:
        return run(args, console)
    except (CredentialsError, ServedModelError, TraceCaptureError) as error:  # said plainly
        console.print(f"error: {error}", markup=False)
        return 1
    except KeyboardInterrupt:
        console.print(f"interrupted; finished points are kept in {args.output_dir}", markup=False)
        return 130
    except WriteError as error:  # a full disk, say: which file, and no error.log to write
        console.print(f"error: {error}", markup=False)
        return 1
    except Exception as error:
        where = _save_traceback(args.output_dir / "error.log")
        console.print(f"error: {type(error).__name__}: {error} ({where})", markup=False)
        return 1


def _save_traceback(log: Path) -> str:
    """The traceback in `log`, if it can be written; where it is, for the console line."""
    try:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(redact(traceback.format_exc()))
    except OSError as error:
        return f"its traceback could not be written to {log}: {error.strerror}"
    return f"traceback in {log}"
