"""What lm-eval is asked to do: engine limits and context as data, the limit modes, the
concurrency and generation length, the endpoint and the token (by environment only)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

from evals.config import TASKS_DIR, Limit
from evals.lm_eval_command import Endpoint, lm_eval_argv, lm_eval_env
from evals.plan import plan_task
from evals.table import Progress
from tests.helpers import EVAL_TASK as TASK

ENDPOINT = Endpoint("http://127.0.0.1:8000", "org/model", "sekrit-token")
PYTHON = Path("/venv/bin/python")


def option(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_loglikelihood_on_llama_cpp_is_skipped_with_the_reason() -> None:
    task = replace(TASK, model_type="local-completions", output_type="multiple_choice")
    assert plan_task(task, "vllm", 4096, 8, None, {}).skip_reason is None
    reason = plan_task(task, "llama_cpp", 4096, 8, None, {}).skip_reason
    assert reason is not None and "prompt logprobs" in reason and "multiple_choice" in reason


def test_a_task_needing_more_context_than_the_device_is_skipped() -> None:
    reason = plan_task(replace(TASK, min_context=16384), "vllm", 4096, 8, None, {}).skip_reason
    assert reason == "needs 16384 tokens of context; this device serves 4096"


def test_limit_modes_pick_the_task_limit_or_the_default() -> None:
    smoke = plan_task(TASK, "vllm", 4096, 8, "smoke", {})
    assert smoke.limit.samples == 30 and smoke.limit.reference is not None
    nightly = plan_task(TASK, "vllm", 4096, 8, "ci-nightly", {})
    assert nightly.limit.samples == 0.5 and nightly.limit.reference is None
    assert "--limit" in lm_eval_argv(PYTHON, smoke, ENDPOINT, Path("out"), None)
    full = lm_eval_argv(
        PYTHON, plan_task(TASK, "vllm", 4096, 8, None, {}), ENDPOINT, Path("o"), None
    )
    assert "--limit" not in full and "--samples" not in full


def test_chosen_samples_go_to_lm_eval_and_other_tasks_are_skipped() -> None:
    chosen = {"qa": (0, 7)}
    plan = plan_task(TASK, "vllm", 4096, 8, None, chosen)
    argv = lm_eval_argv(PYTHON, plan, ENDPOINT, Path("out"), None)
    assert json.loads(option(argv, "--samples")) == {"qa": [0, 7]} and "--limit" not in argv
    other = plan_task(replace(TASK, task="other"), "vllm", 4096, 8, None, chosen)
    assert other.skip_reason == "not among the tasks --eval-samples names"


def test_chat_task_command_line() -> None:
    plan = plan_task(TASK, "llama_cpp", 4096, 2, None, {})
    argv = lm_eval_argv(PYTHON, plan, ENDPOINT, Path("/run/evals/qa"), None)
    args = json.loads(option(argv, "--model_args"))
    assert args["base_url"] == "http://127.0.0.1:8000/v1/chat/completions"
    assert args["num_concurrent"] == 2  # min(task 8, device 2)
    assert args["model"] == "org/model" and args["seed"] == 42
    assert "--apply_chat_template" in argv and "--log_samples" in argv
    assert option(argv, "--output_path") == "/run/evals/qa"
    assert option(argv, "--include_path") == str(TASKS_DIR)
    assert option(argv, "--seed") == "42"
    assert "--num_fewshot" not in argv  # the task's own examples
    assert "--confirm_run_unsafe_code" not in argv
    coding = plan_task(replace(TASK, allow_code_execution=True), "vllm", 4096, 8, None, {})
    assert "--confirm_run_unsafe_code" in lm_eval_argv(PYTHON, coding, ENDPOINT, Path("o"), None)
    few = lm_eval_argv(PYTHON, plan_task(replace(TASK, num_fewshot=5), "vllm", 4096, 8, None, {}),
                       ENDPOINT, Path("o"), None)  # fmt: skip
    assert option(few, "--num_fewshot") == "5"
    assert "sekrit-token" not in " ".join(argv)


def test_completions_use_the_local_tokenizer_and_send_text() -> None:
    task = replace(TASK, model_type="local-completions")
    plan = plan_task(task, "vllm", 4096, 8, None, {})
    argv = lm_eval_argv(PYTHON, plan, ENDPOINT, Path("out"), Path("/run/evals/tokenizer"))
    args = json.loads(option(argv, "--model_args"))
    assert args["base_url"] == "http://127.0.0.1:8000/v1/completions"
    assert args["tokenizer"] == "/run/evals/tokenizer" and args["tokenized_requests"] is False
    assert "--apply_chat_template" not in argv


def test_generation_length_is_clamped_to_the_context() -> None:
    task = replace(TASK, gen_kwargs=MappingProxyType({"max_gen_toks": 32768, "until": ["\n"]}))
    plan = plan_task(task, "vllm", 4096, 8, None, {})
    gen = json.loads(option(lm_eval_argv(PYTHON, plan, ENDPOINT, Path("o"), None), "--gen_kwargs"))
    assert gen == {"max_gen_toks": 3072, "until": ["\n"]}


def test_token_by_environment_and_hub_offline_for_shipped_tasks() -> None:
    plan = plan_task(TASK, "vllm", 4096, 8, None, {})
    env = lm_eval_env(plan, ENDPOINT, None)
    assert env["OPENAI_API_KEY"] == "sekrit-token"
    assert env["HF_DATASETS_OFFLINE"] == "1" and env["HF_HUB_OFFLINE"] == "1"
    hub = lm_eval_env(plan_task(replace(TASK, dataset="hub"), "vllm", 4096, 8, None, {}),
                      Endpoint("http://x", "m", ""), None)  # fmt: skip
    assert "HF_DATASETS_OFFLINE" not in hub and "OPENAI_API_KEY" not in hub


def test_the_runners_hf_token_reaches_lm_eval_only_for_hub_datasets() -> None:
    """A token from .env is in the runner's secrets, not in os.environ: lm-eval gets it only
    by being handed it, and only for a dataset it fetches from the hub."""
    hub_task = plan_task(replace(TASK, dataset="hub"), "vllm", 4096, 8, None, {})
    assert lm_eval_env(hub_task, ENDPOINT, None, "hf_from_dotenv")["HF_TOKEN"] == "hf_from_dotenv"
    shipped = plan_task(TASK, "vllm", 4096, 8, None, {})
    assert "HF_TOKEN" not in lm_eval_env(shipped, ENDPOINT, None, "hf_from_dotenv")


def test_lm_eval_progress_bars_become_a_line_every_few_seconds() -> None:
    """The first bar shows at once on any clock (this one reads 5.0, as time.monotonic does
    on a machine booted 5 s ago), the next only `every` seconds later, the last always."""
    shown: list[str] = []
    now = [5.0]
    progress = Progress("qa", shown.append, every=3600, clock=lambda: now[0])
    for at, line in (
        (5.0, "Requesting API:   0%|          | 0/278 [00:00<?, ?it/s]"),
        (5.0, " 98%|█████████▊| 273/278 [00:01<00:00, 162.43it/s]"),  # building requests
        (3604.9, "Requesting API:   3%|▎         | 7/278 [00:52<28:59,  6.42s/it]"),
        (3605.0, "Requesting API:  40%|████      | 111/278 [59:59<45:00,  6.42s/it]"),
        (3606.0, "Requesting API:  41%|████      | 114/278 [60:00<45:00,  6.42s/it]"),
        (3607.0, "Requesting API: 100%|██████████| 278/278 [01:19<00:00,  3.51it/s]"),
        (9999.0, "Requesting API: 100%|██████████| 278/278 [01:19<00:00,  3.51it/s]"),
    ):
        now[0] = at
        progress(line)
    assert shown == [
        "  qa: 0/278 requests answered",  # the first, though the clock is 5 s from its origin
        "  qa: 111/278 requests answered",  # `every` after the first; 7/278 came too soon
        "  qa: 278/278 requests answered",  # the last, 2 s after the one before; once
    ]


def test_llama_cpp_evals_turn_its_prompt_cache_off_for_repeatable_greedy_output() -> None:
    plan = plan_task(TASK, "llama_cpp", 4096, 8, None, {})
    gen = json.loads(option(lm_eval_argv(PYTHON, plan, ENDPOINT, Path("o"), None), "--gen_kwargs"))
    assert gen == {"cache_prompt": False}
    on_vllm = lm_eval_argv(
        PYTHON, plan_task(TASK, "vllm", 4096, 8, None, {}), ENDPOINT, Path("o"), None
    )
    assert "--gen_kwargs" not in on_vllm


def test_a_mode_can_leave_a_slow_task_out_with_its_reason() -> None:
    limits = MappingProxyType({"smoke": Limit(None, None, "about 30 minutes on cpu")})
    plan = plan_task(replace(TASK, limits=limits), "vllm", 4096, 8, "smoke", {})
    assert plan.skip_reason == "not run in smoke mode: about 30 minutes on cpu"
    assert plan_task(replace(TASK, limits=limits), "vllm", 4096, 8, None, {}).skip_reason is None


def test_shipped_tasks_run_lm_eval_without_indexing_its_built_in_tasks() -> None:
    """A shipped task goes through evals.lm_eval_shipped (lm-eval's own CLI, built-in task
    index off); a hub task, which may be one of lm-eval's built-in tasks, through lm-eval's CLI
    as is but for a whole-request deadline on each request (evals.lm_eval_deadline)."""
    shipped = lm_eval_argv(PYTHON, plan_task(TASK, "vllm", 4096, 8, None, {}), ENDPOINT,
                           Path("o"), None)  # fmt: skip
    assert shipped[1:4] == ["-m", "evals.lm_eval_shipped", "run"]
    assert option(shipped, "--include_path") == str(TASKS_DIR)
    hub_plan = plan_task(replace(TASK, dataset="hub"), "vllm", 4096, 8, None, {})
    hub = lm_eval_argv(PYTHON, hub_plan, ENDPOINT, Path("o"), None)
    assert hub[1:4] == ["-m", "evals.lm_eval_deadline", "run"] and "--include_path" not in hub
