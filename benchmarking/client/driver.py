"""Send a plan of requests on an absolute clock, with bounded concurrency, across processes.

Each worker process runs its own event loop (uvloop when installed) over its share of the
requests; all share CLOCK_MONOTONIC (perf_counter_ns), so one start time serves them all.
Parsing happens in each worker after its last request, never while streams are open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import math
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from benchmarking.client.connection import RawResponse, StreamingConnection
from benchmarking.client.requests import Target
from benchmarking.client.result import RequestResult, build_result
from benchmarking.client.wakeup import WakeLatency, low_wake_latency

START_MARGIN_NS = 5_000_000  # after every worker is ready
DEFAULT_REQUEST_TIMEOUT_S = 600.0
WAVE_SLACK_S = 1.0  # per wave of requests in a derived deadline: sending, connecting
REPORT_GRACE_S = 60.0  # after the point's deadline, for workers to parse and report
NOT_SENT_TIME_UP = "not sent: the point's duration had passed"  # dropped, not a failure
MAX_WORKERS = 256


@dataclass(frozen=True)
class Planned:
    index: int
    payload: bytes
    offset_ns: int  # arrival time after the run's start
    prompt_tokens: int


@dataclass(frozen=True)
class Plan:
    target: Target
    requests: tuple[Planned, ...]
    max_concurrency: int  # 0: unbounded
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S  # each request, from its send
    deadline_s: float | None = None  # the whole plan, from the start; None: derived
    send_until_s: float | None = None  # a timed point: no request is sent after this
    model: str | None = None  # the served model: a stream naming another fails; None: unchecked

    def resolved_deadline_s(self) -> float:
        """Given, or the last arrival plus, per wave of concurrent requests, one request timeout
        and a second: past it, no request can still be running within its own timeout."""
        if self.deadline_s is not None:
            return self.deadline_s
        if self.send_until_s is not None:
            return self.send_until_s + self.request_timeout_s + WAVE_SLACK_S
        waves = math.ceil(len(self.requests) / self.max_concurrency) if self.max_concurrency else 1
        last = max((p.offset_ns for p in self.requests), default=0) / 1e9
        return last + max(waves, 1) * (self.request_timeout_s + WAVE_SLACK_S)


@dataclass(frozen=True)
class RunOutcome:
    results: list[RequestResult]  # sorted by request index
    start_ns: int
    wake: WakeLatency


@dataclass(frozen=True)
class Limits:
    """A run's clock: when it started, each request's own time limit, the plan's deadline."""

    start_ns: int
    request_timeout_ns: int
    deadline_ns: int
    send_until_ns: int | None = None

    @classmethod
    def of(cls, plan: Plan, start_ns: int) -> Limits:
        deadline = start_ns + int(plan.resolved_deadline_s() * 1e9)
        until = None if plan.send_until_s is None else start_ns + int(plan.send_until_s * 1e9)
        return cls(start_ns, int(plan.request_timeout_s * 1e9), deadline, until)

    def time_up(self) -> bool:
        """A timed point's sending time has passed."""
        return self.send_until_ns is not None and time.perf_counter_ns() >= self.send_until_ns

    def for_request(self, sent_ns: int) -> tuple[int, str]:
        """The request's deadline, and what to record if it passes."""
        own = sent_ns + self.request_timeout_ns
        if own <= self.deadline_ns:
            return own, f"timed out after {self.request_timeout_ns / 1e9:g} s (request_timeout)"
        return self.deadline_ns, "timed out: the point's deadline passed"


class DoneCounter:
    """Requests finished and stream events read, for a progress display: one slot per worker
    process, each written by its own worker only, so no lock is shared (a worker killed while
    holding one would hang all)."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("fork")
        self.counts = context.RawArray("q", MAX_WORKERS)
        self.events = context.RawArray("q", MAX_WORKERS)  # `data:` lines: a token each, about

    @property
    def value(self) -> int:
        return int(sum(self.counts))

    @property
    def streamed(self) -> int:
        """Stream events read so far, finished requests or not (about one per token)."""
        return int(sum(self.events))

    def tick(self, worker: int) -> None:
        self.counts[worker] += 1

    def read(self, worker: int, data: bytes) -> None:
        self.events[worker] += data.count(b"data:")


@dataclass(frozen=True)
class Tally:
    """One worker's slot in a DoneCounter: what its requests report as they go."""

    counter: DoneCounter
    worker: int

    def done(self) -> None:
        self.counter.tick(self.worker)

    def read(self, data: bytes) -> None:
        self.counter.read(self.worker, data)


