"""The CPU engine's launcher (docker/cpu/src/llama_server.py): the spec's settings on the engine's
parameters, the key from the environment only, and the version it reports."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from workflows.registry.loader import load_registry
from workflows.servers import llama_cpp

LAUNCHER = llama_cpp.LAUNCHER


def launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("llama_server", LAUNCHER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_params() -> Any:
    """The attributes of xllamacpp.CommonParams the launcher sets."""
    cpu = SimpleNamespace(n_threads=-1)
    return SimpleNamespace(
        model=SimpleNamespace(path=""),
        cpuparams=cpu,
        cpuparams_batch=SimpleNamespace(n_threads=-1),
        api_keys=[],
    )


def configured(*argv: str, api_key: str | None = None) -> Any:
    module = launcher()
    return module.configure(fake_params(), module.parse(list(argv)), api_key)


def test_settings_map_to_slots_of_full_context_with_metrics() -> None:
    params = configured(
        "--model", "/m.gguf", "--alias", "org/Model", "--port", "8123",
        "--parallel", "8", "--context-per-slot", "4096",
    )  # fmt: skip
    assert params.model.path == "/m.gguf"
    assert params.model_alias == {"org/Model"}, "one name, not the set of its characters"
    assert (params.n_parallel, params.n_ctx, params.kv_unified_per_slot) == (8, 32768, 4096)
    assert params.port == 8123 and params.hostnames == ["127.0.0.1"]
    assert params.cont_batching and params.endpoint_metrics and params.endpoint_slots
    assert params.api_keys == [], "no key: an open server"
    assert params.cpuparams.n_threads == -1, "llama.cpp picks its threads unless told"


def test_key_and_threads_are_applied() -> None:
    params = configured("--model", "m", "--alias", "a", "--threads", "2", api_key="k-1")
    assert params.api_keys == ["k-1"]
    assert params.cpuparams.n_threads == 2 and params.cpuparams_batch.n_threads == 2


def test_a_chat_template_given_replaces_the_ggufs_own() -> None:
    template = "{% for message in messages %}{{ message['content'] }}{% endfor %}"
    params = configured("--model", "m", "--alias", "a", "--chat-template", template)
    assert params.chat_template == template and params.use_jinja
    default = configured("--model", "m", "--alias", "a")
    assert not hasattr(default, "chat_template"), "unset: llama.cpp reads the GGUF's template"


def test_model_and_alias_are_required() -> None:
    with pytest.raises(SystemExit):
        launcher().parse(["--port", "1"])


def test_version_names_the_wheel_and_the_llama_cpp_release_it_packages() -> None:
    module = launcher()
    line = module.version_line("2026.10.11549")
    assert line == "version: xllamacpp 2026.10.11549 (llama.cpp b11549)"
    assert module.llama_cpp_build("1.0.dev") == "unknown"


def test_the_key_is_taken_from_the_environment_and_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = launcher()
    seen: list[str | None] = []

    def serve(args: object, key: str | None) -> int:
        seen.append(key)
        return 0

    monkeypatch.setattr(module, "serve", serve)
    monkeypatch.setenv("LLAMA_API_KEY", "secret-1")
    assert module.main(["--model", "m", "--alias", "a"]) == 0
    assert seen == ["secret-1"]
    assert "LLAMA_API_KEY" not in os.environ, "children of the server must not inherit it"


def test_runner_starts_the_launcher_with_the_specs_settings_and_no_key_on_argv(
    tmp_path: Path,
) -> None:
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    python = tmp_path / "bin" / "python"
    argv = llama_cpp.server_argv(spec, python, tmp_path / "m.gguf", "127.0.0.1", 8123)
    assert argv[:3] == [str(python), "-I", str(LAUNCHER)]
    parsed = launcher().parse(argv[3:])
    assert (parsed.parallel, parsed.context_per_slot) == (spec.max_concurrency, spec.max_context)
    assert parsed.alias == spec.hf_repo and parsed.port == 8123
    assert llama_cpp.server_env("tok") == {"LLAMA_API_KEY": "tok"}
    assert not any("tok" in part for part in argv)


def test_launcher_help_needs_no_engine() -> None:
    """The launcher imports the engine only to serve: a broken environment still gets --help."""
    result = subprocess.run(
        [sys.executable, "-I", str(LAUNCHER), "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and "--context-per-slot" in result.stdout
