"""`python -m benchmarking.tools --tool aiperf|guidellm ...`: the benchmarks sweep run by a
third-party tool, in that tool's environment, one result file per point in our schema.

    python -m benchmarking.tools --tool aiperf --runtime-spec run/runtime_spec.json \
        --server-url http://host:8000 --output-dir run/benchmarks --tokenizer model.gguf \
        [--workflow-args-json '{"smoke": true}']

The bearer token comes from OPENAI_API_KEY and reaches the tool through its environment.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from benchmarking import intervals, metrics, report
from benchmarking.client_cpu import CpuClock
from benchmarking.failures import run_reporting_failures
from benchmarking.local_tokenizer import TokenizerSourceError, load_local_tokenizer, write_hf_folder
from benchmarking.point_document import Measurement, Outcome, point_document
from benchmarking.server_api import (
    SERVED_MODEL_ARG,
    auth_headers,
    expected_model,
    require_served_model,
)
from benchmarking.settings import Settings, SettingsError, settings_from
from benchmarking.sweep import Point, spec_sweep, unmeasured_targets
from benchmarking.telemetry.point import NOT_SCRAPED, duration_of
from benchmarking.telemetry.session import Session, not_scraped, scraping
from benchmarking.tools import aiperf, guidellm, request_rows
from benchmarking.tools.convert import complete
from reports.redaction import redact_file, redacting_stream, register_environment_secrets
from reports.results import Identity, write_json, write_jsonl

DRIVERS = {"aiperf": aiperf, "guidellm": guidellm}
TAIL = 10


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarking.tools")
    parser.add_argument("--tool", choices=sorted(DRIVERS), required=True)
    parser.add_argument("--runtime-spec", type=Path, required=True)
    parser.add_argument("--server-url", required=True)
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--workflow-args-json", default="{}")
    parser.add_argument("--tokenizer", type=Path)
    return parser.parse_args(argv)


def tokenizer_folder(source: Path | None, tool: str, output_dir: Path) -> tuple[Path, str]:
    """A Hugging Face tokenizer folder the tool loads offline, made from the model's own files,
    and what it was made from."""
    if source is None:
        raise TokenizerSourceError(
            f"tool={tool} makes its prompts with the model's tokenizer and none is on this host; "
            "pass --host-weights-dir (or MODEL_WEIGHTS_DIR) with tokenizer.json or a GGUF"
        )
    local = load_local_tokenizer(source)
    return write_hf_folder(local, output_dir / f"{tool}-tokenizer"), local.name


@dataclass(frozen=True)
class ToolRun:
    tool: str
    settings: Settings
    output_dir: Path
    base_url: str
    model: str
    tokenizer_dir: Path
    identity: Identity
    tokenizer: str  # what the tool's tokenizer folder was made from
    console: Console
    telemetry: Session | None = None  # the scraper of the server's /metrics, if it runs


def tool_env(tool: str, output_dir: Path) -> dict[str, str]:
    """The tools' caches stay inside the run folder. GuideLLM runs with the hub switched off;
    AIPerf cannot (its offline mode takes every tokenizer name for a hub repo), and needs no hub
    when given a local tokenizer folder."""
    env = dict(
        os.environ, HF_HOME=str(output_dir / "hf-home"), MPLCONFIGDIR=str(output_dir / "mpl")
    )
    if tool == "guidellm":
        env |= {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return env


TOOL_START_S = 120.0  # a tool's own start-up (imports, tokenizer, workers) before its first request
WAVE_SLACK_S = 1.0


def tool_deadline_s(point: Point, settings: Settings) -> float:
    """How long a tool may take for a point: its start-up, then per wave of concurrent requests
    (warm-ups included) one request timeout and a second. Past it, no request can still be
    within its own timeout, and the tool is stopped."""
    waves = math.ceil(point.num_prompts / max(point.concurrency, 1)) + settings.warmups
    return TOOL_START_S + waves * (settings.request_timeout_s(point.osl) + WAVE_SLACK_S)


def run_tool(
    tool: str, argv: list[str], out: Path, console: Console, deadline_s: float
) -> str | None:
    """Run the tool to its deadline; None when it succeeded, else why it did not."""
    out.mkdir(parents=True, exist_ok=True)
    log = out / f"{tool}.log"
    command = [sys.executable, "-m", "benchmarking.tools.launch", tool, *argv]
    code = run_to_deadline(command, log, tool_env(tool, out), deadline_s)
    redact_file(log)  # the tool prints what the server said, an echoed token too
    why = None if code == 0 else f"{tool} failed (exit {code})"
    if code is None:
        why = f"{tool} did not finish within the point's deadline ({deadline_s:.0f}s)"
    if why is not None:
        lines = [line for line in log.read_text().splitlines() if line.strip()][-TAIL:]
        console.print(f"{why}; log: {log}", markup=False)
        for line in lines:
            console.print(f"  {line}", markup=False)
    return why


def run_to_deadline(
    command: list[str], log: Path, env: dict[str, str], deadline_s: float
) -> int | None:
    """The command's exit code, or None when it was stopped at its deadline. It stays in our
    process group, so a runner that dies takes it and its workers along."""
    with log.open("w") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env)
        try:
            return process.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            stop_with_workers(process)
            return None
        except BaseException:  # Ctrl-C: the tool and its workers go too
            stop_with_workers(process)
            raise


def stop_with_workers(process: subprocess.Popen[bytes], grace_s: float = 5.0) -> None:
    """SIGTERM to the tool (it stops its own workers), then SIGKILL after `grace_s` to the
    tool and every process it started that is still there."""
    family = descendants(process.pid)
    _signal(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        family |= descendants(process.pid)
        _signal(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    for pid in family:
        _signal(pid, signal.SIGKILL)


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc (Linux)."""
    found: set[int] = set()
    pending = [pid]
    while pending:
        parent = pending.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    pending.append(child)
    return found


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def run_point(run: ToolRun, point: Point) -> dict[str, object]:
    driver = DRIVERS[run.tool]
    tag = f"isl-{point.isl}_osl-{point.osl}_maxcon-{point.concurrency}_n-{point.num_prompts}"
    out = run.output_dir / run.tool / tag
    argv = driver.command(point, run.settings, run.model, run.base_url, run.tokenizer_dir, out)
    run.console.print(f"{run.tool}: ISL {point.isl} OSL {point.osl} C {point.concurrency}")
    watch = run.telemetry.begin(tag) if run.telemetry else not_scraped(NOT_SCRAPED)
    start_ns = time.perf_counter_ns()  # the tool's launch: its series' zero
    clock = CpuClock.start()
    why = run_tool(run.tool, argv, out, run.console, tool_deadline_s(point, run.settings))
    cpu = clock.used()
    document, rows = converted(run, point, out) if why is None else failed_point(run, point, why)
    document |= cpu
    document |= intervals.interval_fields([intervals.repeat_of(document, rows)])
    document["server_telemetry"] = watch.finish(start_ns, duration_of(document)).as_dict()
    write_jsonl(run.output_dir / f"benchmark_{tag}_requests.jsonl", rows)
    write_json(run.output_dir / f"benchmark_{tag}.json", document)
    return document


