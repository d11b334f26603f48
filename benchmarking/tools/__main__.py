"""`python -m benchmarking.tools --tool aiperf|guidellm ...`: the benchmarks sweep run by a
third-party tool, in that tool's environment, one result file per point in our schema.

    python -m benchmarking.tools --tool aiperf --runtime-spec run/runtime_spec.json \
        --server-url http://host:8000 --output-dir run/benchmarks --tokenizer model.gguf \
        [--workflow-args-json '{"smoke": true}']

The bearer token comes from OPENAI_API_KEY and reaches the tool through its environment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from benchmarking import report
from benchmarking.failures import run_reporting_failures
from benchmarking.local_tokenizer import TokenizerSourceError, load_local_tokenizer, write_hf_folder
from benchmarking.settings import Settings, SettingsError, settings_from
from benchmarking.sweep import Point, plan_sweep
from benchmarking.tools import aiperf, guidellm, request_rows
from benchmarking.tools.convert import complete

DRIVERS = {"aiperf": aiperf, "guidellm": guidellm}
SCHEMA_VERSION = "1"
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


def served_model(base_url: str, wanted: str) -> str:
    token = os.environ.get("OPENAI_API_KEY")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(f"{base_url}/v1/models", headers=headers)
    with urllib.request.urlopen(request, timeout=30) as reply:
        ids = [m.get("id") for m in json.loads(reply.read()).get("data", [])]
    return wanted if wanted in ids or not ids else str(ids[0])


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
    fields: dict[str, object]  # run_id, model_id, device, tokenizer, ...
    console: Console


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


def run_tool(tool: str, argv: list[str], out: Path, console: Console) -> bool:
    out.mkdir(parents=True, exist_ok=True)
    log = out / f"{tool}.log"
    command = [sys.executable, "-m", "benchmarking.tools.launch", tool, *argv]
    with log.open("w") as sink:
        result = subprocess.run(
            command, stdout=sink, stderr=subprocess.STDOUT, env=tool_env(tool, out), check=False
        )
    if result.returncode != 0:
        lines = [line for line in log.read_text().splitlines() if line.strip()][-TAIL:]
        console.print(f"{tool} failed (exit {result.returncode}); log: {log}", markup=False)
        for line in lines:
            console.print(f"  {line}", markup=False)
    return result.returncode == 0


def run_point(run: ToolRun, point: Point) -> dict[str, object]:
    driver = DRIVERS[run.tool]
    tag = f"isl-{point.isl}_osl-{point.osl}_maxcon-{point.concurrency}_n-{point.num_prompts}"
    out = run.output_dir / run.tool / tag
    argv = driver.command(point, run.settings, run.model, run.base_url, run.tokenizer_dir, out)
    run.console.print(f"{run.tool}: ISL {point.isl} OSL {point.osl} C {point.concurrency}")
    export = out / driver.EXPORT
    rows: list[dict[str, object]] = []
    if run_tool(run.tool, argv, out, run.console) and export.is_file():
        exported = json.loads(export.read_text())
        summary = driver.convert(exported, run.settings.percentiles)
        rows = (
            request_rows.guidellm_rows(exported)
            if run.tool == "guidellm"
            else request_rows.aiperf_rows(out / request_rows.AIPERF_RECORDS)
        )
        errors: list[str] = []
    else:
        summary, errors = {"completed": 0, "failed": point.num_prompts}, [f"{run.tool} failed"]
    document = result_document(run, point, summary, errors)
    lines = "".join(json.dumps(row) + "\n" for row in rows)
    write_atomic(run.output_dir / f"benchmark_{tag}_requests.jsonl", lines)
    write_atomic(run.output_dir / f"benchmark_{tag}.json", json.dumps(document, indent=2) + "\n")
    return document


def result_document(
    run: ToolRun, point: Point, summary: dict[str, object], errors: list[str]
) -> dict[str, object]:
    settings, tool = run.settings, run.tool
    missing = complete(summary) if not errors else []
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "benchmark",
        **run.fields,
        "date": datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S"),
        "tool": tool,
        "backend": "openai-chat" if settings.endpoint.endswith("chat/completions") else "openai",
        "endpoint_type": settings.endpoint,
        "dataset": settings.dataset,
        "prompt_tokens_exact": True,
        "isl": point.isl,
        "osl": point.osl,
        "concurrency": point.concurrency,
        "max_concurrency": point.concurrency,
        "num_prompts": point.num_prompts,
        "request_rate": "inf",
        "burstiness": settings.burstiness,
        "seed": settings.seed,
        **summary,
        "errors": errors + [f"{tool}'s output lacks {name}" for name in missing],
    }


def write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(text)
    temp.replace(path)


def run(args: argparse.Namespace, console: Console) -> int:
    runtime = json.loads(args.runtime_spec.read_text())
    spec = runtime["model_spec"]
    try:
        settings = settings_from(json.loads(args.workflow_args_json))
        tokenizer_dir, tokenizer = tokenizer_folder(args.tokenizer, args.tool, args.output_dir)
    except (SettingsError, TokenizerSourceError) as error:
        console.print(f"error: {error}", markup=False)
        return 2
    base_url = args.server_url.rstrip("/")
    fields: dict[str, object] = {
        "run_id": runtime["run_id"],
        "model_id": runtime["model_id"],
        "model": spec["hf_repo"],
        "device": spec["device"],
        "tokenizer": tokenizer,
    }
    model = served_model(base_url, spec["hf_repo"])
    tool_run = ToolRun(
        args.tool, settings, args.output_dir, base_url, model, tokenizer_dir, fields, console
    )
    points = plan_sweep(spec["max_context"], spec["max_concurrency"], settings)
    documents = [run_point(tool_run, point) for point in points]
    console.print(report.summary_table(documents, f"benchmarks ({args.tool})"))
    console.print(f"results: {args.output_dir}", markup=False)
    return 1 if any(d["completed"] == 0 for d in documents) else 0


def main(argv: list[str]) -> int:
    args = parse(argv)
    console = Console(highlight=False)
    return run_reporting_failures(run, args, console)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
