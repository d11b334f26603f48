"""How a benchmark process ends on failure: one line on the console, the traceback in a file,
exit 130 on Ctrl-C with the finished points kept. Shared by our generator and the tool drivers
(light: no generator dependencies)."""

from __future__ import annotations

import argparse
import traceback
from collections.abc import Callable

from rich.console import Console

from benchmarking.server_api import CredentialsError, ServedModelError
from benchmarking.trace_capture import TraceCaptureError
from reports.redaction import redact


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
    except Exception as error:
        args.output_dir.mkdir(parents=True, exist_ok=True)
        log = args.output_dir / "error.log"
        log.write_text(redact(traceback.format_exc()))
        console.print(f"error: {type(error).__name__}: {error} (traceback in {log})", markup=False)
        return 1