def converted(
    run: ToolRun, point: Point, out: Path
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The point's document and request rows from the tool's own report in `out`."""
    export = out / DRIVERS[run.tool].EXPORT
    if not export.is_file():
        return failed_point(run, point, f"{run.tool} wrote no {export.name}")
    exported = json.loads(export.read_text())
    summary = DRIVERS[run.tool].convert(exported, run.settings.percentiles)
    rows = (
        request_rows.guidellm_rows(exported)
        if run.tool == "guidellm"
        else request_rows.aiperf_rows(out / request_rows.AIPERF_RECORDS)
    )
    notes = tuple(f"{run.tool}'s output lacks {name}" for name in complete(summary))
    version = summary.pop("tool_version", None)
    outcome = Outcome(
        summary,
        metrics.error_counts(str(r["error"]) for r in rows if r["error"]),
        metrics.cache_summary([]),
        notes,
    )
    return result_document(run, point, outcome, version), rows


def failed_point(
    run: ToolRun, point: Point, why: str | None = None
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """A point the tool did not measure: every request counts as failed, with the reason."""
    reason = why or f"{run.tool} failed"
    summary = {"completed": 0, "failed": point.num_prompts}
    outcome = Outcome(summary, {reason: point.num_prompts}, metrics.cache_summary([]))
    return result_document(run, point, outcome, None), []


def result_document(
    run: ToolRun, point: Point, outcome: Outcome, version: object
) -> dict[str, object]:
    measurement = Measurement(
        run.tool, None if version is None else str(version), run.tokenizer, True
    )
    return point_document("benchmark", run.identity, run.settings, point, measurement, outcome)


def run(args: argparse.Namespace, console: Console) -> int:
    runtime = json.loads(args.runtime_spec.read_text())
    spec = runtime["model_spec"]
    workflow_args = json.loads(args.workflow_args_json)
    wanted = expected_model(runtime, workflow_args.pop(SERVED_MODEL_ARG, None))
    try:
        settings = settings_from(workflow_args)
        tokenizer_dir, tokenizer = tokenizer_folder(args.tokenizer, args.tool, args.output_dir)
    except (SettingsError, TokenizerSourceError) as error:
        console.print(f"error: {error}", markup=False)
        return 2
    base_url = args.server_url.rstrip("/")
    model = require_served_model(base_url, auth_headers(), wanted)
    identity = Identity.from_runtime_spec(runtime, model)
    tool_run = ToolRun(
        args.tool,
        settings,
        args.output_dir,
        base_url,
        model,
        tokenizer_dir,
        identity,
        tokenizer,
        console,
    )
    points = spec_sweep(spec, settings)
    for line in unmeasured_targets(spec, points):
        console.print(f"note: {line}", markup=False)
    with scraping(base_url, args.output_dir, settings.telemetry_interval) as telemetry:
        tool_run = dataclasses.replace(tool_run, telemetry=telemetry)
        documents = [run_point(tool_run, point) for point in points]
    return report.verdict(
        console,
        documents,
        settings.max_failed,
        args.output_dir,
        f"benchmarks ({args.tool})",
        percentiles=settings.percentiles if settings.percentile_report else (),
    )


def main(argv: list[str]) -> int:
    args = parse(argv)
    register_environment_secrets(os.environ)  # an echoed token is masked on screen and on disk
    console = Console(file=redacting_stream(), highlight=False, soft_wrap=True)
    return run_reporting_failures(run, args, console)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
