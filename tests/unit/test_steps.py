"""The run's steps, each called on its own with a run context and a fake server: no process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import Run, run_context
from workflows import steps
from workflows.auth import Auth
from workflows.context import RunContext
from workflows.errors import ExitCode, SetupError
from workflows.servers import provision
from workflows.servers.base import Server, reported_version


class FakeServer(Server):
    """Answers as a started server would; records what the steps asked of it."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", Auth(None, "none"), None)
        self.calls: list[str] = []
        self.waited_for: float | None = None

    def start(self) -> None:
        self.calls.append("start")

    def stop(self) -> None:
        self.calls.append("stop")

    def exit_code(self) -> int | None:
        return None

    @property
    def started_by_runner(self) -> bool:
        return True

    def wait_ready(
        self, timeout: float, why: str = "", on_wait: Callable[[float], None] | None = None
    ) -> float:
        self.calls.append("wait_ready")
        self.waited_for = timeout
        return 0.0


def test_the_step_list_reads_as_the_run_goes() -> None:
    """Cheap checks of input and host before anything is built; the server before the workflow."""
    assert [step.__name__ for step in steps.STEPS] == [
        "resolve_spec",
        "print_docker_command",
        "open_run_folder",
        "save_runtime_spec",
        "load_auth",
        "check_inputs",
        "check_host_software",
        "reset_environments",
        "build_environments",
        "record_engine_version",
        "start_server",
        "check_served_model",
        "record_served_version",
        "run_workflow",
    ]


def fake_server(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeServer, list[bool]]:
    server, kept = FakeServer(), []

    def create(ctx: RunContext, keep: bool) -> Server:
        kept.append(keep)
        return server

    monkeypatch.setattr(provision, "create_server", create)
    monkeypatch.setattr(steps, "check_credentials", lambda server: None)
    return server, kept


def test_start_server_waits_as_long_as_asked_and_teardown_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, kept = fake_server(monkeypatch)
    ctx = steps.start_server(run_context(tmp_path, args="ready_timeout=7"))
    assert ctx.server is server and server.calls == ["start", "wait_ready"]
    assert server.waited_for == 7.0 and kept == [False]
    ctx.teardown.close()
    assert server.calls[-1] == "stop", "a benchmarks run does not leave its server behind"


def test_the_server_workflow_keeps_its_server_after_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, kept = fake_server(monkeypatch)
    ctx = steps.start_server(run_context(tmp_path, workflow="server"))
    assert server.waited_for == steps.DEFAULT_READY_TIMEOUT["llama_cpp"] and kept == [True]
    ctx.teardown.close()
    assert "stop" not in server.calls


def test_a_failed_run_stops_even_a_server_meant_to_be_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, _ = fake_server(monkeypatch)
    ctx = run_context(tmp_path, workflow="server")

    def fails(ctx: RunContext) -> RunContext:
        raise SetupError("the workflow broke")

    with pytest.raises(SetupError):
        steps.execute(ctx, (steps.start_server, fails))
    assert server.calls[-1] == "stop"


def test_the_engine_version_joins_the_runtime_spec_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(provision, "engine_version", lambda ctx: "version: 7 (build 11434)")
    ctx = steps.record_engine_version(run_context(tmp_path))
    recorded = json.loads(ctx.the_folder.runtime_spec.read_text())
    assert recorded["engine_version"] == "version: 7 (build 11434)"
    assert ctx.the_runtime.engine_version == "version: 7 (build 11434)"


def test_reset_venvs_waits_for_the_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli: Run
) -> None:
    """`--reset-venvs` with a mistyped folder used to delete every environment (the compiled
    llama.cpp with them) before the folder was found missing."""
    removed: list[str] = []

    def reset() -> list[str]:
        removed.append("all")
        return []

    monkeypatch.setattr(steps, "reset_venvs", reset)
    args = ["--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "server"]
    result = run_cli(*args, "--local-server", "--reset-venvs", "--host-weights-dir", "/no/such")
    assert result.code == ExitCode.SETUP and "/no/such" in result.err
    assert removed == []


def test_the_first_exit_code_ends_the_run(tmp_path: Path) -> None:
    ran: list[str] = []

    def refuses(ctx: RunContext) -> ExitCode:
        ran.append("refuses")
        return ExitCode.SETUP

    def never(ctx: RunContext) -> RunContext:
        ran.append("never")
        return ctx

    assert steps.execute(run_context(tmp_path), (refuses, never)) is ExitCode.SETUP
    assert ran == ["refuses"]


class Reply:
    def __init__(self, status: int, body: object) -> None:
        self.status_code, self.body = status, body

    def json(self) -> object:
        if isinstance(self.body, Exception):
            raise self.body
        return self.body


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"/version": Reply(200, {"version": "0.9.2"})}, "vllm 0.9.2 (GET /version)"),
        (
            {"/props": Reply(200, {"build_info": "b11434-b11434"})},
            "llama.cpp b11434-b11434 (GET /props)",
        ),
        ({"/version": Reply(200, ValueError("not JSON"))}, None),
        ({}, None),
    ],
)
def test_a_running_server_is_asked_what_engine_it_runs(
    answers: dict[str, Reply], expected: str | None
) -> None:
    def get(url: str, **_: object) -> Reply:
        return answers.get(url.removeprefix("http://h:1"), Reply(404, {"error": "File Not Found"}))

    assert reported_version("http://h:1", {}, get) == expected


def test_the_served_version_joins_the_runtime_spec_unless_the_build_said_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(steps, "reported_version", lambda url, headers: "vllm 0.9.2 (GET /version)")
    ctx = run_context(tmp_path).with_(server=FakeServer())
    ctx = steps.record_served_version(ctx)
    recorded = json.loads(ctx.the_folder.runtime_spec.read_text())
    assert recorded["engine_version"] == "vllm 0.9.2 (GET /version)"
    monkeypatch.setattr(provision, "engine_version", lambda ctx: "version: 7 (build 11434)")
    built = steps.record_engine_version(run_context(tmp_path / "built"))
    ctx = steps.record_served_version(built.with_(server=FakeServer()))
    assert ctx.the_runtime.engine_version == "version: 7 (build 11434)", "the build's own answer"
