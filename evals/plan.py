"""What one eval task will run: its samples, concurrency and generation length on this device
and engine, or why it cannot run here (engine limits and context are data, not code paths)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType

import yaml

from evals.config import EVALS_DIR, EvalTask, Limit

ENGINE_LIMITS_FILE = EVALS_DIR / "engine_limits.yaml"
DEFAULT_MAX_GEN_TOKS = 256  # lm-eval's own default
PROMPT_ROOM = 1024  # context kept for the prompt when clamping the generation length


@dataclass(frozen=True)
class TaskPlan:
    task: EvalTask
    mode: str | None
    limit: Limit
    samples: tuple[int, ...] | None  # explicit sample ids (--eval-samples)
    num_concurrent: int
    max_length: int
    max_gen_toks: int
    skip_reason: str | None = None

    @property
    def limit_text(self) -> str:
        if self.samples is not None:
            return f"{len(self.samples)} chosen"
        return "all" if self.limit.samples is None else str(self.limit.samples)


def unsupported_output_types(engine: str, path: Path = ENGINE_LIMITS_FILE) -> Mapping[str, str]:
    """Output type -> why this engine cannot serve it, from `evals/engine_limits.yaml`."""
    raw = yaml.safe_load(path.read_text()) or {}
    entry = raw.get(engine, {}) or {}
    return MappingProxyType(dict(entry.get("unsupported_output_types", {}) or {}))


def clamped_generation(task: EvalTask, max_context: int) -> int:
    """The task's generation length, leaving room for the prompt in the context."""
    wanted = task.gen_kwargs.get("max_gen_toks", DEFAULT_MAX_GEN_TOKS)
    room = max(max_context - min(PROMPT_ROOM, max_context // 2), 1)
    return int(min(int(wanted), room))


def plan_task(
    task: EvalTask,
    engine: str,
    max_context: int,
    max_concurrency: int,
    mode: str | None,
    chosen_samples: Mapping[str, Sequence[int]],
) -> TaskPlan:
    samples = chosen_samples.get(task.task)
    plan = TaskPlan(
        task=task,
        mode=mode,
        limit=task.limit_for(None if chosen_samples else mode),
        samples=tuple(samples) if samples is not None else None,
        num_concurrent=max(1, min(task.max_concurrency, max_concurrency)),
        max_length=max_context,
        max_gen_toks=clamped_generation(task, max_context),
    )
    reason = _skip_reason(task, engine, max_context, chosen_samples)
    return plan if reason is None else _skipped(plan, reason)


def _skip_reason(
    task: EvalTask, engine: str, max_context: int, chosen: Mapping[str, Sequence[int]]
) -> str | None:
    lacks = unsupported_output_types(engine)
    if task.output_type in lacks:
        return f"{engine} cannot run {task.output_type} tasks: {lacks[task.output_type]}"
    if task.min_context > max_context:
        return f"needs {task.min_context} tokens of context; this device serves {max_context}"
    if chosen and task.task not in chosen:
        return "not among the tasks --eval-samples names"
    return None


def _skipped(plan: TaskPlan, reason: str) -> TaskPlan:
    return replace(plan, skip_reason=reason)
