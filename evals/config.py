"""Eval configurations: YAML files under `evals/configs/`, keyed by the weights repository
(accuracy depends on the weights, not the device). A task may be overridden per device only in
what may differ by device: its sample limits and its concurrency.

Every field is checked; an error names the file, the task and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from workflows.errors import ReadinessError
from workflows.registry.schema import Entry, RegistryError

EVALS_DIR = Path(__file__).resolve().parent
CONFIGS_DIR = EVALS_DIR / "configs"
TASKS_DIR = EVALS_DIR / "tasks"  # tasks written by this project, loaded with --include_path

MODEL_TYPES = ("local-completions", "local-chat-completions")
OUTPUT_TYPES = ("generate_until", "loglikelihood", "loglikelihood_rolling", "multiple_choice")
COMBINE_RULES = ("single", "mean")
UNITS = ("fraction", "percent")
DATASETS = ("shipped", "hub")  # shipped: evals/tasks + a pip package, run with the hub offline
LIMIT_MODES = ("smoke", "ci-commit", "ci-nightly", "ci-long")
# What a mode runs when a task does not say: a sample count, a fraction, or None (every sample).
DEFAULT_LIMITS: Mapping[str, int | float | None] = MappingProxyType(
    {"smoke": 3, "ci-commit": 0.1, "ci-nightly": 0.5, "ci-long": None}
)
DEFAULT_TOLERANCE = 0.05
DEFAULT_SEED = 42
TASK_FIELDS = (
    "task",
    "model_type",
    "output_type",
    "dataset",
    "result_keys",
    "combine",
    "unit",
    "published",
    "reference",
    "tolerance",
    "reference_samples",
    "num_fewshot",
    "seed",
    "gen_kwargs",
    "model_args",
    "min_context",
    "max_concurrency",
    "allow_code_execution",
    "limits",
    "devices",
)
DEVICE_FIELDS = ("max_concurrency", "limits")  # never the task, seed or few-shot count


class EvalConfigError(RegistryError):
    """An eval configuration file is wrong; the message names the file, task and field."""


@dataclass(frozen=True)
class Score:
    """A score in the config's unit (as published), where it comes from and how it was made."""

    value: float
    source: str


@dataclass(frozen=True)
class Limit:
    """What a limit mode runs (samples: a count, a fraction of the set, or None for all) and
    the reference measured with that same limit, if there is one."""

    samples: int | float | None
    reference: Score | None = None
    skip: str | None = None  # why the task does not run in this mode (too slow for it, say)
    max_disagreements: int | None = None  # answers that may differ from the reference run's


@dataclass(frozen=True)
class EvalTask:
    task: str  # the lm-eval task name; also this task's name in results
    model_type: str
    output_type: str
    dataset: str
    result_keys: tuple[str, ...]
    combine: str
    unit: str
    published: Score | None
    reference: Score | None
    tolerance: float
    num_fewshot: int | None  # None: the task's own (a shipped task may fix its examples)
    seed: int
    gen_kwargs: Mapping[str, Any]
    model_args: Mapping[str, Any]
    min_context: int
    max_concurrency: int
    limits: Mapping[str, Limit]
    source_file: str
    allow_code_execution: bool = False  # the task runs model-written code to score it
    reference_samples: str | None = None  # the reference run's per-sample scores, under evals/

    @property
    def is_chat(self) -> bool:
        return self.model_type == "local-chat-completions"

    @property
    def shipped(self) -> bool:
        return self.dataset == "shipped"

    def limit_for(self, mode: str | None) -> Limit:
        """The samples and reference for a limit mode; no mode means every sample."""
        if mode is None:
            return Limit(None, self.reference)
        return self.limits.get(mode, Limit(DEFAULT_LIMITS[mode]))

    def to_fraction(self, value: float) -> float:
        """A score in the config's unit as a fraction (lm-eval reports fractions)."""
        return value / 100 if self.unit == "percent" else value


