"""Send a plan of requests on an absolute clock, with bounded concurrency, across processes.

Each worker process runs its own event loop (uvloop when installed) over its share of the
requests; all share CLOCK_MONOTONIC (perf_counter_ns), so one start time serves them all.
Parsing happens in each worker after its last request, never while streams are open.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from benchmarking.client.connection import RawResponse, StreamingConnection
from benchmarking.client.requests import Target
from benchmarking.client.result import RequestResult, build_result
from benchmarking.client.wakeup import low_wake_latency

START_MARGIN_NS = 5_000_000  # after every worker is ready


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


class ConnectionPool:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.idle: list[StreamingConnection] = []

    async def acquire(self, reuse: bool = True) -> StreamingConnection:
        while self.idle and reuse:
            connection = self.idle.pop()
            if (
                connection.keep_alive
                and connection.transport is not None
                and not connection.transport.is_closing()
            ):
                return connection
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(
            StreamingConnection, self.target.host, self.target.port
        )
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


class Counter(Protocol):
    value: int


async def _send(
    planned: Planned,
    start_ns: int,
    pool: ConnectionPool,
    slots: asyncio.Semaphore | None,
    done: Counter | None,
) -> tuple[Planned, RawResponse, int]:
    scheduled = start_ns + planned.offset_ns
    delay = (scheduled - time.perf_counter_ns()) / 1e9
    if delay > 0:
        await asyncio.sleep(delay)
    if slots is not None:
        await slots.acquire()
    try:
        try:
            raw = await _exchange(pool, planned.payload)
        except OSError as error:
            raw = RawResponse(sent_ns=time.perf_counter_ns(), error=f"connect failed: {error}")
        if done is not None:
            done.value += 1
        return planned, raw, scheduled
    finally:
        if slots is not None:
            slots.release()


async def _exchange(pool: ConnectionPool, payload: bytes) -> RawResponse:
    """Send on an idle connection; if the server had closed it before reading a byte of ours,
    send again on a fresh one (what HTTP clients do for a stale keep-alive connection)."""
    connection = await pool.acquire()
    raw = await connection.request(payload)
    if raw.error and not raw.reads:
        connection = await pool.acquire(reuse=False)
        raw = await connection.request(payload)
    pool.release(connection)
    return raw


async def run_plan(
    plan: Plan, start_ns: int, done: Counter | None = None
) -> list[tuple[Planned, RawResponse, int]]:
    pool = ConnectionPool(plan.target)
    slots = asyncio.Semaphore(plan.max_concurrency) if plan.max_concurrency else None
    try:
        sends = (_send(p, start_ns, pool, slots, done) for p in plan.requests)
        return list(await asyncio.gather(*sends))
    finally:
        pool.close()


StartClock = Callable[[], int]  # called once a process is ready; returns the common start


def execute(
    plan: Plan, start_clock: StartClock, done: Counter | None = None
) -> tuple[list[RequestResult], int]:
    """Run a plan in this process, then parse everything it read.

    The garbage collector is paused while streams are open: a full collection over a large
    heap (a forked worker inherits its parent's) would hold every timestamp back by its length.
    The start time is fixed only after that preparation, so no request starts late because of it.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        with low_wake_latency(os.environ.get("READINESS_WAKE_QOS", "1") != "0"):
            start_ns = start_clock()
            sent = _run_loop(plan, start_ns, done)
    finally:
        gc.enable()
        gc.unfreeze()
    results = [
        build_result(p.index, raw, scheduled, p.prompt_tokens, count_words)
        for p, raw, scheduled in sent
    ]
    return results, start_ns


def count_words(text: str) -> int:
    return max(len(text.split()), 1)


def _run_loop(
    plan: Plan, start_ns: int, done: Counter | None
) -> list[tuple[Planned, RawResponse, int]]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(run_plan(plan, start_ns, done))
    return uvloop.run(run_plan(plan, start_ns, done))


def split_plan(plan: Plan, workers: int) -> list[Plan]:
    """Round-robin the requests over workers; each gets its share of the concurrency."""
    shares = [plan.requests[i::workers] for i in range(workers)]
    concurrency = [0] * workers
    if plan.max_concurrency:
        for i in range(plan.max_concurrency):
            concurrency[i % workers] += 1
    return [
        Plan(plan.target, tuple(share), concurrency[i])
        for i, share in enumerate(shares)
        if share and (concurrency[i] or not plan.max_concurrency)
    ]


def _now_plus_margin() -> int:
    return time.perf_counter_ns() + START_MARGIN_NS


def run(
    plan: Plan, workers: int = 1, in_process: bool = True, done: Counter | None = None
) -> tuple[list[RequestResult], int]:
    """Results sorted by request index, and the common start time (ns).

    With `in_process=False` even one worker runs in a child, leaving this process free to show
    progress (read from `done`, a shared counter) without touching the timing of the streams.
    """
    if workers <= 1 and in_process:
        results, start_ns = execute(plan, _now_plus_margin, done)
        return sorted(results, key=lambda r: r.index), start_ns
    return _run_processes(split_plan(plan, max(workers, 1)), done)


class _SharedStart:
    """Every worker reports ready; the last one to do so fixes the start time for all."""

    def __init__(self, context: Any, parties: int) -> None:
        self.barrier = context.Barrier(parties)
        self.start = context.Value("q", 0)

    def __call__(self) -> int:
        if self.barrier.wait() == 0:
            self.start.value = _now_plus_margin()
        self.barrier.wait()
        return int(self.start.value)


def _worker(
    plan: Plan,
    clock: _SharedStart,
    queue: multiprocessing.Queue,  # type: ignore[type-arg]
    done: Counter | None,
) -> None:
    queue.put(execute(plan, clock, done))


def _run_processes(plans: Sequence[Plan], done: Counter | None) -> tuple[list[RequestResult], int]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    clock = _SharedStart(context, len(plans))
    processes = [
        context.Process(target=_worker, args=(p, clock, queue, done), daemon=True) for p in plans
    ]
    for process in processes:
        process.start()
    outcomes = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    results = [result for part, _ in outcomes for result in part]
    return sorted(results, key=lambda r: r.index), outcomes[0][1]
