"""Measure the load generator itself against the emulator: `python -m benchmarking.selfbench`.

The emulator runs pinned to one core and the generator to the other (taskset). Streaming chat,
~128 input and 128 output tokens, one token per chunk, TTFT 50 ms, ITL 10 ms, closed loop.
Per concurrency level it prints: TTFT and ITL error against what the emulator really wrote,
achieved vs intended throughput, and the generator's CPU-microseconds per output token (its
whole process tree), plus its CPU share while waiting at concurrency 1 and its start-up CPU.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

from benchmarking import CHECKOUT
from benchmarking.deadline import deadline, urlopen

TTFT_MS, ITL_MS, ISL, OSL = 50.0, 10.0, 128, 128
LEVELS = (1, 16, 128, 512)


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def client(url: str, concurrency: int, count: int, startup_cpu: float) -> dict[str, object]:
    """Runs inside the pinned generator process: send, then report what it measured."""
    from benchmarking.client import driver
    from benchmarking.client.requests import CHAT, Prompt, Target, http_request, request_body

    target = Target.from_url(url, {})
    prompt = Prompt(" ".join(["w"] * ISL), ISL, OSL)
    plan = driver.Plan(
        target,
        tuple(
            driver.Planned(
                i,
                http_request(
                    target, CHAT, request_body("m", prompt, CHAT, True), f"c{concurrency}-{i}"
                ),
                0,
                ISL,
            )
            for i in range(count)
        ),
        concurrency,
    )
    before, wall = cpu_seconds(), time.perf_counter()
    outcome = driver.run(plan)
    results, start_ns = outcome.results, outcome.start_ns
    return {
        "cpu_s": cpu_seconds() - before,
        "wall_s": time.perf_counter() - wall,
        "startup_cpu_s": startup_cpu,
        "start_ns": start_ns,
        "requests": [
            {
                "id": f"c{concurrency}-{r.index}",
                "sent_ns": r.sent_ns,
                "ttft_ms": r.ttft_ms,
                "itl_ms": r.itl_ms,
                "ok": r.success,
                "tokens": r.output_tokens,
                "last_ns": r.token_ns[-1] if r.token_ns else 0,
            }
            for r in results
        ],
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinned(core: int, argv: list[str]) -> list[str]:
    return (["taskset", "-c", str(core)] if shutil.which("taskset") else []) + argv


def start_emulator(port: int) -> subprocess.Popen[str]:
    argv = pinned(
        0,
        [
            sys.executable,
            "-m",
            "benchmarking.emulator",
            "--port",
            str(port),
            "--ttft-ms",
            str(TTFT_MS),
            "--itl-ms",
            str(ITL_MS),
        ],
    )
    process = subprocess.Popen(argv, cwd=CHECKOUT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and "listening" in process.stdout.readline()
    return process


def measure(concurrency: int, count: int) -> dict[str, float]:
    port = free_port()
    emulator = start_emulator(port)
    try:
        argv = pinned(
            1,
            [
                sys.executable,
                "-m",
                "benchmarking.selfbench",
                "--client",
                f"http://127.0.0.1:{port}",
                "--concurrency",
                str(concurrency),
                "--requests",
                str(count),
            ],
        )
        output = subprocess.run(argv, cwd=CHECKOUT, capture_output=True, text=True, check=True)
        report = json.loads(output.stdout)
        records = f"http://127.0.0.1:{port}/emulator/records"
        with deadline(60, "GET /emulator/records"), urlopen(records, 60) as reply:
            truth = {r["request_id"]: r for r in json.loads(reply.read())}
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    return compare(report, truth, concurrency)


def compare(
    report: dict[str, Any], truth: dict[str, dict[str, Any]], concurrency: int
) -> dict[str, float]:
    rows = [r for r in report["requests"] if r["ok"]]
    client_ttft = statistics.fmean(r["ttft_ms"] for r in rows)
    wire_ttft = statistics.fmean((truth[r["id"]]["chunk_ns"][0] - r["sent_ns"]) / 1e6 for r in rows)
    client_itl = statistics.fmean(gap for r in rows for gap in r["itl_ms"])
    wire = [truth[r["id"]]["chunk_ns"] for r in rows]
    wire_itl = statistics.fmean((c[-1] - c[0]) / 1e6 / (len(c) - 1) for c in wire)
    tokens = sum(r["tokens"] for r in rows)
    duration = (max(r["last_ns"] for r in rows) - report["start_ns"]) / 1e9
    intended = concurrency * OSL / ((TTFT_MS + (OSL - 1) * ITL_MS) / 1000)
    return {
        "concurrency": concurrency,
        "requests": len(rows),
        "ttft_ms": client_ttft,
        "ttft_err_pct": 100 * (client_ttft / wire_ttft - 1),
        "itl_ms": client_itl,
        "itl_err_pct": 100 * (client_itl / wire_itl - 1),
        "tput": tokens / duration,
        "tput_err_pct": 100 * (tokens / duration / intended - 1),
        "cpu_us_per_token": 1e6 * float(report["cpu_s"]) / tokens,
        "cpu_share": float(report["cpu_s"]) / float(report["wall_s"]),
        "startup_cpu_s": float(report["startup_cpu_s"]),
    }


def table(rows: list[dict[str, float]]) -> str:
    lines = [
        "| concurrency | TTFT ms (err vs wire) | ITL ms (err vs wire) | output tok/s "
        "(vs intended) | client CPU-µs/token | client CPU while running |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['concurrency']:.0f} | {r['ttft_ms']:.2f} ({r['ttft_err_pct']:+.2f}%) | "
            f"{r['itl_ms']:.3f} ({r['itl_err_pct']:+.2f}%) | {r['tput']:.0f} "
            f"({r['tput_err_pct']:+.2f}%) | {r['cpu_us_per_token']:.1f} | "
            f"{100 * r['cpu_share']:.1f}% |"
        )
    lines.append(f"\nclient start-up CPU: {rows[0]['startup_cpu_s']:.2f} s")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarking.selfbench")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--requests", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--rounds", type=int, default=3, help="requests per stream")
    args = parser.parse_args(argv)
    if args.client:
        startup = cpu_seconds()
        print(json.dumps(client(args.client, args.concurrency, args.requests, startup)))
        return 0
    rows = []
    for level in (int(x) for x in args.levels.split(",")):
        rows.append(measure(level, max(level * args.rounds, 8)))
        print(f"measured concurrency {level}", file=sys.stderr, flush=True)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
