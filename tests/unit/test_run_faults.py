"""Faults a new user met in the first hour (issue 9), each through the CLI as a user meets it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fakes.hub import FakeHub, running_hub
from tests.helpers import HF_FILES, CliResult, FakeVllm, benchmarking_process, free_port
from workflows import context, dispatch, steps
from workflows.auth import Auth
from workflows.context import RunContext
from workflows.envs.venvs import VenvSpec
from workflows.errors import ExitCode
from workflows.registry.model_spec import ModelSpec
from workflows.run_config import RunConfig
from workflows.servers import provision
from workflows.servers.base import Server

Run = Callable[..., CliResult]


@pytest.fixture(params=["open /health", "/health behind the key"])
def keyed_emulator(request: pytest.FixtureRequest) -> Iterator[str]:
    """The emulator as a server that already runs and wants the bearer token 'right-key'; its
    /health is open (as llama.cpp's and vLLM's are) or, as behind a gateway, wants it too."""
    port = free_port()
    argv = [sys.executable, "-m", "benchmarking.emulator", "--port", str(port), "--no-uvloop"]
    argv += ["--model", "HuggingFaceTB/SmolLM2-135M-Instruct"]
    if request.param == "/health behind the key":
        argv.append("--key-on-health")
    process = subprocess.Popen(
        argv,
        env={"EMULATOR_API_KEY": "right-key", "PATH": "/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and "listening" in process.stdout.readline()
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize(
    ("api_key", "message"),
    [
        (None, "requires a token (HTTP 401 on /v1/models); set API_KEY"),
        ("wrong-key", "refused the token from API_KEY (HTTP 401 on /v1/models)"),
    ],
)
def test_a_server_that_wants_a_token_says_how_to_pass_one(
    run_cli: Run,
    keyed_emulator: str,
    monkeypatch: pytest.MonkeyPatch,
    api_key: str | None,
    message: str,
) -> None:
    """It used to read as `HTTPError: 401 Client Error ... (traceback in error.log)`."""
    if api_key:
        monkeypatch.setenv("API_KEY", api_key)
    args = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "server"]
    # a 401 on /health must not be waited out as "not ready yet": that ends with
    # ExitCode.SERVER and "was not ready after 60s", not with how to pass a token
    result = run_cli(*args, "--server-url", keyed_emulator, "--workflow-args", "ready_timeout=60")
    assert result.code == ExitCode.SETUP and "not ready" not in result.err
    errors = [line for line in result.err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and message in errors[0]
    assert "Traceback" not in result.err and "wrong-key" not in result.err


def test_the_right_token_passes_the_credentials_check(
    run_cli: Run, keyed_emulator: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_KEY", "right-key")
    args = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "server"]
    result = run_cli(*args, "--server-url", keyed_emulator)
    assert result.code == 0, result.err
    assert "already running" in result.out


def test_hf_token_in_dotenv_downloads_gated_weights(
    run_cli: Run,
    tiny_registry: Path,
    fake_vllm: FakeVllm,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`.env` was read only to mask HF_TOKEN; the download read the process environment."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".env").write_text("HF_TOKEN=hf_righttoken\n")
    monkeypatch.setattr(context, "REPO_ROOT", checkout)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    hub = FakeHub(
        {"acme/Tiny-1B-Instruct": HF_FILES}, gated={"acme/Tiny-1B-Instruct"}, token="hf_righttoken"
    )
    args = [a for a in fake_vllm.args() if a not in ("--host-weights-dir", str(fake_vllm.weights))]
    with running_hub(hub) as endpoint:
        monkeypatch.setenv("HF_ENDPOINT", endpoint)
        result = run_cli(*args, "--workflow", "server", "--model-specs-dir", str(tiny_registry))
    assert result.code == 0, result.err
    run_log = tmp_path / "workflow_logs" / "latest" / "run.log"
    assert "download from Hugging Face" in run_log.read_text()
    assert "hf_righttoken" not in result.out + result.err


def test_container_secrets_come_from_dotenv_too(tmp_path: Path) -> None:
    from rich.console import Console

    from workflows.registry.loader import load_registry
    from workflows.secrets import load_secrets

    (tmp_path / ".env").write_text("HF_TOKEN=hf_fromdotenvfile\n")
    secrets = load_secrets({}, tmp_path / ".env")
    ctx = RunContext(
        RunConfig("SmolLM2-135M-Instruct", "cpu", "benchmarks", docker_server=True),
        Console(),
        context.default_paths({}),
        {},
        secrets,
        spec=load_registry().find("SmolLM2-135M-Instruct", "cpu"),
        auth=Auth("run-key-1234", "generated for this run"),
    )
    assert provision.container_secrets(ctx) == {
        "HF_TOKEN": "hf_fromdotenvfile",
        "API_KEY": "run-key-1234",
    }


def test_missing_weights_folder_is_reported_before_the_server_is_compiled(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--host-weights-dir /no/such/folder used to start the ten-minute llama.cpp compile."""

    def no_build(*_: object) -> Path:
        raise AssertionError("the server environment was built before the input was checked")

    monkeypatch.setattr(provision, "build_server_environment", no_build)
    args = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "server"]
    result = run_cli(*args, "--local-server", "--host-weights-dir", "/no/such/folder")
    assert result.code == ExitCode.SETUP, result.err
    assert "--host-weights-dir /no/such/folder is not a folder" in result.err


def no_weights(*_: object, **__: object) -> object:
    raise AssertionError("weights were resolved before the cheap checks")