def tally(done: DoneCounter | None, worker: int) -> Tally | None:
    return None if done is None else Tally(done, worker)


class ConnectionPool:
    def __init__(self, target: Target, tally: Tally | None = None) -> None:
        self.target = target
        self.idle: list[StreamingConnection] = []
        self.on_read = tally.read if tally is not None else None

    async def acquire(self, deadline_ns: int, reuse: bool = True) -> StreamingConnection:
        while self.idle and reuse:
            connection = self.idle.pop()
            if (
                connection.keep_alive
                and connection.transport is not None
                and not connection.transport.is_closing()
            ):
                return connection
        loop = asyncio.get_running_loop()
        connect = loop.create_connection(
            lambda: StreamingConnection(self.on_read), self.target.host, self.target.port
        )
        _, protocol = await asyncio.wait_for(connect, _seconds_left(deadline_ns))
        return protocol

    def release(self, connection: StreamingConnection) -> None:
        if connection.keep_alive:
            self.idle.append(connection)
        elif connection.transport is not None:
            connection.transport.close()

    def close(self) -> None:
        for connection in self.idle:
            if connection.transport is not None:
                connection.transport.close()


def _seconds_left(deadline_ns: int) -> float:
    return max(deadline_ns - time.perf_counter_ns(), 0) / 1e9


async def _send(
    planned: Planned,
    limits: Limits,
    pool: ConnectionPool,
    slots: asyncio.Semaphore | None,
    tally: Tally | None,
) -> tuple[Planned, RawResponse, int]:
    scheduled = limits.start_ns + planned.offset_ns
    delay = (scheduled - time.perf_counter_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)
    if slots is not None:
        await slots.acquire()
    try:
        if limits.time_up():
            return (
                planned,
                RawResponse(sent_ns=time.perf_counter_ns(), error=NOT_SENT_TIME_UP),
                scheduled,
            )
        raw = await send_one(pool, planned.payload, limits)
        if tally is not None:
            tally.done()
        return planned, raw, scheduled
    finally:
        if slots is not None:
            slots.release()


async def send_one(pool: ConnectionPool, payload: bytes, limits: Limits) -> RawResponse:
    """One request to its end, its time limit or a failure; never raises for the server's sake."""
    now = time.perf_counter_ns()
    if now >= limits.deadline_ns:
        return RawResponse(sent_ns=now, error="not sent: the point's deadline had passed")
    deadline_ns, timed_out = limits.for_request(now)
    try:
        return await _exchange(pool, payload, deadline_ns, timed_out)
    except OSError as error:
        return RawResponse(sent_ns=now, error=f"connect failed: {error}")
    except asyncio.TimeoutError:
        return RawResponse(sent_ns=now, error=f"connect {timed_out}")


async def _exchange(
    pool: ConnectionPool, payload: bytes, deadline_ns: int, timed_out: str
) -> RawResponse:
    """Send on an idle connection; if the server had closed it before reading a byte of ours,
    send again on a fresh one (what HTTP clients do for a stale keep-alive connection)."""
    connection = await pool.acquire(deadline_ns)
    raw = await _response(connection, payload, deadline_ns, timed_out)
    if raw.error and not raw.reads:
        connection = await pool.acquire(deadline_ns, reuse=False)
        raw = await _response(connection, payload, deadline_ns, timed_out)
    pool.release(connection)
    return raw


async def _response(
    connection: StreamingConnection, payload: bytes, deadline_ns: int, timed_out: str
) -> RawResponse:
    try:
        return await asyncio.wait_for(connection.request(payload), _seconds_left(deadline_ns))
    except asyncio.TimeoutError:
        return connection.abandon(timed_out)


