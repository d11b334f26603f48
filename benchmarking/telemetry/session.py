"""The load generator's side of the scraper: start it once per run, mark each point's start and
end, read the point's lines back, stop it. The scraper is a child process (never a thread of
ours: the generator's timing is what we sell) in our process group, and it dies with us."""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from benchmarking import CHECKOUT
from benchmarking.telemetry.point import ServerTelemetry, point_telemetry, unavailable

SAMPLES_FILE = "server_metrics.jsonl"
LOG_FILE = "server_metrics.log"
ACK_SLACK_S = 10.0  # beyond a scrape's own deadline: the scraper's start-up, a busy host


class ScraperGone(RuntimeError):
    """The scraper did not answer a mark; the message says why."""


@dataclass
class Session:
    process: subprocess.Popen[bytes]
    samples: Path
    log: Path
    interval_s: float
    failure: str | None = None  # set once the scraper stopped answering

    @classmethod
    def start(cls, base_url: str, output_dir: Path, interval_s: float) -> Session:
        output_dir.mkdir(parents=True, exist_ok=True)
        samples, log = output_dir.resolve() / SAMPLES_FILE, output_dir.resolve() / LOG_FILE
        command = [sys.executable, "-m", "benchmarking.telemetry", "--url", base_url]
        command += ["--out", str(samples), "--interval", str(interval_s)]
        command += ["--parent", str(os.getpid())]
        with log.open("w") as sink:
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=sink,
                cwd=CHECKOUT,  # where `-m benchmarking.telemetry` is found, wherever we run
            )
        return cls(process, samples, log, interval_s)

    def begin(self, tag: str) -> PointWatch:
        """Mark a point's start (a scrape now); the watch finishes it."""
        offset = self.samples.stat().st_size if self.samples.exists() else 0
        failure = self.mark(f"start {tag}")
        return PointWatch(self, tag, offset, failure)

    def mark(self, name: str) -> str | None:
        """Ask for a scrape marked `name`; None once it is written, else why it is not."""
        if self.failure is not None:
            return self.failure
        try:
            self._ask(name)
        except ScraperGone as error:
            self.failure = str(error)
        return self.failure

    def _ask(self, name: str) -> None:
        stdin, stdout = self._pipes()
        try:
            stdin.write(name.encode() + b"\n")
            stdin.flush()
        except OSError:
            raise ScraperGone(self._gone()) from None
        ready, _, _ = select.select([stdout], [], [], max(self.interval_s, 0.2) + ACK_SLACK_S)
        if not ready:
            raise ScraperGone("the metrics scraper did not answer in time")
        if stdout.readline().decode().strip() != name:
            raise ScraperGone(self._gone())

    def _pipes(self) -> tuple[IO[bytes], IO[bytes]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        return self.process.stdin, self.process.stdout

    def _gone(self) -> str:
        try:
            code: int | None = self.process.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        lines = [line for line in self.log.read_text().splitlines() if line.strip()]
        said = f": {lines[-1].strip()}" if lines else ""
        return f"the metrics scraper ended (exit {code}){said}; its log: {self.log}"

    def lines(self, offset: int, start: str, end: str) -> list[dict[str, object]]:
        """The lines from the `start` mark to the `end` mark, both included."""
        with self.samples.open() as handle:
            handle.seek(offset)
            lines = [json.loads(text) for text in handle if text.strip()]
        marks = [line.get("mark") for line in lines]
        if start not in marks or end not in marks:
            return []
        return lines[marks.index(start) : marks.index(end) + 1]

    def stop(self) -> None:
        """Its input's end stops it; it is killed if it does not."""
        stdin, stdout = self._pipes()
        for pipe in (stdin, stdout):
            with contextlib.suppress(OSError):
                pipe.close()
        try:
            self.process.wait(timeout=max(self.interval_s, 0.2) + ACK_SLACK_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass(frozen=True)
class PointWatch:
    session: Session | None
    tag: str
    offset: int = 0
    failure: str | None = None

    def finish(self, start_ns: int, duration_s: float) -> ServerTelemetry:
        """Mark the point's end; its telemetry, or why there is none."""
        session = self.session
        if session is None:
            return unavailable(self.failure or "the server's metrics were not scraped")
        failure = self.failure or session.mark(f"end {self.tag}")
        if failure is not None:
            return unavailable(failure, session.interval_s)
        lines = session.lines(self.offset, f"start {self.tag}", f"end {self.tag}")
        return point_telemetry(lines, start_ns, duration_s, session.interval_s)


def not_scraped(reason: str) -> PointWatch:
    return PointWatch(None, "", failure=reason)


@contextlib.contextmanager
def scraping(base_url: str, output_dir: Path, interval_s: float) -> Iterator[Session | None]:
    """A scraper for the whole run (None when `interval_s` is 0), stopped however it ends."""
    if interval_s <= 0:
        yield None
        return
    session = Session.start(base_url, output_dir, interval_s)
    try:
        yield session
    finally:
        session.stop()
