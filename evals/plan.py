"""What one eval task will run: its samples, concurrency and generation length on this device
and engine, or why it cannot run here (engine limits and context are data, not code paths)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

import yaml

from evals.config import EVALS_DIR, EvalTask, Limit

ENGINE_LIMITS_FILE = EVALS_DIR / "engine_limits.yaml"
DEFAULT_MAX_GEN_TOKS = 256  # lm-eval's own default
PROMPT_ROOM = 1024  # context kept for the prompt when clamping the generation length


@dataclass(frozen=True)
class EngineSettings:
    """What evals must know of an engine: output types it cannot serve (and why), and request
    fields every eval sends it."""

    unsupported_output_types: Mapping[str, str]
    gen_kwargs: Mapping[str, object]


@dataclass(frozen=True)
class TaskPlan:
    task: EvalTask
    mode: str | None
    limit: Limit
    samples: tuple[int, ...] | None  # explicit sample ids (--eval-samples)
    num_concurrent: int
    max_length: int
    max_gen_toks: int
    engine_gen_kwargs: Mapping[str, object] = field(default_factory=dict)
    skip_reason: str | None = None

    @property
    def limit_text(self) -> str:
        if self.samples is not None:
            return f"{len(self.samples)} chosen"
        return "all" if self.limit.samples is None else str(self.limit.samples)


def engine_settings(engine: str, path: Path = ENGINE_LIMITS_FILE) -> EngineSettings:
    """The engine's entry of `evals/engine_limits.yaml` (an engine not listed: no limits)."""
    raw = yaml.safe_load(path.read_text()) or {}
    entry = raw.get(engine, {}) or {}
    return EngineSettings(
        MappingProxyType(dict(entry.get("unsupported_output_types") or {})),
        MappingProxyType(dict(entry.get("gen_kwargs") or {})),
    )


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
    engine_limits = engine_settings(engine)
    plan = TaskPlan(
        task=task,
        mode=mode,
        limit=task.limit_for(None if chosen_samples else mode),
        samples=tuple(samples) if samples is not None else None,
        num_concurrent=max(1, min(task.max_concurrency, max_concurrency)),
        max_length=max_context,
        max_gen_toks=clamped_generation(task, max_context),
        engine_gen_kwargs=engine_limits.gen_kwargs,
    )
    reason = _skip_reason(plan, engine, engine_limits, max_context, chosen_samples)
    return plan if reason is None else _skipped(plan, reason)


def _skip_reason(
    plan: TaskPlan,
    engine: str,
    limits: EngineSettings,
    max_context: int,
    chosen: Mapping[str, Sequence[int]],
) -> str | None:
    task, lacks = plan.task, limits.unsupported_output_types
    if plan.limit.skip:
        return f"not run in {plan.mode} mode: {plan.limit.skip}"
    if task.output_type in lacks:
        return f"{engine} cannot run {task.output_type} tasks: {lacks[task.output_type]}"
    if task.min_context > max_context:
        return f"needs {task.min_context} tokens of context; this device serves {max_context}"
    if chosen and task.task not in chosen:
        return "not among the tasks --eval-samples names"
    return None


def _skipped(plan: TaskPlan, reason: str) -> TaskPlan:
    return replace(plan, skip_reason=reason)