async def run_plan(
    plan: Plan, start_ns: int, tally: Tally | None = None
) -> list[tuple[Planned, RawResponse, int]]:
    pool = ConnectionPool(plan.target, tally)
    slots = asyncio.Semaphore(plan.max_concurrency) if plan.max_concurrency else None
    limits = Limits.of(plan, start_ns)
    try:
        sends = (_send(p, limits, pool, slots, tally) for p in plan.requests)
        return list(await asyncio.gather(*sends))
    finally:
        pool.close()


StartClock = Callable[[], int]  # called once a process is ready; returns the common start


def execute(plan: Plan, start_clock: StartClock, tally: Tally | None = None) -> RunOutcome:
    """Run a plan in this process, then parse everything it read.

    The garbage collector is paused while streams are open: a full collection over a large
    heap (a forked worker inherits its parent's) would hold every timestamp back by its length.
    The start time is fixed only after that preparation, so no request starts late because of it.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        with low_wake_latency() as wake:
            start_ns = start_clock()
            sent = _run_loop(plan, start_ns, tally)
    finally:
        gc.enable()
        gc.unfreeze()
    results = [
        build_result(p.index, raw, scheduled, p.prompt_tokens, count_words, plan.model)
        for p, raw, scheduled in sent
    ]
    return RunOutcome(sorted(results, key=lambda r: r.index), start_ns, wake)


def count_words(text: str) -> int:
    return len(text.split())


def _run_loop(
    plan: Plan, start_ns: int, tally: Tally | None
) -> list[tuple[Planned, RawResponse, int]]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run_plan(plan, start_ns, tally))
    return uvloop.run(run_plan(plan, start_ns, tally))


def split_plan(plan: Plan, workers: int) -> list[Plan]:
    """Round-robin the requests over workers; each gets its share of the concurrency and the
    whole plan's deadline."""
    shares = [plan.requests[i::workers] for i in range(workers)]
    concurrency = [0] * workers
    if plan.max_concurrency:
        for i in range(plan.max_concurrency):
            concurrency[i % workers] += 1
    deadline = plan.resolved_deadline_s()
    return [
        dataclasses.replace(
            plan, requests=tuple(share), max_concurrency=concurrency[i], deadline_s=deadline
        )
        for i, share in enumerate(shares)
        if share and (concurrency[i] or not plan.max_concurrency)
    ]


def _now_plus_margin() -> int:
    return time.perf_counter_ns() + START_MARGIN_NS


def run(
    plan: Plan, workers: int = 1, in_process: bool = True, done: DoneCounter | None = None
) -> RunOutcome:
    """Results sorted by request index, the common start time (ns), and whether the low
    wake-up latency request was held.

    With `in_process=False` even one worker runs in a child, leaving this process free to show
    progress (read from `done`) without touching the timing of the streams. A worker that dies
    or misses the deadline costs its own requests (failed, with the reason), not the run.
    """
    if workers <= 1 and in_process:
        return execute(plan, _now_plus_margin, tally(done, 0))
    return _run_processes(split_plan(plan, min(max(workers, 1), MAX_WORKERS)), done)


class _SharedStart:
    """Every worker reports ready; the last one to do so fixes the start time for all. If a
    worker is gone before that (the barrier is aborted), the others start on their own."""

    def __init__(self, context: Any, parties: int) -> None:
        self.barrier = context.Barrier(parties)
        self.start = context.RawValue("q", 0)

    def __call__(self) -> int:
        try:
            if self.barrier.wait() == 0:
                self.start.value = _now_plus_margin()
            self.barrier.wait()
        except threading.BrokenBarrierError:
            return int(self.start.value) or _now_plus_margin()
        return int(self.start.value)

    def abort(self) -> None:
        """Let workers waiting for a lost one go; once the start is fixed, nobody waits."""
        if not self.start.value:
            self.barrier.abort()


@dataclass(frozen=True)
class WorkerFailure:
    reason: str


