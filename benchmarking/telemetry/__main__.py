"""`python -m benchmarking.telemetry --url URL --out FILE --interval S --parent PID`: the
scraper, a process of its own beside the load generator. It appends one JSON line per scrape to
FILE, every S seconds on an absolute schedule, each line with the scraper's own CPU seconds so
far. A line `NAME` on its stdin asks for a scrape now, marked NAME, answered with `NAME` on its
stdout once written (a point's start and end). It stops at its stdin's end, and dies with its
parent. The bearer token comes from OPENAI_API_KEY."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import io
import json
import os
import select
import signal
import sys
import time
from dataclasses import asdict, dataclass
from typing import IO

from benchmarking.server_api import auth_headers
from benchmarking.telemetry.fetch import ScrapeError, scrape
from reports.redaction import redact_data, register_environment_secrets

PR_SET_PDEATHSIG = 1


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarking.telemetry")
    parser.add_argument("--url", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--parent", type=int, default=0)
    return parser.parse_args(argv)


def die_with_parent(parent: int) -> None:
    """SIGTERM when the parent dies (Linux); gone already if it died before this call."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if parent and os.getppid() != parent:
        sys.exit(0)


@dataclass
class Scraper:
    url: str
    timeout_s: float
    out: IO[str]
    given_up: bool = False  # the server said it has no metrics for us: ticks stop asking

    def write(self, mark: str | None) -> None:
        """One scrape's line: its reading or why none, when the answer came (CLOCK_MONOTONIC,
        as the generator's), and this process's CPU seconds so far."""
        line: dict[str, object] = {"mark": mark}
        try:
            line |= asdict(scrape(self.url, auth_headers(), self.timeout_s))
        except ScrapeError as error:
            line["error"] = str(error)
            self.given_up = self.given_up or error.final
        times = os.times()
        line |= {"t_ns": time.perf_counter_ns(), "cpu_s": times.user + times.system}
        self.out.write(json.dumps(redact_data(line)) + "\n")
        self.out.flush()


def next_command(commands: io.RawIOBase, timeout_s: float) -> str | None:
    """A mark asked for within the timeout ("" when none was); None at the input's end."""
    ready, _, _ = select.select([commands], [], [], max(timeout_s, 0.0))
    if not ready:
        return ""
    line = commands.readline()
    if not line:
        return None
    return line.decode().strip() or "mark"


def serve(scraper: Scraper, interval_s: float, commands: io.RawIOBase) -> None:
    due = time.monotonic()
    while True:
        command = next_command(commands, due - time.monotonic())
        if command is None:
            return
        if command:
            scraper.write(command)
            print(command, flush=True)
            continue
        if not scraper.given_up:
            scraper.write(None)
        due = max(due + interval_s, time.monotonic())


def main(argv: list[str]) -> int:
    args = parse(argv)
    register_environment_secrets(os.environ)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it stops us
    die_with_parent(args.parent)
    commands = io.FileIO(sys.stdin.fileno(), "rb", closefd=False)
    with open(args.out, "a") as out:
        scraper = Scraper(args.url.rstrip("/"), max(args.interval, 0.2), out)
        serve(scraper, args.interval, commands)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
