"""The benchmarks workflow's settings, read from `--workflow-args`, each checked."""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from benchmarking.arg_values import (
    SettingsError as SettingsError,  # re-exported: the children and tests catch it here
)
from benchmarking.arg_values import (
    flag,
    fraction,
    number,
    numbers,
    positive,
    unknown_keys,
    whole,
    wholes,
)
from benchmarking.endpoints import CHAT
from benchmarking.metrics import parse_goodput
from benchmarking.search_args import SEARCH_KEYS, Search, search_from
from benchmarking.shape_args import SHAPE_KEYS, LoadShape, shape_from
from benchmarking.user_datasets import USER_DATASETS, check_user_dataset, endpoint_of

ACCEPTED = (
    "isl",
    "osl",
    "concurrency",
    "num_prompts",
    "dataset",
    "dataset_path",
    "rate",
    "burstiness",
    "smoke",
    "endpoint",
    "seed",  # the prompts' seed; none given: one drawn (the runner draws one per run)
    "goodput",
    "percentiles",
    "workers",
    "range_ratio",
    "ignore_eos",
    "warmups",
    "tool",
    "max_failed",
    "request_timeout",
    "sweep",
    "percentile_report",  # run.py --percentile-report: a percentile table on the console
    "concurrency_sweeps",  # run.py --concurrency-sweeps: concurrency 1, 2, 4, ... and the max
    "prefix_cache",  # shared: each point with and without a shared prompt prefix
    "prefix_share",  # the shared prefix's share of the prompt (default 0.75)
    "telemetry_interval",  # seconds between scrapes of the server's /metrics (0: none)
    "repeat",  # run.py --repeat N: each point measured N times, fresh prompts each time
    *SHAPE_KEYS,  # benchmarking/shape_args.py: a time limit, warm-up and cool-down trimming
    *SEARCH_KEYS,  # benchmarking/search_args.py: the highest load that meets the SLOs
)
DATASETS = ("random", "sharegpt", *USER_DATASETS)
PREFIX_CACHE_MODES = ("shared", "multi_turn")
SWEEPS = ("full", "targets")  # targets: only the spec's perf_reference points
REQUEST_TIMEOUT_BASE_S = 300.0  # the default per-request timeout: this, plus
REQUEST_TIMEOUT_PER_TOKEN_S = 1.0  # this per output token


def _seconds(value: object, key: str) -> float | None:
    return None if value is None else positive(value, key, "seconds")


@dataclass(frozen=True)
class Settings:
    isl: tuple[int, ...] | None = None
    osl: tuple[int, ...] | None = None
    concurrency: tuple[int, ...] | None = None
    num_prompts: int | None = None
    dataset: str = "random"
    dataset_path: str | None = None
    dataset_size: int | None = None  # a user's file (jsonl, conversations): its entries
    rate: tuple[float, ...] = (math.inf,)  # requests per second, one point per rate
    burstiness: float = 1.0
    smoke: bool = False
    endpoint: str = CHAT
    seed: int = 0  # settings_from draws one when none is given
    goodput: str | None = None
    percentiles: tuple[float, ...] = (50.0, 90.0, 99.0)
    workers: int = 1
    range_ratio: float = 0.0
    ignore_eos: bool = True
    warmups: int = 1
    tool: str = "native"
    max_failed: float = 0.0  # the share of failed requests a point may have and still pass
    request_timeout: float | None = None  # seconds; None: from the output length
    sweep: str = "full"  # or "targets": the spec's target points only
    percentile_report: bool = False
    concurrency_sweeps: bool = False
    prefix_cache: str | None = None  # "shared": every point twice, without and with a prefix
    prefix_share: float = 0.75
    telemetry_interval: float = 1.0  # seconds between scrapes of the server's /metrics; 0: none
    repeat: int = 1  # measurements per point (a straddling target point may get more)
    shape: LoadShape = field(default_factory=LoadShape)  # a time limit, trimming: shape_args.py
    search: Search | None = None  # search=goodput: the highest load meeting the SLOs
    extra: Mapping[str, object] = field(default_factory=dict)

    def request_timeout_s(self, output_tokens: int) -> float:
        """Each request's time limit from its send: given, or generous for its output length."""
        if self.request_timeout is not None:
            return self.request_timeout
        return REQUEST_TIMEOUT_BASE_S + REQUEST_TIMEOUT_PER_TOKEN_S * output_tokens

    @property
    def osl_fixed(self) -> int | None:
        """For ShareGPT: one output length for every request when osl= is given."""
        return self.osl[0] if self.osl else None


TOOLS = ("native", "aiperf", "guidellm")
NATIVE_ONLY = (
    "dataset_path",
    "rate",
    "burstiness",
    "goodput",
    "workers",
    "range_ratio",
    "request_timeout",
    "prefix_cache",
    "prefix_share",
    "repeat",
    *SHAPE_KEYS,
    *SEARCH_KEYS,
)


def _tool(args: Mapping[str, object]) -> str:
    """The load generator; AIPerf and GuideLLM run the random dataset, closed loop."""
    tool = str(args.get("tool", "native"))
    if tool not in TOOLS:
        raise SettingsError(f"tool={tool}: use {', '.join(TOOLS)}")
    if tool == "native":
        return tool
    if str(args.get("dataset", "random")) != "random":
        raise SettingsError(f"tool={tool} runs dataset=random only")
    unsupported = sorted(key for key in NATIVE_ONLY if key in args)
    if unsupported:
        raise SettingsError(
            f"tool={tool} does not take {', '.join(unsupported)} (our own generator does)"
        )
    return tool