@dataclass(frozen=True)
class EvalConfig:
    weights: str
    tasks: tuple[EvalTask, ...]
    source_file: str
    device_overrides: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(
        default_factory=dict
    )  # task -> device -> raw fields, kept for `for_device`

    def for_device(self, device: str) -> EvalConfig:
        """The tasks with this device's overrides applied."""
        tasks = tuple(_overridden(task, self.device_overrides, device) for task in self.tasks)
        return replace(self, tasks=tasks)


class NoEvalConfig(ReadinessError):
    """The model has no eval configuration (exit code: usage)."""


def load_eval_configs(configs_dir: Path = CONFIGS_DIR) -> dict[str, EvalConfig]:
    """Every eval configuration, by weights repository; one repository per entry, once."""
    found: dict[str, EvalConfig] = {}
    for path in sorted(configs_dir.glob("*.yaml")):
        for config in _load_file(path):
            if config.weights in found:
                raise EvalConfigError(
                    f"{path.name}: weights '{config.weights}' already configured in "
                    f"{found[config.weights].source_file}"
                )
            found[config.weights] = config
    return found


def eval_config_for(weights: str, model_name: str, configs_dir: Path = CONFIGS_DIR) -> EvalConfig:
    configs = load_eval_configs(configs_dir)
    if weights not in configs:
        raise NoEvalConfig(
            f"{model_name} has no eval configuration: no entry for weights '{weights}' in "
            f"{configs_dir}/*.yaml (add one there; see evals/README.md)"
        )
    return configs[weights]


def _load_file(path: Path) -> list[EvalConfig]:
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        raise EvalConfigError(f"{path.name}: not valid YAML ({error})") from None
    if isinstance(raw, Mapping):  # `x-...` keys hold YAML anchors the entries share
        raw = {key: value for key, value in raw.items() if not str(key).startswith("x-")}
    top = Entry(raw, path.name, ("models",))
    return [
        _model_entry(item, f"{path.name}: models[{index}]", path.name)
        for index, item in enumerate(top.items("models", required=True))
    ]


def _model_entry(raw: Any, where: str, source: str) -> EvalConfig:
    entry = Entry(raw, where, ("weights", "tasks"))
    weights = str(entry.text("weights", required=True))
    tasks, overrides = [], {}
    for item in entry.items("tasks", required=True):
        task, devices = _task(item, f"{source}: {weights}", source)
        tasks.append(task)
        overrides[task.task] = devices
    names = [task.task for task in tasks]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        entry.fail("tasks", f"task {', '.join(duplicated)} listed twice")
    return EvalConfig(weights, tuple(tasks), source, overrides)


def _task(raw: Any, where: str, source: str) -> tuple[EvalTask, Mapping[str, Mapping[str, Any]]]:
    name = raw.get("task", "?") if isinstance(raw, Mapping) else "?"
    entry = Entry(raw, f"{where}: task {name}", TASK_FIELDS)
    task = EvalTask(
        task=str(entry.text("task", required=True)),
        model_type=_one_of(entry, "model_type", MODEL_TYPES, required=True),
        output_type=_one_of(entry, "output_type", OUTPUT_TYPES, required=True),
        dataset=_one_of(entry, "dataset", DATASETS, default="hub"),
        result_keys=entry.texts("result_keys", required=True),
        combine=_one_of(entry, "combine", COMBINE_RULES, default="single"),
        unit=_one_of(entry, "unit", UNITS, required=True),
        published=_score(entry, "published"),
        reference=_score(entry, "reference"),
        tolerance=_tolerance(entry),
        num_fewshot=_optional_count(entry, "num_fewshot"),
        seed=_count(entry, "seed", DEFAULT_SEED),
        gen_kwargs=MappingProxyType(dict(entry.mapping("gen_kwargs"))),
        model_args=MappingProxyType(dict(entry.mapping("model_args"))),
        min_context=_count(entry, "min_context", 0),
        max_concurrency=entry.positive_int("max_concurrency", required=False) or 32,
        limits=_limits(entry, "limits"),
        source_file=source,
        allow_code_execution=entry.flag("allow_code_execution"),
        reference_samples=entry.text("reference_samples"),
    )
    _check_keys(entry, task)
    if task.is_chat and task.output_type != "generate_until":
        entry.fail("output_type", "local-chat-completions can only run generate_until tasks")
    return task, _devices(entry)