def test_local_vllm_checks_tt_metal_before_resolving_weights(
    run_cli: Run,
    tiny_registry: Path,
    fake_vllm: FakeVllm,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from workflows.host import weights

    monkeypatch.setattr(weights, "resolve_weights", no_weights)
    monkeypatch.setattr(provision, "resolve_weights", no_weights)
    monkeypatch.delenv("TT_METAL_HOME")
    args = [a for a in fake_vllm.args() if a not in ("--host-weights-dir", str(fake_vllm.weights))]
    result = run_cli(*args, "--workflow", "server", "--model-specs-dir", str(tiny_registry))
    assert result.code == ExitCode.SETUP and "needs TT_METAL_HOME set" in result.err


@pytest.mark.parametrize(
    ("extra", "missing"), [((), "/dev/tenstorrent"), (("--device-id", "1,2"), "/dev/tenstorrent/2")]
)
def test_local_vllm_checks_the_device_nodes_before_resolving_weights(
    run_cli: Run,
    tiny_registry: Path,
    fake_vllm: FakeVllm,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    extra: tuple[str, ...],
    missing: str,
) -> None:
    """vLLM on a host without the card (or without the card asked for) used to fail only after
    the weights were found or downloaded."""
    monkeypatch.setattr(provision, "resolve_weights", no_weights)
    host = tmp_path / "no-cards"
    (host / "dev" / "tenstorrent" / "1").mkdir(parents=True)
    if missing == "/dev/tenstorrent":
        (host / "dev" / "tenstorrent" / "1").rmdir()
        (host / "dev" / "tenstorrent").rmdir()
    monkeypatch.setattr(provision, "HOST_ROOT", host)
    args = [a for a in fake_vllm.args() if a not in ("--host-weights-dir", str(fake_vllm.weights))]
    args += ["--workflow", "server", "--model-specs-dir", str(tiny_registry), *extra]
    result = run_cli(*args)
    assert result.code == ExitCode.SETUP, result.err
    assert f"{missing} not found on this host" in result.err


class DyingServer(Server):
    """A server object that 'dies' (SIGKILL) when told to: no process behind it."""

    def __init__(self, log_path: Path) -> None:
        super().__init__("http://127.0.0.1:9", Auth(None, "none"), log_path)
        self.code: int | None = None
        self.stopped = False

    def start(self) -> None:
        assert self.log_path is not None
        self.log_path.write_text("loading model\nslot 0: decoding\n")

    def stop(self) -> None:
        self.stopped = True

    def exit_code(self) -> int | None:
        return self.code

    @property
    def started_by_runner(self) -> bool:
        return True

    def wait_ready(
        self, timeout: float, why: str = "", on_wait: Callable[[float], None] | None = None
    ) -> float:
        return 0.0


class WorkflowThatOutlivesItsServer:
    name = "benchmarks"

    def __init__(self) -> None:
        self.server: DyingServer | None = None

    def check_args(self, config: RunConfig) -> None:
        del config

    def check_spec(self, spec: ModelSpec, config: RunConfig) -> None:
        del spec, config

    def environments(self, config: RunConfig) -> tuple[VenvSpec, ...]:
        del config
        return ()

    def keeps_server(self, config: RunConfig) -> bool:
        del config
        return False

    def run(self, ctx: RunContext) -> ExitCode:
        server = ctx.the_server
        assert isinstance(server, DyingServer)
        server.code = -9  # killed under the workflow, which noticed nothing
        return ExitCode.OK


def test_a_server_that_dies_under_a_workflow_ends_the_run_with_its_status(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The step list with a fake server: a server that died used to give `exit 0 (ok)`."""
    made: list[DyingServer] = []

    def create(ctx: RunContext, keep: bool) -> Server:
        assert not keep
        made.append(DyingServer(ctx.the_folder.server_log))
        return made[-1]

    monkeypatch.setattr(provision, "create_server", create)
    monkeypatch.setitem(dispatch.WORKFLOWS, "benchmarks", WorkflowThatOutlivesItsServer())
    monkeypatch.setattr(steps, "check_credentials", lambda server: None)
    monkeypatch.setattr(steps, "require_served_model", lambda url, headers, model: model)
    args = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks"]
    result = run_cli(*args, "--server-url", "http://127.0.0.1:9")
    assert result.code == ExitCode.SERVER, result.err
    assert "the server exited with signal SIGKILL during the benchmarks workflow" in result.err
    assert "slot 0: decoding" in result.err  # the log tail
    assert made[0].stopped and "exit 4 (server)" in result.err


@pytest.mark.parametrize(
    ("api_key", "message"),
    [(None, "requires a token (HTTP 401)"), ("wrong-key", "refused our token (HTTP 401)")],
)
def test_the_load_generator_alone_says_how_to_pass_a_token(
    keyed_emulator: str, tmp_path: Path, api_key: str | None, message: str
) -> None:
    """`python -m benchmarking` against a keyed server, without the runner in front of it."""
    process = benchmarking_process(
        keyed_emulator, tmp_path / "out", {"smoke": True}, api_key=api_key
    )
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 1, output
    assert message in output and "HTTPError" not in output and "traceback" not in output


def test_missing_tenstorrent_device_is_found_before_environments_or_the_engine(
    run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows.servers.docker_engine import DockerEngine

    def not_yet(*_: object, **__: object) -> Path:
        raise AssertionError("this ran before the device nodes were checked")

    monkeypatch.setattr(steps, "ensure_venv", not_yet)
    monkeypatch.setattr(DockerEngine, "connect", not_yet)
    # a host with room for the 8B model: the machine's own free RAM varies with its load
    monkeypatch.setattr(provision, "check_host", lambda *_: (1000.0, 1000.0))
    args = ["--model", "Llama-3.1-8B-Instruct", "--device", "n150", "--workflow", "benchmarks"]
    result = run_cli(*args, "--docker-server")
    assert result.code == ExitCode.SETUP, result.err
    assert "/dev/tenstorrent not found on this host" in result.err
