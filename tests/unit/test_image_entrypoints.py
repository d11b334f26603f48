"""The images' entrypoints take exactly the command the runner gives the container, and start
their server with the right flags, weights and key (checked without building the images)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.helpers import REPO_ROOT, config_for
from workflows.servers.local_vllm import MESH_DEVICE

DOCKER = REPO_ROOT / "docker"


def load_serve() -> ModuleType:
    spec = importlib.util.spec_from_file_location("serve", DOCKER / "vllm-tt-metal/src/serve.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tt_entrypoint_takes_the_runners_n150_command() -> None:
    serve = load_serve()
    cfg = config_for("Llama-3.1-8B-Instruct", "n150", vllm_override_args={"max_num_seqs": 16})
    args, passthrough = serve.parse(cfg.command)
    argv, env = serve.vllm_command(args, passthrough, {"VLLM_API_KEY": "k", "HF_TOKEN": "t"})
    assert argv[1:3] == ["-m", "vllm.entrypoints.openai.api_server"]
    assert argv[argv.index("--model") + 1] == "meta-llama/Llama-3.1-8B-Instruct"
    assert argv[argv.index("--served-model-name") + 1] == "meta-llama/Llama-3.1-8B-Instruct"
    assert argv[argv.index("--port") + 1] == "8000"
    assert argv[argv.index("--max-num-seqs") + 1] == "16"
    overrides = json.loads(argv[argv.index("--override-tt-config") + 1])
    assert overrides == {"trace_region_size": 52000000}
    assert env["MESH_DEVICE"] == "N150" and env["VLLM_API_KEY"] == "k"


def test_tt_entrypoint_knows_every_tenstorrent_device_and_its_mesh() -> None:
    """The image accepts each device the registry can send it, with the runner's mesh name."""
    runners = {device.value: mesh for device, mesh in MESH_DEVICE.items()}
    assert runners == load_serve().MESH_DEVICE
    args, _ = load_serve().parse(config_for("Qwen3-32B", "p300x2").command)
    assert args.tt_device == "p300x2"


def test_tt_entrypoint_weights_dir_and_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    serve = load_serve()
    cfg = config_for("Llama-3.1-8B-Instruct", "t3k", no_auth=True)
    args, passthrough = serve.parse(cfg.command)
    environ = {"MODEL_WEIGHTS_DIR": "/w/Llama", "VLLM_API_KEY": "stale", "MESH_DEVICE": "T3K"}
    argv, env = serve.vllm_command(args, passthrough, environ)
    assert argv[argv.index("--model") + 1] == "/w/Llama"
    assert "VLLM_API_KEY" not in env, "--no-auth serves without a key"
    with_auth, _ = serve.parse(["--model", "m/x", "--tt-device", "n300"])
    with pytest.raises(SystemExit, match="set VLLM_API_KEY, or pass --no-auth"):
        serve.vllm_command(with_auth, [], {})


@pytest.fixture
def fake_llama_server(tmp_path: Path) -> Path:
    """A stand-in `python3` (first on PATH) that writes the launcher's argv and the API key it
    would see to a file, then exits."""
    home = tmp_path / "fake-bin"
    home.mkdir()
    record = tmp_path / "record.json"
    script = home / "python3"
    script.write_text(
        "#!/bin/sh\n"
        f'exec {sys.executable} -c \'import json,os,sys; json.dump({{"argv": sys.argv[1:], '
        f'"key": os.environ.get("LLAMA_API_KEY"), "api_key": os.environ.get("API_KEY")}}, '
        f'open("{record}", "w"))\' "$@"\n'
    )
    script.chmod(0o755)
    return home


def run_cpu_entrypoint(
    command: tuple[str, ...], home: Path, models: Path, extra_env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{home}:{os.environ['PATH']}",
        "APP_HOME": str(models.parent),
        **extra_env,
    }
    return subprocess.run(
        [str(DOCKER / "cpu/src/entrypoint.sh"), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_cpu_entrypoint_takes_the_runners_command(tmp_path: Path, fake_llama_server: Path) -> None:
    models = tmp_path / "app" / "models"
    models.mkdir(parents=True)
    (models / "SmolLM2.gguf").write_bytes(b"GGUF")
    cfg = config_for("SmolLM2-135M-Instruct", "cpu", service_port=8123)
    result = run_cpu_entrypoint(cfg.command, fake_llama_server, models, {"API_KEY": "k-1"})
    assert result.returncode == 0, result.stderr
    record = json.loads((tmp_path / "record.json").read_text())
    argv = record["argv"]
    assert argv[:2] == ["-I", str(models.parent / "src" / "llama_server.py")]
    assert argv[argv.index("--model") + 1] == str(models / "SmolLM2.gguf")
    assert argv[argv.index("--alias") + 1] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert argv[argv.index("--port") + 1] == "8123"
    assert argv[argv.index("--parallel") + 1] == "8"
    assert argv[argv.index("--context-per-slot") + 1] == "4096"
    assert record["key"] == "k-1" and record["api_key"] is None, "the key is passed on, renamed"


def test_cpu_entrypoint_refuses_what_it_cannot_serve(
    tmp_path: Path, fake_llama_server: Path
) -> None:
    models = tmp_path / "app" / "models"
    models.mkdir(parents=True)
    cfg = config_for("SmolLM2-135M-Instruct", "cpu")
    no_weights = run_cpu_entrypoint(cfg.command, fake_llama_server, models, {"API_KEY": "k"})
    assert no_weights.returncode == 1 and "no .gguf file in" in no_weights.stderr
    (models / "m.gguf").write_bytes(b"GGUF")
    no_key = run_cpu_entrypoint(cfg.command, fake_llama_server, models, {})
    assert no_key.returncode == 2 and "set API_KEY, or pass --no-auth" in no_key.stderr
    unknown = run_cpu_entrypoint(
        (*cfg.command, "--bogus"), fake_llama_server, models, {"API_KEY": "k"}
    )
    assert unknown.returncode == 2 and "unknown argument '--bogus'" in unknown.stderr