def draw_seed() -> int:
    """A prompt seed of its own for a run: a server that keeps a prompt cache across runs
    cannot answer this run's prompts from an earlier run's."""
    return secrets.randbits(32)


def _seed(value: object, draw: Callable[[], int]) -> int:
    return draw() if value is None else whole(value, "seed", 0)


def settings_from(args: Mapping[str, object], draw: Callable[[], int] = draw_seed) -> Settings:
    """The settings `args` ask for; with no `seed`, one drawn by `draw` (and recorded in each
    point's result file, so `seed=` repeats its prompts)."""
    unknown_keys("benchmarks", args, ACCEPTED)
    tool = _tool(args)
    dataset = str(args.get("dataset", "random"))
    if dataset not in DATASETS:
        raise SettingsError(f"dataset={dataset}: use {', '.join(DATASETS)}")
    user_file = check_user_dataset(dataset, args) if dataset in USER_DATASETS else None
    endpoint = endpoint_of(args.get("endpoint"), user_file)
    rates, warmups = _rate(args.get("rate", math.inf)), whole(args.get("warmups", 1), "warmups", 0)
    prompts = (wholes(args.get("num_prompts"), "num_prompts") or (None,))[0]
    return Settings(
        tool=tool,
        dataset=dataset,
        dataset_path=str(args["dataset_path"]) if args.get("dataset_path") else None,
        dataset_size=user_file.size if user_file else None,
        isl=wholes(args.get("isl"), "isl"),
        osl=wholes(args.get("osl"), "osl"),
        concurrency=wholes(args.get("concurrency"), "concurrency"),
        num_prompts=prompts,
        rate=rates,
        burstiness=_burstiness(args.get("burstiness", 1.0)),
        smoke=flag(args.get("smoke", False), "smoke"),
        endpoint=endpoint,
        seed=_seed(args.get("seed"), draw),
        goodput=_goodput(args.get("goodput")),
        percentiles=_percentiles(args.get("percentiles", "50,90,99")),
        workers=whole(args.get("workers", 1), "workers", 1),
        range_ratio=_range_ratio(args.get("range_ratio", 0.0)),
        ignore_eos=flag(args.get("ignore_eos", True), "ignore_eos"),
        warmups=warmups,
        max_failed=fraction(args.get("max_failed", 0.0), "max_failed"),
        request_timeout=_seconds(args.get("request_timeout"), "request_timeout"),
        sweep=_sweep(args.get("sweep", "full")),
        percentile_report=flag(args.get("percentile_report", False), "percentile_report"),
        concurrency_sweeps=flag(args.get("concurrency_sweeps", False), "concurrency_sweeps"),
        prefix_cache=_prefix_cache(args.get("prefix_cache"), dataset),
        prefix_share=_share(args.get("prefix_share", 0.75)),
        telemetry_interval=_interval(args.get("telemetry_interval", 1.0)),
        repeat=whole(args.get("repeat", 1), "repeat", 1),
        shape=shape_from(args, rates, warmups, prompts),
        search=search_from(args),
    )


def _rate(value: object) -> tuple[float, ...]:
    """'1,2,4,inf' -> (1.0, 2.0, 4.0, inf): each rate a point of its own, in the order given."""
    expected = "a positive number of requests per second, or inf (all at once); several: 1,2,4"
    rates = numbers(value, "rate", lambda x: x > 0, expected)
    return tuple(dict.fromkeys(rates))


def _burstiness(value: object) -> float:
    expected = "a positive number (1: Poisson, below 1 burstier, inf: a constant rate)"
    return number(value, "burstiness", lambda x: x > 0, expected)


def _percentiles(value: object) -> tuple[float, ...]:
    expected = "percentiles from 0 to 100 like 50,90,99"
    return numbers(value, "percentiles", lambda x: 0 <= x <= 100, expected)


def _range_ratio(value: object) -> float:
    expected = "a number from 0 up to (not including) 1: each length varies by that share"
    return number(value, "range_ratio", lambda x: 0 <= x < 1, expected)


def _goodput(value: object) -> str | None:
    if value is None or value == "":
        return None
    try:
        parse_goodput(str(value))
    except ValueError as error:
        raise SettingsError(str(error)) from None
    return str(value)


def _prefix_cache(value: object, dataset: str) -> str | None:
    if value is None or value is False:
        return None
    mode = "shared" if value is True else str(value)
    if mode not in PREFIX_CACHE_MODES:
        raise SettingsError(
            f"prefix_cache={value}: use shared (a long shared system prompt) or multi_turn "
            "(conversations resending their earlier turns)"
        )
    if dataset != "random":
        raise SettingsError("prefix_cache runs dataset=random only (prompts of exact lengths)")
    return mode


def _share(value: object) -> float:
    share = fraction(value, "prefix_share")
    if not 0.0 < share < 1.0:
        raise SettingsError(f"prefix_share: expected a share between 0 and 1, got {value!r}")
    return share


def _interval(value: object) -> float:
    if value in (0, "0", False):
        return 0.0
    seconds = _seconds(value, "telemetry_interval")
    assert seconds is not None
    if seconds < 0.05:
        raise SettingsError(
            f"telemetry_interval: at least 0.05 seconds (or 0: none), got {value!r}"
        )
    return seconds


def _sweep(value: object) -> str:
    if str(value) not in SWEEPS:
        raise SettingsError(
            f"sweep={value}: use full (the spec's sweep) or targets (its target points)"
        )
    return str(value)