def _one_of(
    entry: Entry,
    key: str,
    choices: tuple[str, ...],
    default: str | None = None,
    required: bool = False,
) -> str:
    value = entry.text(key, default, required)
    if value not in choices:
        entry.fail(key, f"'{value}' is not one of: {', '.join(choices)}")
    return str(value)


def _count(entry: Entry, key: str, default: int) -> int:
    value = entry.raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        entry.fail(key, f"expected a whole number >= 0, got {value!r}")
    return value


def _optional_count(entry: Entry, key: str) -> int | None:
    return None if entry.raw.get(key) is None else _count(entry, key, 0)


def _tolerance(entry: Entry) -> float:
    value = entry.raw.get("tolerance", DEFAULT_TOLERANCE)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        entry.fail("tolerance", f"expected a fraction in [0, 1) such as 0.05, got {value!r}")
    return float(value)


def _score(entry: Entry, key: str) -> Score | None:
    if not entry.has(key):
        return None
    inner = Entry(entry.raw[key], f"{entry.where}: {key}", ("score", "source"))
    value = inner.number("score")
    if value is None:
        inner.fail("score", "is required")
    return Score(value, str(inner.text("source", required=True)))


def _check_keys(entry: Entry, task: EvalTask) -> None:
    if task.combine == "single" and len(task.result_keys) != 1:
        entry.fail("result_keys", "combine 'single' takes exactly one key (or use combine: mean)")
    for key in task.result_keys:
        if "," not in key:
            entry.fail("result_keys", f"'{key}' is not an lm-eval key like 'exact_match,none'")
    for name, score in (("published", task.published), ("reference", task.reference)):
        if score is not None and task.to_fraction(score.value) > 1:
            entry.fail(name, f"{score.value} is above the most a {task.unit} score can be")


def _limits(entry: Entry, key: str) -> Mapping[str, Limit]:
    limits = {}
    for mode, raw in entry.mapping(key).items():
        if mode not in LIMIT_MODES:
            entry.fail(key, f"'{mode}' is not a limit mode ({', '.join(LIMIT_MODES)})")
        fields = ("samples", "reference", "skip", "max_disagreements")
        inner = Entry(raw, f"{entry.where}: {key}.{mode}", fields)
        most = _optional_count(inner, "max_disagreements")
        if most is not None and not entry.has("reference_samples"):
            inner.fail("max_disagreements", "needs the task's reference_samples to compare with")
        limits[mode] = Limit(_samples(inner), _score(inner, "reference"), inner.text("skip"), most)
    return MappingProxyType(limits)


def _samples(entry: Entry) -> int | float | None:
    value = entry.raw.get("samples")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        entry.fail("samples", f"expected a count or a fraction below 1, got {value!r}")
    if isinstance(value, float) and value >= 1:
        entry.fail("samples", f"a fraction must be below 1 (write a count as 100), got {value}")
    return value


def _devices(entry: Entry) -> Mapping[str, Mapping[str, Any]]:
    devices = {}
    for device, raw in entry.mapping("devices").items():
        inner = Entry(raw, f"{entry.where}: devices.{device}", DEVICE_FIELDS)
        inner.positive_int("max_concurrency", required=False)
        _limits(inner, "limits")
        devices[str(device)] = inner.raw
    return devices


def _overridden(
    task: EvalTask, overrides: Mapping[str, Mapping[str, Mapping[str, Any]]], device: str
) -> EvalTask:
    raw = overrides.get(task.task, {}).get(device)
    if not raw:
        return task
    inner = Entry(raw, f"{task.source_file}: task {task.task}: devices.{device}", DEVICE_FIELDS)
    limits = {**task.limits, **_limits(inner, "limits")}
    concurrency = inner.positive_int("max_concurrency", required=False) or task.max_concurrency
    return replace(task, limits=MappingProxyType(limits), max_concurrency=concurrency)
