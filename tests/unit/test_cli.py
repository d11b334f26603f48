"""Every flag changes something a user can see: tested through the CLI against a fake vLLM
install (a real process that records how it was started) or a server already running."""

from __future__ import annotations

import json
import os
import shlex
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.console import Console

from benchmarking.trace_capture import warmup_lengths
from tests.helpers import REPO_ROOT, CliResult, FakeVllm, free_port, pid_alive, wait_for
from workflows import cli, steps
from workflows.auth import mint_jwt
from workflows.context import Paths, RunContext
from workflows.dispatch import workflow_names
from workflows.envs import venvs
from workflows.options import parse
from workflows.paths import MODEL_SPECS_DIR
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig
from workflows.secrets import load_secrets

Run = Callable[..., CliResult]


def latest(tmp_path: Path) -> Path:
    return (tmp_path / "workflow_logs" / "latest").resolve()


def runtime_spec(tmp_path: Path) -> dict[str, object]:
    data = json.loads((latest(tmp_path) / "runtime_spec.json").read_text())
    assert isinstance(data, dict)
    return data


def serve(run_cli: Run, registry: Path, fake: FakeVllm, *extra: str) -> CliResult:
    return run_cli(*fake.args("--workflow", "server", "--model-specs-dir", str(registry), *extra))


def test_server_workflow_leaves_server_running_and_says_how_to_use_it(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, tmp_path: Path
) -> None:
    result = serve(run_cli, tiny_registry, fake_vllm)
    assert result.code == 0, result.err
    record = fake_vllm.record()
    port = fake_vllm.port
    pid = int(str(record["pid"]))
    assert pid_alive(pid)
    assert f"ready at http://127.0.0.1:{fake_vllm.port}" in result.out
    assert f"kill {pid}" in result.out
    argv = list(record["argv"])  # type: ignore[call-overload]
    assert argv[argv.index("--port") + 1] == str(fake_vllm.port)
    assert argv[argv.index("--served-model-name") + 1] == "acme/Tiny-1B-Instruct"
    assert argv[argv.index("--max-num-seqs") + 1] == "4"
    env = record["env"]
    assert isinstance(env, dict) and env["MESH_DEVICE"] == "N150"
    assert env["VLLM_ALLOW_LONG_MAX_MODEL_LEN"] == "1"
    folder = latest(tmp_path)
    assert {"run.log", "runtime_spec.json", "server.log", "api_token"} <= {
        p.name for p in folder.iterdir()
    }
    assert stat.S_IMODE((folder / "api_token").stat().st_mode) == 0o600
    assert env["VLLM_API_KEY"] == (folder / "api_token").read_text().strip()
    bench = next(line for line in result.out.splitlines() if line.strip().startswith("bench:"))
    assert 'API_KEY="$(cat ' in bench and "api_token)" in bench
    assert "--workflow benchmarks --server-url http://127.0.0.1:" in bench
    assert env["VLLM_API_KEY"] not in result.out
    config, spec = resolve_printed_command(bench, tmp_path)
    assert (config.workflow, config.server_url) == ("benchmarks", f"http://127.0.0.1:{port}")
    assert (spec.model_name, spec.impl, spec.version) == (
        "Tiny-1B-Instruct",
        "tt_transformers",
        "0.9.0",
    )


def resolve_printed_command(line: str, tmp_path: Path) -> tuple[RunConfig, ModelSpec]:
    """What the printed `bench:` command would run: its settings and the spec it resolves to."""
    words = [w for w in shlex.split(line.split(":", 1)[1]) if not w.startswith("API_KEY=")]
    assert words[0] == "python3" and Path(words[1]).resolve() == REPO_ROOT / "run.py"
    options = parse(words[2:], workflow_names())
    assert options is not None
    config = cli._config(options)
    paths = Paths(options["model_specs_dir"] or MODEL_SPECS_DIR, tmp_path, tmp_path / ".env")
    ctx = RunContext(config, Console(), paths, {}, load_secrets({}, paths.dotenv))
    return config, steps.resolve_spec(ctx).the_spec


