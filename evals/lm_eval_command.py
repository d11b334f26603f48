"""The lm-eval command line for one planned task, its environment, and where its files land."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from evals.config import TASKS_DIR
from evals.plan import TaskPlan

REQUEST_TIMEOUT_SECONDS = 600  # one request; lm-eval retries a failed one
MAX_RETRIES = 3
# A shipped task runs lm-eval's command line through this module, which keeps lm-eval from
# indexing its own built-in tasks (10 s per run on 2 cores, for nothing a shipped task uses).
SHIPPED_TASKS_MODULE = "evals.lm_eval_shipped"
# Any other task: lm-eval's command line as is, but for a whole-request deadline on the requests
# it sends one at a time (its `timeout` otherwise bounds each socket read only).
HUB_TASKS_MODULE = "evals.lm_eval_deadline"
OFFLINE_ENV = {"HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


@dataclass(frozen=True)
class Endpoint:
    base_url: str  # the server, without /v1
    model: str  # the name the server serves the model under
    token: str  # bearer token; empty when the server has no auth


def endpoint_url(base_url: str, chat: bool) -> str:
    """lm-eval wants the full endpoint, not the server's root."""
    return f"{base_url}/v1/{'chat/completions' if chat else 'completions'}"


def model_args(plan: TaskPlan, endpoint: Endpoint, tokenizer: Path | None) -> dict[str, object]:
    task = plan.task
    args: dict[str, object] = {
        "model": endpoint.model,
        "base_url": endpoint_url(endpoint.base_url, task.is_chat),
        "num_concurrent": plan.num_concurrent,
        "max_retries": MAX_RETRIES,
        "timeout": REQUEST_TIMEOUT_SECONDS,
        "seed": task.seed,
        "max_length": plan.max_length,
        "max_gen_toks": plan.max_gen_toks,
    }
    if not task.is_chat:
        args |= _tokenizer_args(task.output_type, tokenizer)
    return args | dict(task.model_args)


def _tokenizer_args(output_type: str, tokenizer: Path | None) -> dict[str, object]:
    """Completions send text; lm-eval still counts tokens, with the model's own tokenizer from
    this host. Without one, generation needs none, and loglikelihood lets lm-eval find one."""
    if tokenizer is not None:
        return {
            "tokenizer_backend": "huggingface",
            "tokenizer": str(tokenizer),
            "tokenized_requests": False,
        }
    if output_type == "generate_until":
        return {"tokenizer_backend": None, "tokenized_requests": False}
    return {"tokenized_requests": False}


def lm_eval_argv(
    python: Path, plan: TaskPlan, endpoint: Endpoint, output: Path, tokenizer: Path | None
) -> list[str]:
    task = plan.task
    argv = [
        str(python),
        "-m",
        SHIPPED_TASKS_MODULE if task.shipped else HUB_TASKS_MODULE,
        "run",
        "--model",
        task.model_type,
        "--tasks",
        task.task,
        "--model_args",
        json.dumps(model_args(plan, endpoint, tokenizer)),
        "--batch_size",
        "1",
        "--seed",
        str(task.seed),
        "--output_path",
        str(output),
        "--log_samples",
    ]
    gen_kwargs = {**plan.engine_gen_kwargs, **task.gen_kwargs}
    if "max_gen_toks" in gen_kwargs:  # else the task's own length, or model_args' default
        gen_kwargs["max_gen_toks"] = plan.max_gen_toks
    if gen_kwargs:
        argv += ["--gen_kwargs", json.dumps(gen_kwargs)]
    if task.num_fewshot is not None:
        argv += ["--num_fewshot", str(task.num_fewshot)]
    if task.shipped:
        argv += ["--include_path", str(TASKS_DIR)]
    if task.is_chat:
        argv.append("--apply_chat_template")
    if task.allow_code_execution:
        argv.append("--confirm_run_unsafe_code")
    return argv + _sample_args(plan)


def _sample_args(plan: TaskPlan) -> list[str]:
    if plan.samples is not None:
        return ["--samples", json.dumps({plan.task.task: list(plan.samples)})]
    if plan.limit.samples is not None:
        return ["--limit", str(plan.limit.samples)]
    return []


def lm_eval_env(
    plan: TaskPlan, endpoint: Endpoint, tokenizer: Path | None, hf_token: str | None = None
) -> dict[str, str]:
    """The tokens by environment (never in the command line): the server's, and the hub's for
    a task whose dataset comes from the hub (the runner's HF_TOKEN, from the environment or
    .env); the hub off for shipped tasks."""
    env = {"OPENAI_API_KEY": endpoint.token} if endpoint.token else {}
    if plan.task.shipped:
        env |= OFFLINE_ENV
    elif hf_token:
        env["HF_TOKEN"] = hf_token
    if not plan.task.shipped and tokenizer is not None:
        env["TRANSFORMERS_OFFLINE"] = "1"
    return env


def results_files(output: Path) -> tuple[Path | None, list[Path]]:
    """lm-eval's newest results file and its samples files under `output`."""
    results = sorted(output.rglob("results_*.json"), key=lambda path: path.stat().st_mtime)
    samples = sorted(output.rglob("samples_*.jsonl"))
    return (results[-1] if results else None), samples
