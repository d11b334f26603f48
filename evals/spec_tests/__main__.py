"""`python -m evals.spec_tests --runtime-spec RUN/runtime_spec.json --server-url URL
--output-dir RUN/spec_tests [--only a,b]`; the token in OPENAI_API_KEY (absent: no auth).

Exit codes: 0 every check PASS or SKIPPED, 1 a check FAILed or ERRORed (or the suite broke),
2 bad arguments, 3 the server wants a token we lack or refuses ours, 4 no server answers."""

from __future__ import annotations

import os
import sys
import traceback
from functools import partial
from pathlib import Path

import requests
from rich.console import Console

from benchmarking.deadline import DeadlineExceeded
from benchmarking.server_api import API_KEY_ENV, CredentialsError
from evals.spec_tests.catalog import selected
from evals.spec_tests.cli import USAGE, Arguments, UsageError, parse
from evals.spec_tests.engine_limits import engine_limits, expected_lacks
from evals.spec_tests.results import write_results
from evals.spec_tests.runner import CheckResult, run_checks
from evals.spec_tests.setup import connect, server_says
from evals.spec_tests.table import progress_line, show
from evals.spec_tests.verdict import PASS, SKIPPED
from reports.redaction import redact, redacting_stream, register_environment_secrets
from reports.results import Identity, WriteError

CHECKS_FAILED, CREDENTIALS, SERVER = 1, 3, 4


def run(args: Arguments, console: Console) -> int:
    spec = args.runtime["model_spec"]
    engine = str(spec.get("inference_engine", "unknown")).lower()
    suite = connect(args, engine, os.environ.get(API_KEY_ENV) or None)
    limits = expected_lacks(engine_limits(engine), partial(server_says, suite.client))
    identity = Identity.from_runtime_spec(args.runtime, suite.client.model)
    checks = selected(args.only)
    console.print(f"spec tests: {len(checks)} checks against {args.server_url} ({engine})")
    finished: list[CheckResult] = []

    def done(result: CheckResult) -> None:
        finished.append(result)
        write_results(args.output_dir, identity, engine, finished, len(checks))
        console.print(progress_line(len(finished), len(checks), result), markup=False)

    results = run_checks(checks, suite, limits, done)
    show(console, results, engine)
    console.print(f"results: {args.output_dir / 'spec_tests.json'}", markup=False)
    return 0 if all(r.status in (PASS, SKIPPED) for r in results) else CHECKS_FAILED


def main(argv: list[str]) -> int:
    """One line on the console for any failure; a traceback goes to <output-dir>/error.log."""
    register_environment_secrets(os.environ)  # an echoed token is masked on screen and on disk
    width = 160 if not sys.stdout.isatty() else None
    console = Console(file=redacting_stream(), highlight=False, soft_wrap=True, width=width)
    try:
        args = parse(argv)
    except UsageError as error:
        console.print(f"error: {error}", markup=False)
        return USAGE
    try:
        return run(args, console)
    except CredentialsError as error:
        console.print(f"error: {error}", markup=False)
        return CREDENTIALS
    except WriteError as error:  # a full disk, say (an OSError, but not the server's)
        console.print(f"error: {error}", markup=False)
        return CHECKS_FAILED
    except DeadlineExceeded as error:
        console.print(f"error: the server at {args.server_url} is too slow: {error}", markup=False)
        return SERVER
    except (requests.ConnectionError, OSError) as error:
        console.print(f"error: no server answers at {args.server_url}: {error}", markup=False)
        return SERVER
    except Exception as error:
        return crashed(console, args.output_dir, error)


def crashed(console: Console, folder: Path, error: Exception) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "error.log"
    log.write_text(redact(traceback.format_exc()))
    console.print(f"error: {type(error).__name__}: {error} (traceback in {log})", markup=False)
    return CHECKS_FAILED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
