"""What the console shows while a sweep runs: which point of how many and the time the sweep
has left, and within a point the tokens as they stream (not only the requests as they end).
On a terminal a live bar; elsewhere (a CI log) plain lines that never redraw: one as a point
starts, one every HEARTBEAT_S while it runs, one as it ends. The time left comes from the pace
so far, counted in tokens streamed: from the first heartbeat of the first point on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from benchmarking.client import driver
from benchmarking.sweep import Point

PREFILL_SHARE = 0.1  # a prompt token takes about a tenth of an output token's time (batched)
HEARTBEAT_S = 30.0  # a plain line this often while a point runs, off a terminal
POLL_S = 0.25
Clock = Callable[[], float]
Execute = Callable[[driver.Plan, int], driver.RunOutcome]
SweepLeft = Callable[[float], "float | None"]  # the point's share done (0-1) -> seconds left


def point_work(point: Point) -> float:
    """A point's share of a sweep's time, roughly: its output tokens and a tenth of its prompt
    tokens."""
    return point.num_prompts * (point.osl + PREFILL_SHARE * point.isl)


def duration_text(seconds: float) -> str:
    """45s, 3m05s, 1h02m."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


@dataclass
class SweepClock:
    """Where a sweep is and how long it has left, from the pace of the points it measured."""

    works: Sequence[float]
    clock: Clock = time.monotonic
    started: float | None = None
    done: float = 0.0

    def left(self, index: int) -> float | None:
        """Seconds the sweep has left as point `index` (from 0) starts; None before a point
        has ended (no pace yet)."""
        if self.started is None or self.done <= 0:
            return None
        return (self.clock() - self.started) / self.done * sum(self.works[index:])

    def left_during(self, index: int, share: float) -> float | None:
        """Seconds the sweep has left while point `index` is `share` (0-1) done: the pace of
        the work done so far, this point's part included; None before any work was done."""
        done = self.done + share * self.works[index]
        if self.started is None or done <= 0:
            return None
        rest = (1 - share) * self.works[index] + sum(self.works[index + 1 :])
        return (self.clock() - self.started) / done * rest

    def during(self, index: int) -> SweepLeft:
        return lambda share: self.left_during(index, share)

    def begin(self, index: int) -> str:
        """'point 3/9' and, once a point has ended, '(sweep: ~2m10s left)'."""
        if self.started is None:
            self.started = self.clock()
        left = self.left(index)
        estimate = f" (sweep: ~{duration_text(left)} left)" if left is not None else ""
        return f"point {index + 1}/{len(self.works)}{estimate}"

    def finish(self, index: int) -> None:
        self.done += self.works[index]


@dataclass
class PlainLines:
    """A point's progress as lines a log keeps: start, a heartbeat, the end."""

    console: Console
    label: str
    requests: int
    tokens: int | None
    clock: Clock = time.monotonic
    sweep_left: SweepLeft | None = None
    started: float = 0.0
    last: float = 0.0
    seen: tuple[int, int] = (0, 0)

    def __enter__(self) -> PlainLines:
        self.started = self.last = self.clock()
        expected = f", ~{self.tokens} tokens" if self.tokens else ""
        self._say(f"{self.label}: {self.requests} requests{expected}")
        return self

    def update(self, done: int, streamed: int) -> None:
        self.seen = (done, streamed)
        if self.clock() - self.last >= HEARTBEAT_S:
            self.last = self.clock()
            self._say(f"{self.label}: {self._figures()} after {self._elapsed()}{self._left()}")

    def __exit__(self, *exc: object) -> None:
        self._say(f"{self.label}: done in {self._elapsed()}: {self._figures()}")

    def _figures(self) -> str:
        done, streamed = self.seen
        return f"{done}/{self.requests} requests, ~{streamed} tokens streamed"

    def _left(self) -> str:
        """' (sweep: ~2m10s left)' from the pace so far, or nothing before any progress."""
        if self.sweep_left is None:
            return ""
        left = self.sweep_left(share_done(*self.seen, self.requests, self.tokens))
        return f" (sweep: ~{duration_text(left)} left)" if left is not None else ""

    def _elapsed(self) -> str:
        return duration_text(self.clock() - self.started)

    def _say(self, line: str) -> None:
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


def share_done(done: int, streamed: int, requests: int, tokens: int | None) -> float:
    """How much of a point is done: its tokens streamed of those expected, else its requests."""
    if tokens:
        return min(streamed / tokens, 1.0)
    return min(done / requests, 1.0) if requests else 0.0


@dataclass
class LiveBar:
    """A point's progress on a terminal: a bar of the tokens streamed (of those expected),
    requests done, time taken and left."""

    console: Console
    label: str
    requests: int
    tokens: int | None
    sweep_left: SweepLeft | None = None
    progress: Progress | None = None
    task: int = 0

    def __enter__(self) -> LiveBar:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(bar_width=20),
            TextColumn("{task.fields[done]}/{task.fields[requests]} req"),
            TextColumn("{task.completed:.0f} tok"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[sweep]}"),
            console=self.console,
            refresh_per_second=4,
        )
        self.progress.__enter__()
        self.task = self.progress.add_task(
            self.label, total=self.tokens, done=0, requests=self.requests, sweep=""
        )
        return self

    def update(self, done: int, streamed: int) -> None:
        assert self.progress is not None
        shown = min(streamed, self.tokens) if self.tokens else streamed
        share = share_done(done, streamed, self.requests, self.tokens)
        left = self.sweep_left(share) if self.sweep_left else None
        sweep = f"sweep ~{duration_text(left)} left" if left is not None else ""
        self.progress.update(TaskID(self.task), completed=shown, done=done, sweep=sweep)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.progress is not None
        self.progress.__exit__(kind, error, tb)


def display(
    console: Console,
    label: str,
    requests: int,
    tokens: int | None,
    sweep_left: SweepLeft | None = None,
) -> PlainLines | LiveBar:
    if console.is_terminal:
        return LiveBar(console, label, requests, tokens, sweep_left)
    return PlainLines(console, label, requests, tokens, sweep_left=sweep_left)


def runner(
    console: Console,
    label: str,
    workers: int,
    tokens: int | None,
    sweep_left: SweepLeft | None = None,
) -> Execute:
    """Run a plan in worker processes; this process only shows its progress. `tokens`: the
    output tokens the point should stream (None: not known ahead, a dataset's own lengths);
    `sweep_left`: the sweep's time left for a share of this point done."""

    def execute(plan: driver.Plan, total: int) -> driver.RunOutcome:
        done = driver.DoneCounter()
        outcome: list[driver.RunOutcome] = []
        worker = threading.Thread(
            target=lambda: outcome.append(driver.run(plan, workers, in_process=False, done=done)),
            daemon=True,
        )
        with display(console, label, total, tokens, sweep_left) as shown:
            worker.start()
            while worker.is_alive():
                shown.update(done.value, done.streamed)
                worker.join(POLL_S)
            shown.update(done.value, done.streamed)
        if not outcome:
            raise RuntimeError("the load generator's workers ended without results")
        return outcome[0]

    return execute


def expected_tokens(point: Point) -> int | None:
    return point.num_prompts * point.osl if point.osl else None
