"""Send a plan of requests on an absolute clock, with bounded concurrency, across processes.

Each worker process runs its own event loop (uvloop when installed) over its share of the
requests; all share CLOCK_MONOTONIC (perf_counter_ns), so one start time serves them all.
Parsing happens in each worker after its last request, never while streams are open.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from benchmarking.client.connection import RawResponse, StreamingConnection
from benchmarking.client.requests import Target
from benchmarking.client.result import RequestResult, build_result

START_DELAY_NS = 300_000_000


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


def execute(plan: Plan, start_ns: int, done: Counter | None = None) -> list[RequestResult]:
    """Run a plan in this process, then parse everything it read.

    The garbage collector is paused while streams are open: a full collection over a large
    heap (a forked worker inherits its parent's) would hold every timestamp back by its length.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        sent = _run_loop(plan, start_ns, done)
    finally:
        gc.enable()
        gc.unfreeze()
    return [
        build_result(p.index, raw, scheduled, p.prompt_tokens, count_words)
        for p, raw, scheduled in sent
    ]


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


def _worker(
    plan: Plan,
    start_ns: int,
    queue: multiprocessing.Queue,  # type: ignore[type-arg]
    done: Counter | None,
) -> None:
    queue.put(execute(plan, start_ns, done))


def run(
    plan: Plan, workers: int = 1, in_process: bool = True, done: Counter | None = None
) -> tuple[list[RequestResult], int]:
    """Results sorted by request index, and the common start time (ns).

    With `in_process=False` even one worker runs in a child, leaving this process free to show
    progress (read from `done`, a shared counter) without touching the timing of the streams.
    """
    start_ns = time.perf_counter_ns() + (0 if in_process and workers <= 1 else START_DELAY_NS)
    if workers <= 1 and in_process:
        return sorted(execute(plan, start_ns, done), key=lambda r: r.index), start_ns
    return _run_processes(split_plan(plan, max(workers, 1)), start_ns, done), start_ns


def _run_processes(
    plans: Sequence[Plan], start_ns: int, done: Counter | None
) -> list[RequestResult]:
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [
        context.Process(target=_worker, args=(p, start_ns, queue, done), daemon=True) for p in plans
    ]
    for process in processes:
        process.start()
    results = [result for _ in processes for result in queue.get()]
    for process in processes:
        process.join()
    return sorted(results, key=lambda r: r.index)