def _worker(plan: Plan, clock: _SharedStart, report: Connection, counts: Tally | None) -> None:
    # Stopping is the parent's business: Ctrl-C reaches the whole process group and is the
    # parent's to handle; SIGTERM (the parent stopping, or the runner stopping the parent) ends
    # a worker at once, without the parent's handler and its traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        outcome: RunOutcome | WorkerFailure = execute(plan, clock, counts)
    except Exception as error:
        outcome = WorkerFailure(f"worker process failed: {type(error).__name__}: {error}")
    report.send(outcome)
    report.close()


@dataclass
class _Running:
    """A worker process, the read end of the pipe it reports on, and its share of the plan."""

    process: Any
    report: Connection
    plan: Plan

    def waitables(self) -> list[Any]:
        return [self.report, self.process.sentinel]

    def receive(self) -> RunOutcome | WorkerFailure:
        """Its report, or why there is none (ready means: it reported, or it is gone)."""
        message: object = None
        if self.report.poll():
            try:
                message = self.report.recv()
            except (EOFError, OSError):
                message = None
        self.process.join(5)
        if isinstance(message, (RunOutcome, WorkerFailure)):
            return message
        return WorkerFailure(
            f"worker process exited with code {self.process.exitcode} before reporting"
        )

    def stop(self) -> WorkerFailure:
        self.process.kill()
        self.process.join(5)
        return WorkerFailure("worker process did not report by the point's deadline")


def _start_workers(
    context: Any, plans: Sequence[Plan], clock: _SharedStart, done: DoneCounter | None
) -> list[_Running]:
    running = []
    for i, plan in enumerate(plans):
        reader, writer = context.Pipe(duplex=False)
        counts = tally(done, i)
        process = context.Process(target=_worker, args=(plan, clock, writer, counts), daemon=True)
        process.start()
        writer.close()  # the child holds the only write end: its death is an EOF here
        running.append(_Running(process, reader, plan))
    return running


def _collect(
    running: list[_Running], clock: _SharedStart, deadline: float
) -> list[tuple[_Running, RunOutcome | WorkerFailure]]:
    """Each worker's report, waiting on its pipe and its process sentinel until the deadline."""
    pending = list(running)
    reports: list[tuple[_Running, RunOutcome | WorkerFailure]] = []
    while pending:
        ready = set(
            wait([w for r in pending for w in r.waitables()], max(deadline - time.monotonic(), 0))
        )
        if not ready:
            reports += [(r, r.stop()) for r in pending]
            break
        for worker in [r for r in pending if ready.intersection(r.waitables())]:
            pending.remove(worker)
            report = worker.receive()
            if isinstance(report, WorkerFailure):
                clock.abort()  # the others may wait for it at the start: let them go
            reports.append((worker, report))
    return reports


def _failed(plan: Plan, start_ns: int, reason: str) -> list[RequestResult]:
    return [
        RequestResult(
            p.index, False, reason, start_ns + p.offset_ns, start_ns + p.offset_ns, p.prompt_tokens
        )
        for p in plan.requests
    ]


def _run_processes(plans: Sequence[Plan], done: DoneCounter | None) -> RunOutcome:
    context = multiprocessing.get_context("fork")
    clock = _SharedStart(context, len(plans))
    deadline = time.monotonic() + max(p.resolved_deadline_s() for p in plans) + REPORT_GRACE_S
    reports = _collect(_start_workers(context, plans, clock, done), clock, deadline)
    outcomes = [o for _, o in reports if isinstance(o, RunOutcome)]
    start_ns = (
        outcomes[0].start_ns if outcomes else int(clock.start.value) or time.perf_counter_ns()
    )
    results = [r for o in outcomes for r in o.results]
    for worker, outcome in reports:
        if isinstance(outcome, WorkerFailure):
            results += _failed(worker.plan, start_ns, outcome.reason)
    wake = WakeLatency.combined([o.wake for o in outcomes])
    return RunOutcome(sorted(results, key=lambda r: r.index), start_ns, wake)
