"""`python -m benchmarking`: the benchmarks workflow, runnable on its own against any server.

    python -m benchmarking --runtime-spec run/runtime_spec.json --server-url http://host:8000 \
        --output-dir run/benchmarks [--workflow-args-json '{"smoke": true}'] \
        [--tokenizer model.gguf|tokenizer.json|weights-folder]

The bearer token, if the server needs one, comes from OPENAI_API_KEY (never from argv). The
server must list the spec's model (or the `served_model` workflow argument's) in /v1/models.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from benchmarking import (
    bench,
    capacity,
    conversations,
    progress_view,
    repeats,
    report,
    stress,
    stress_plan,
)
from benchmarking.client.requests import Target
from benchmarking.datasets import SHAREGPT_MAX_PROMPT, ServerTokenizer, Tokenizer, pick_tokenizer
from benchmarking.failures import run_reporting_failures
from benchmarking.local_tokenizer import TokenizerSourceError, load_local_tokenizer
from benchmarking.server_api import (
    SERVED_MODEL_ARG,
    auth_headers,
    expected_model,
    require_served_model,
)
from benchmarking.settings import Settings, settings_from
from benchmarking.sweep import Point, spec_sweep, unmeasured_targets
from benchmarking.telemetry.session import scraping
from benchmarking.trace_capture import PADDED_LENGTHS, capture_traces
from reports.redaction import redacting_stream, register_environment_secrets
from reports.results import Identity


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarking")
    parser.add_argument("--runtime-spec", type=Path, required=True)
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--workflow-args-json", default="{}")
    parser.add_argument("--disable-trace-capture", action="store_true")
    parser.add_argument("--mode", choices=("benchmarks", "stress_tests"), default="benchmarks")
    parser.add_argument(
        "--control-dir",
        type=Path,
        help="another program's say: the first request waits for DIR/start to exist, and an "
        "endurance run ends after the window in flight once DIR/stop exists",
    )
    parser.add_argument(
        "--tokenizer",
        type=Path,
        help="the model's tokenizer offline: a GGUF file, a tokenizer.json or a folder with one",
    )
    return parser.parse_args(argv)


def padded(isl: int) -> int:
    return next((n for n in PADDED_LENGTHS if n >= isl), isl)


def runner_with_progress(
    console: Console,
    label: str,
    workers: int,
    tokens: int | None = None,
    sweep_left: progress_view.SweepLeft | None = None,
) -> bench.Progress:
    """Run the plan in worker processes; this process only shows its progress."""
    return progress_view.runner(console, label, workers, tokens, sweep_left)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def plan_points(
    mode: str, args: dict[str, object], spec: dict[str, Any]
) -> tuple[Settings, list[Point], float]:
    """Settings, points and (stress) endurance duration; ValueError names a bad argument."""
    if mode == "benchmarks":
        settings = settings_from(args)
        return settings, spec_sweep(spec, settings), 0.0
    plan = stress_plan.stress_plan(args, spec["max_context"], spec["max_concurrency"])
    return plan.settings, list(plan.points), plan.duration_s


def choose_tokenizer(console: Console, source: Path | None, server: ServerTokenizer) -> Tokenizer:
    """The offline tokenizer if it loads, else the server's, else words; says which."""
    local = None
    if source is not None:
        try:
            local = load_local_tokenizer(source)
        except TokenizerSourceError as error:
            console.print(f"note: no offline tokenizer ({error})", markup=False)
    chosen = pick_tokenizer(server, local, lambda text: console.print(f"note: {text}"))
    where = f" ({source})" if chosen is local else ""
    console.print(f"tokenizer: {chosen.name}{where}", markup=False)
    return chosen


def trace_lengths(points: list[Point], max_context: int) -> list[int]:
    """Each padded prompt length the sweep uses; ShareGPT prompts may take any up to 1024."""
    wanted: set[int] = set()
    for point in points:
        if point.isl:
            wanted.add(padded(point.isl))
        else:
            wanted |= {n for n in PADDED_LENGTHS if n <= SHAREGPT_MAX_PROMPT}
    return sorted(n for n in wanted if n + 4 <= max_context)


def warm_up(
    console: Console,
    base_url: str,
    headers: dict[str, str],
    model: str,
    points: list[Point],
    max_context: int,
) -> None:
    lengths = trace_lengths(points, max_context)
    capture_traces(base_url, headers, model, lengths)
    console.print(f"trace capture: {len(lengths)} prompt lengths ({', '.join(map(str, lengths))})")


def run_points(
    ctx: bench.Context,
    console: Console,
    points: list[Point],
    duration: float,
    spec: dict[str, Any] | None = None,
    control: Path | None = None,
) -> list[dict[str, object]]:
    def progress(label: str) -> bench.Progress:
        return runner_with_progress(console, label, ctx.settings.workers)

    if duration > 0:
        stop = (lambda: (control / "stop").exists()) if control else (lambda: False)
        stress.endurance(ctx, points[0], duration, progress, stop=stop)
        windows = sorted(ctx.output_dir.glob("stress_test_*_window-*[0-9].json"))
        return [json.loads(p.read_text()) | {"window": n} for n, p in enumerate(windows, 1)]
    search, highest = ctx.settings.search, (spec or {}).get("max_concurrency", 1)
    if search is not None and not search.with_sweep:
        return search_points(ctx, console, points, progress, highest)
    mode = ctx.settings.prefix_cache
    variants: tuple[str | None, ...] = bench.prefix_variants(mode) if mode else (None,)
    runs = [(p, variant) for p in points for variant in variants]
    sweep = progress_view.SweepClock([progress_view.point_work(p) for p, _ in runs])
    documents = []
    for index, (point, variant) in enumerate(runs):
        where = sweep.begin(index)

        def shown(
            label: str, point: Point = point, where: str = where, index: int = index
        ) -> bench.Progress:
            tokens = progress_view.expected_tokens(point)
            return runner_with_progress(
                console, f"{where} {label}", ctx.settings.workers, tokens, sweep.during(index)
            )

        documents.append(measured(ctx, console, point, variant, shown, spec or {}))
        sweep.finish(index)
    return documents + search_points(ctx, console, points, progress, highest)  # after the sweep