def test_the_bench_command_names_the_spec_the_server_runs(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, tmp_path: Path
) -> None:
    """Served with --impl from a registry of one's own, the printed command must say both, or
    pasting it benchmarks another spec (or finds no model at all)."""
    result = serve(run_cli, tiny_registry, fake_vllm, "--impl", "other_impl")
    assert result.code == 0, result.err
    bench = next(line for line in result.out.splitlines() if line.strip().startswith("bench:"))
    config, spec = resolve_printed_command(bench, tmp_path)
    assert (spec.impl, spec.version, config.impl) == ("other_impl", "0.8.0", "other_impl")


def test_trace_capture_sends_one_request_per_padded_length_unless_disabled(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, tmp_path: Path
) -> None:
    assert serve(run_cli, tiny_registry, fake_vllm).code == 0
    log = latest(tmp_path) / "server.log"  # copied in by the guard, masked: a line may lag

    def posts() -> int:
        return log.read_text().count('"POST /v1/completions')

    wait_for(lambda: posts() >= 4, seconds=10)
    assert posts() == len(warmup_lengths(2048)) == 4
    os.kill(int(str(fake_vllm.record()["pid"])), 9)
    assert serve(run_cli, tiny_registry, fake_vllm, "--disable-trace-capture").code == 0
    assert (latest(tmp_path) / "server.log").read_text().count("POST") == 0


