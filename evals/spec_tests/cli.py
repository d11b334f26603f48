"""The command line: `python -m evals.spec_tests --runtime-spec F --server-url U --output-dir D
[--only a,b] [--request-timeout S]`. Bad arguments are one line and exit 2."""

from __future__ import annotations

import argparse
import difflib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from evals.spec_tests.catalog import NAMES
from evals.spec_tests.client import REQUEST_TIMEOUT_S

USAGE = 2


class UsageError(Exception):
    """A bad argument or input file, said in one line (exit 2)."""


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass(frozen=True)
class Arguments:
    runtime: dict[str, Any]
    server_url: str
    output_dir: Path
    only: list[str] | None
    request_timeout_s: float = REQUEST_TIMEOUT_S


def parse(argv: list[str]) -> Arguments:
    parser = OneLineParser(prog="python -m evals.spec_tests")
    parser.add_argument("--runtime-spec", type=Path, required=True)
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--only", help=f"comma-separated checks, of: {', '.join(NAMES)}")
    parser.add_argument(
        "--request-timeout",
        type=seconds,
        default=REQUEST_TIMEOUT_S,
        help=f"each request's deadline, its answer read whole (default {REQUEST_TIMEOUT_S:g} s)",
    )
    args = parser.parse_args(argv)
    only = checked_names(args.only) if args.only is not None else None
    runtime, url = read_spec(args.runtime_spec), args.server_url.rstrip("/")
    return Arguments(runtime, url, args.output_dir, only, args.request_timeout)


def seconds(text: str) -> float:
    """A positive, finite number of seconds."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def checked_names(text: str, flag: str = "--only") -> list[str]:
    """'a,b' -> ['a', 'b'], each a check of the suite (the runner checks `only=` with it too)."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    for name in names or [""]:
        if name not in NAMES:
            near = difflib.get_close_matches(name, NAMES, n=1)
            hint = f"did you mean {near[0]}?" if near else f"one of: {', '.join(NAMES)}"
            raise UsageError(f"{flag}: unknown check {name!r}; {hint}")
    return names


def read_spec(path: Path) -> dict[str, Any]:
    try:
        runtime = json.loads(path.read_text())
        spec = runtime["model_spec"]
        missing = [
            k for k in ("hf_repo", "device", "max_context", "max_concurrency") if k not in spec
        ]
        missing += [k for k in ("run_id", "model_id") if k not in runtime]
    except (OSError, ValueError) as error:
        raise UsageError(f"--runtime-spec {path}: {error}") from None
    except (KeyError, TypeError) as error:
        raise UsageError(f"--runtime-spec {path}: no model_spec ({error})") from None
    if missing:
        raise UsageError(f"--runtime-spec {path}: missing {', '.join(missing)}")
    return dict(runtime)