def search_points(
    ctx: bench.Context,
    console: Console,
    points: list[Point],
    progress: Callable[[str], bench.Progress],
    max_concurrency: int,
) -> list[dict[str, Any]]:
    """search=goodput: the points each search measured, in order; a line per search found.
    Beside the sweep's points (`search_with_sweep`), they go to a folder of their own, `search/`:
    a release judges its targets and failed requests on the sweep's points alone."""
    documents: list[dict[str, Any]] = []
    if ctx.settings.search is None:
        return documents
    beside = ctx.settings.search.with_sweep
    tried = dataclasses.replace(ctx, output_dir=ctx.output_dir / "search") if beside else ctx

    def measure(point: Point) -> Path:
        documents.append(measured(tried, console, point, None, progress, {}) | {"search": True})
        return bench.point_path(tried, point)

    for found in capacity.run_searches(
        ctx.settings, ctx.identity, ctx.output_dir, points, max_concurrency, measure
    ):
        console.print(capacity.summary_line(found), markup=False)
    return documents


def measured(
    ctx: bench.Context,
    console: Console,
    point: Point,
    variant: str | None,
    progress: Callable[[str], bench.Progress],
    spec: dict[str, Any],
) -> dict[str, Any]:
    """A point measured `repeat=` times, and again while an enforced target check's interval
    straddles its target (up to the spec's `max_repeats`)."""

    def once(repeat: int) -> dict[str, Any]:
        label = _label(point, variant) + (f" #{repeat}" if repeat else "")
        if repeat > 1:
            console.print(f"{_label(point, variant)}: measuring again (repeat {repeat})")
        user_turns = ctx.settings.dataset == "conversations"
        run = conversations.run_point if user_turns else bench.run_point
        return run(ctx, point, progress(label), prefix=variant, repeat=repeat)

    path = bench.point_path(ctx, point, variant)
    return repeats.measure(once, path, ctx.settings.repeat, spec if variant is None else {})


def _label(point: Point, prefix: str | None) -> str:
    label = f"ISL {point.isl:>6} OSL {point.osl:>5} C {point.concurrency:>3}"
    label += "" if math.isinf(point.rate) else f" rate {point.rate:g}/s"
    return label + (f" prefix {prefix}" if prefix else "")


def wait_for_start(path: Path, poll_s: float = 0.02) -> None:
    """Ready to send (tokenizer loaded, model checked): hold the first request until told."""
    while not path.exists():
        time.sleep(poll_s)


def main(argv: list[str]) -> int:
    """One line on the console for any failure; the traceback goes to <output-dir>/error.log."""
    signal.signal(signal.SIGTERM, _terminate)
    args = parse(argv)
    register_environment_secrets(os.environ)  # an echoed token is masked on screen and on disk
    console = Console(file=redacting_stream(), highlight=False, soft_wrap=True)
    if not console.is_terminal:
        width = max(console.width, 160)
        console = Console(file=redacting_stream(), highlight=False, soft_wrap=True, width=width)
    return run_reporting_failures(run, args, console)


def run(args: argparse.Namespace, console: Console) -> int:
    runtime = json.loads(args.runtime_spec.read_text())
    spec = runtime["model_spec"]
    workflow_args = json.loads(args.workflow_args_json)
    wanted = expected_model(runtime, workflow_args.pop(SERVED_MODEL_ARG, None))
    try:
        settings, points, duration = plan_points(args.mode, workflow_args, spec)
    except ValueError as error:
        console.print(f"error: --workflow-args: {error}", markup=False)
        return 2
    if args.mode == "benchmarks":
        for line in unmeasured_targets(spec, points):
            console.print(f"note: {line}", markup=False)
    headers = auth_headers()
    base_url = args.server_url.rstrip("/")
    model = require_served_model(base_url, headers, wanted)
    if not args.disable_trace_capture:
        warm_up(console, base_url, headers, model, points, spec["max_context"])
    ctx = bench.Context(
        Target.from_url(base_url, headers),
        model,
        settings,
        choose_tokenizer(console, args.tokenizer, ServerTokenizer(base_url, headers, model)),
        args.output_dir,
        Identity.from_runtime_spec(runtime, model),
        "benchmark" if args.mode == "benchmarks" else "stress_test",
    )
    if args.control_dir is not None:
        wait_for_start(args.control_dir / "start")
    with scraping(base_url, args.output_dir, settings.telemetry_interval) as telemetry:
        documents = run_points(
            dataclasses.replace(ctx, telemetry=telemetry),
            console,
            points,
            duration,
            spec if args.mode == "benchmarks" else None,  # targets are benchmark points'
            args.control_dir,
        )
    healthy = args.mode != "stress_tests" or stress.still_answers(base_url, headers)
    if not healthy:
        console.print("error: the server stopped answering /health after the stress test")
    percentiles = settings.percentiles if settings.percentile_report else ()
    if settings.search is not None and settings.search.with_sweep:
        documents = [d for d in documents if not d.get("search")]  # the sweep's decide
    max_failed = settings.max_failed
    if settings.search is not None and not settings.search.with_sweep:
        max_failed = 1.0  # a search overloads on purpose: failed requests miss the SLOs
    return report.verdict(
        console, documents, max_failed, args.output_dir, args.mode, healthy, percentiles
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