def test_service_port_defaults_to_env(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("SERVICE_PORT", str(port))
    args = [
        a
        for a in fake_vllm.args("--workflow", "server", "--model-specs-dir", str(tiny_registry))
        if a != str(fake_vllm.port)
    ]
    args.remove("--service-port")
    assert run_cli(*args).code == 0
    argv = list(fake_vllm.record()["argv"])  # type: ignore[call-overload]
    assert argv[argv.index("--port") + 1] == str(port)


def test_bind_host_is_where_the_server_listens(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm
) -> None:
    result = serve(run_cli, tiny_registry, fake_vllm, "--bind-host", "0.0.0.0")
    assert result.code == 0, result.err
    argv = list(fake_vllm.record()["argv"])  # type: ignore[call-overload]
    assert argv[argv.index("--host") + 1] == "0.0.0.0"


def test_device_ids_and_t3k_environment(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm
) -> None:
    args = [
        ("t3k" if a == "n150" else a)
        for a in fake_vllm.args(
            "--workflow", "server", "--model-specs-dir", str(tiny_registry), "--device-id", "0,1"
        )
    ]
    assert run_cli(*args).code == 0
    env = fake_vllm.record()["env"]
    assert isinstance(env, dict)
    assert env["TT_VISIBLE_DEVICES"] == "0,1" and env["MESH_DEVICE"] == "T3K"
    assert env["WH_ARCH_YAML"] == "wormhole_b0_80_arch_eth_dispatch.yaml"


def test_vllm_and_tt_overrides_reach_the_server(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, tmp_path: Path
) -> None:
    result = serve(
        run_cli,
        tiny_registry,
        fake_vllm,
        "--vllm-override-args",
        '{"max_num_seqs": 2, "enable_chunked_prefill": true}',
        "--override-tt-config",
        '{"trace_region_size": null, "fabric": "1D"}',
    )
    assert result.code == 0, result.err
    argv = list(fake_vllm.record()["argv"])  # type: ignore[call-overload]
    assert argv[argv.index("--max-num-seqs") + 1] == "2"
    assert "--enable-chunked-prefill" in argv
    assert json.loads(argv[argv.index("--additional-config") + 1]) == {
        "tt": {"keep": 1, "fabric": "1D"}
    }
    spec = runtime_spec(tmp_path)["model_spec"]
    assert isinstance(spec, dict) and spec["vllm_args"]["max_num_seqs"] == 2


def test_no_auth_starts_server_without_key(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, tmp_path: Path
) -> None:
    result = serve(run_cli, tiny_registry, fake_vllm, "--no-auth")
    assert result.code == 0, result.err
    env = fake_vllm.record()["env"]
    assert isinstance(env, dict) and "VLLM_API_KEY" not in env
    assert "none (--no-auth)" in result.out
    assert not (latest(tmp_path) / "api_token").exists()


def test_jwt_secret_becomes_the_servers_key_and_is_never_logged(
    run_cli: Run,
    tiny_registry: Path,
    fake_vllm: FakeVllm,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JWT_SECRET", "a-long-enough-jwt-secret-for-tests-0001")
    monkeypatch.setenv("HF_TOKEN", "hf_testtokenvalue123")
    result = serve(run_cli, tiny_registry, fake_vllm, "-v")
    assert result.code == 0, result.err
    token = mint_jwt("a-long-enough-jwt-secret-for-tests-0001")
    env = fake_vllm.record()["env"]
    assert isinstance(env, dict) and env["VLLM_API_KEY"] == token
    everything = result.out + result.err + (latest(tmp_path) / "run.log").read_text()
    everything += (latest(tmp_path) / "runtime_spec.json").read_text()
    for secret in (token, "a-long-enough-jwt-secret-for-tests-0001", "hf_testtokenvalue123"):
        assert secret not in everything


def test_verbose_shows_debug_lines(run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm) -> None:
    quiet = serve(run_cli, tiny_registry, fake_vllm)
    os.kill(int(str(fake_vllm.record()["pid"])), 9)
    loud = serve(run_cli, tiny_registry, fake_vllm, "--verbose")
    assert "$ " not in quiet.out and "$ " in loud.out
    assert "vllm.entrypoints.openai.api_server" in loud.out


def test_server_that_exits_at_start_shows_log_tail(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VLLM_EXIT_AT_START", "1")
    result = serve(run_cli, tiny_registry, fake_vllm)
    assert result.code == 4
    assert "exited with code 3 before it was ready" in result.err
    assert "fake vllm: failing at start as asked" in result.err
    assert "server.log" in result.err and "Traceback" not in result.err


def test_ready_timeout_workflow_arg_bounds_the_wait(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_VLLM_START_DELAY", "30")
    result = serve(run_cli, tiny_registry, fake_vllm, "--workflow-args", "ready-timeout=1")
    assert result.code == 4
    assert "not ready after 1s" in result.err
    assert not pid_alive(int(str(fake_vllm.record()["pid"]))), "the server must be stopped"


def test_unknown_workflow_arg_is_rejected(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm
) -> None:
    result = serve(run_cli, tiny_registry, fake_vllm, "--workflow-args", "colour=red")
    assert result.code == 2
    assert "does not take colour; it accepts: ready_timeout" in result.err
    assert not fake_vllm.record_path.exists()


def test_server_url_uses_a_running_server_and_starts_nothing(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm
) -> None:
    assert serve(run_cli, tiny_registry, fake_vllm, "--no-auth").code == 0
    first_pid = fake_vllm.record()["pid"]
    result = run_cli(
        "--model",
        "Tiny-1B-Instruct",
        "--device",
        "n150",
        "--workflow",
        "server",
        "--model-specs-dir",
        str(tiny_registry),
        "--server-url",
        f"localhost:{fake_vllm.port}/v1",
    )
    assert result.code == 0, result.err
    assert f"ready at http://localhost:{fake_vllm.port}" in result.out
    assert "the runner did not start it" in result.out
    assert fake_vllm.record()["pid"] == first_pid


def test_unreachable_server_url_is_a_server_error(run_cli: Run, tiny_registry: Path) -> None:
    result = run_cli(
        "--model",
        "Tiny-1B-Instruct",
        "--device",
        "n150",
        "--workflow",
        "server",
        "--model-specs-dir",
        str(tiny_registry),
        "--workflow-args",
        "ready_timeout=1",
        "--server-url",
        f"http://127.0.0.1:{free_port()}",
    )
    assert result.code == 4 and "was not ready after 1s" in result.err


def test_impl_shows_in_runtime_spec(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, tmp_path: Path
) -> None:
    result = serve(run_cli, tiny_registry, fake_vllm, "--impl", "other_impl")
    assert result.code == 0, result.err
    spec = runtime_spec(tmp_path)["model_spec"]
    assert isinstance(spec, dict)
    assert spec["impl"] == "other_impl" and spec["version"] == "0.8.0"


def test_dev_mode_and_image_override_choose_the_containers_image(
    run_cli: Run, tiny_registry: Path
) -> None:
    base = ["--model", "Tiny-1B-Instruct", "--device", "n150", "--workflow", "server"]
    base += ["--docker-server", "--print-docker-cmd", "--model-specs-dir", str(tiny_registry)]
    dev = run_cli(*base, "--dev-mode")
    assert dev.code == 0 and "vllm-tt-metal-src-dev" in dev.out
    image = "ghcr.io/acme/img:0.20.0-0123456789ab-ba9876543210"
    pinned = run_cli(*base, "--override-docker-image", image)
    assert pinned.code == 0 and image in pinned.out


def test_image_flags_without_docker_server_are_refused_and_not_recorded(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, tmp_path: Path
) -> None:
    """--dev-mode used to be accepted with --local-server and rewrite the recorded image."""
    result = serve(run_cli, tiny_registry, fake_vllm, "--dev-mode")
    assert result.code == 2 and "--dev-mode needs --docker-server" in result.err
    assert not (tmp_path / "workflow_logs" / "runs").exists()
    assert not fake_vllm.record_path.exists()


def test_local_tt_server_without_tt_metal_is_a_setup_error(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TT_METAL_HOME")
    result = serve(run_cli, tiny_registry, fake_vllm)
    assert result.code == 3 and "needs TT_METAL_HOME set" in result.err


def test_incomplete_weights_folder_names_what_is_missing(
    run_cli: Run, tiny_registry: Path, fake_vllm: FakeVllm
) -> None:
    (fake_vllm.weights / "tokenizer.json").unlink()
    result = serve(run_cli, tiny_registry, fake_vllm)
    assert result.code == 3
    assert "incomplete for hf weights: missing tokenizer" in result.err


def test_ram_minimum_is_checked_before_start(
    run_cli: Run, tmp_path: Path, tiny_registry: Path, fake_vllm: FakeVllm
) -> None:
    text = (
        (tiny_registry / "tiny.yaml")
        .read_text()
        .replace("min_ram_gb: 0.001", "min_ram_gb: 99999", 1)
    )
    (tiny_registry / "tiny.yaml").write_text(text)
    result = serve(run_cli, tiny_registry, fake_vllm)
    assert result.code == 3
    assert "needs 99999.0 GB of available RAM, only" in result.err
    assert not fake_vllm.record_path.exists()


def test_ram_minimum_is_checked_before_a_container_starts(
    run_cli: Run, tiny_registry: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A container uses the host's RAM too: the check comes before the engine is even asked."""
    from workflows.servers.docker import DockerServer

    def no_engine() -> None:
        raise AssertionError("the Docker engine was asked before the RAM check")

    monkeypatch.setattr(DockerServer, "check_engine", staticmethod(no_engine))
    text = (
        (tiny_registry / "tiny.yaml")
        .read_text()
        .replace("min_ram_gb: 0.001", "min_ram_gb: 99999", 1)
    )
    (tiny_registry / "tiny.yaml").write_text(text)
    args = ["--model", "Tiny-1B-Instruct", "--device", "n150", "--workflow", "server"]
    result = run_cli(*args, "--docker-server", "--model-specs-dir", str(tiny_registry))
    assert result.code == 3, result.err
    assert "needs 99999.0 GB of available RAM, only" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--local-server", "--docker-server"], "--local-server and --docker-server cannot"),
        (["--local-server", "--server-url", "http://x:1"], "--server-url and --local-server"),
        (["-it"], "-it/--interactive needs --local-server or --docker-server"),
        ([], "--workflow server needs --local-server or --docker-server"),
        (["--local-server", "--device-id", "x"], "--device-id: expected comma-separated"),
        (["--local-server", "--service-port", "70000"], "is not a TCP port"),
        (["--local-server", "--vllm-override-args", '{"port": 1}'], "port are set by the runner"),
        (["--server-url", "ftp://host"], "is not an http(s) URL"),
        (["--local-server", "--dev-mode"], "--dev-mode needs --docker-server"),
        (["--server-url", "http://x:1", "--override-docker-image", "a/b:1"], "needs --docker"),
        (
            ["--docker-server", "--override-docker-image", "::bad::"],
            "'::bad::' is not a valid Docker image reference",
        ),
        (["--server-url", "http://x:1", "--bind-host", "0.0.0.0"], "--bind-host configures a"),
        (
            ["--server-url", "http://x:1", "--vllm-override-args", '{"max_num_seqs": 2}'],
            "--vllm-override-args configures a server the runner starts",
        ),
        (
            ["--server-url", "http://x:1", "--override-tt-config", '{"a": 1}'],
            "--override-tt-config configures a server the runner starts",
        ),
        (["--server-url", "http://x:1", "--json"], "--json only changes --list-models"),
        (["--server-url", "http://x:1", "--device-id", "0"], "--device-id configures a"),
        (["--server-url", "http://x:1", "--service-port", "8001"], "--service-port configures a"),
        (
            ["--docker-server", "--dev-mode", "--override-docker-image", "a/b:1"],
            "--dev-mode and --override-docker-image cannot be used together",
        ),
    ],
)
def test_conflicting_or_bad_flags_are_one_line_errors(
    run_cli: Run, args: list[str], message: str
) -> None:
    result = run_cli(
        "--model", "Llama-3.1-8B-Instruct", "--device", "n150", "--workflow", "server", *args
    )
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_cpu_rejects_tenstorrent_only_flags(run_cli: Run) -> None:
    result = run_cli(
        "--model",
        "SmolLM2-135M-Instruct",
        "--device",
        "cpu",
        "--workflow",
        "server",
        "--local-server",
        "--override-tt-config",
        '{"a": 1}',
    )
    assert result.code == 2 and "--override-tt-config and --device cpu" in result.err


def test_llama_cpp_refuses_vllm_args_it_cannot_honour(run_cli: Run) -> None:
    args = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "server"]
    result = run_cli(
        *args, "--local-server", "--vllm-override-args", '{"enable_chunked_prefill": true}'
    )
    assert result.code == 2 and "cannot honour enable_chunked_prefill" in result.err
    assert "max_model_len and max_num_seqs" in result.err


def test_dev_mode_is_refused_for_a_pinned_gpu_image(run_cli: Run) -> None:
    """It used to be accepted and recorded while the container ran the pinned image unchanged."""
    args = ["--model", "Llama-3.1-8B-Instruct", "--device", "gpu", "--workflow", "server"]
    result = run_cli(*args, "--docker-server", "--dev-mode", "--print-docker-cmd")
    assert (
        result.code == 2
        and "--dev-mode: Llama-3.1-8B-Instruct on gpu runs the pinned" in result.err
    )
    assert "docker run" not in result.out


def test_local_server_on_gpu_says_how_gpu_specs_are_served(run_cli: Run) -> None:
    """It used to crash with an internal KeyError on the mesh device table."""
    args = ["--model", "Llama-3.1-8B-Instruct", "--device", "gpu", "--workflow", "benchmarks"]
    result = run_cli(*args, "--local-server")
    assert result.code == 2, result.err
    assert "--local-server does not run gpu specs: use --docker-server" in result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    assert "run folder" not in result.err, "refused before any run folder is made"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--limit-samples-mode", "quick"], "'quick' is not one of smoke, ci-commit"),
        (["--eval-samples", "[1]"], "--eval-samples: expected a JSON object"),
        (["--eval-samples", '{"readiness_basics": []}'], "needs a non-empty list of sample ids"),
        (["--eval-samples", '{"readiness_basics": [-1]}'], "needs a non-empty list of sample ids"),
        (
            ["--limit-samples-mode", "smoke", "--eval-samples", '{"readiness_basics": [1]}'],
            "--limit-samples-mode and --eval-samples cannot be used together",
        ),
        (["--eval-samples", '{"mmlu": [1]}'], "mmlu is not an eval task of this model"),
        (["--workflow-args", "tasks=gsm8k"], "gsm8k is not an eval task of this model"),
        (["--workflow-args", "concurrency=2"], "the evals workflow does not take concurrency"),
    ],
)
def test_bad_eval_flags_are_one_line_errors_before_anything_starts(
    run_cli: Run, args: list[str], message: str
) -> None:
    cpu = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu"]
    result = run_cli(*cpu, "--workflow", "evals", "--server-url", "http://127.0.0.1:9", *args)
    assert result.code == 2, result.err
    assert message in result.err
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1


def test_eval_flags_with_a_workflow_that_runs_no_evals_are_refused(run_cli: Run) -> None:
    cpu = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks"]
    result = run_cli(*cpu, "--local-server", "--limit-samples-mode", "smoke")
    assert result.code == 2
    assert "--limit-samples-mode sets what evals run; the benchmarks workflow runs none" in (
        result.err
    )


def test_unknown_model_exit_code_and_suggestion(run_cli: Run) -> None:
    result = run_cli(
        "--model",
        "Llama-3.1-8B-Instrct",
        "--device",
        "n150",
        "--workflow",
        "server",
        "--local-server",
    )
    assert result.code == 2
    assert "did you mean Llama-3.1-8B-Instruct?" in result.err


def test_unknown_flag_is_a_usage_error(run_cli: Run) -> None:
    result = run_cli("--model", "x", "--colour")
    assert result.code == 2 and "No such option: --colour" in result.err


def test_list_models_table_and_json(run_cli: Run) -> None:
    table = run_cli("--list-models")
    assert table.code == 0
    assert "SmolLM2-135M-Instruct" in table.out and "25305db" in table.out
    listed = run_cli("--list-models", "--json")
    document = json.loads(listed.out)
    ids = {spec["model_id"] for spec in document["model_specs"]}
    assert "id_llama-cpp_SmolLM2-135M-Instruct_cpu" in ids
    assert "id_tt-transformers_Llama-3.1-8B-Instruct_n150" in ids


def test_reset_venvs_removes_workflow_environments_only(
    run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "venvs"
    for name in ("runner", "dev", "bootstrap-uv", "server-llama-cpp", "evals"):
        (root / name).mkdir(parents=True)
    monkeypatch.setattr(venvs, "VENVS_DIR", root)
    assert run_cli("--reset-venvs").code == 0
    kept = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert kept == ["bootstrap-uv", "dev", "runner"]
    # each build's lock file stays: removing one another run waits on would split the lock
    assert {p.name for p in root.glob("*.lock")} <= {"server-llama-cpp.lock", "evals.lock"}


def test_help_lists_every_option_and_the_exit_codes(run_cli: Run) -> None:
    from workflows.options import options

    result = run_cli("--help")
    assert result.code == 0
    for option in options(("server",)):
        assert option.flags[-1] in result.out
    assert "exit codes: 0 ok" in " ".join(result.out.split())


def test_evals_of_a_model_without_eval_config_names_it_and_where_configs_live(
    run_cli: Run, tiny_registry: Path
) -> None:
    result = run_cli(
        "--model-specs-dir",
        str(tiny_registry),
        "--model",
        "Tiny-1B-Instruct",
        "--device",
        "n150",
        "--workflow",
        "evals",
        "--server-url",
        "http://127.0.0.1:9",
    )
    assert result.code == 2, result.err
    assert "Tiny-1B-Instruct has no eval configuration" in result.err
    assert "evals/configs/*.yaml" in result.err and "Traceback" not in result.err
