"""Issue 19, item 10: a run tests the server it started, never another that holds its port.
Two `--local-server` runs on one port both pass the free-port check; the loser's readiness poll
then reaches the winner's server. The runner sees who listens on the port (/proc) and stops
with a line naming the holder."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO_ROOT, free_port
from workflows.auth import Auth
from workflows.errors import ServerError
from workflows.servers import local, port_owner
from workflows.servers.docker_engine import start_refused
from workflows.servers.local import LocalProcessServer, ensure_port_free

NO_AUTH = Auth(None, "none")
READY_WITHIN = 60.0  # generous: an outcome never depends on it
SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]  # a server slow to listen


def emulator_argv(port: int, model: str) -> list[str]:
    return [sys.executable, "-m", "benchmarking.emulator", "--port", str(port), "--model", model]


@pytest.fixture
def winner() -> Iterator[Callable[[int], subprocess.Popen[str]]]:
    """Another run's server, listening on the port once returned."""
    started: list[subprocess.Popen[str]] = []

    def start(port: int) -> subprocess.Popen[str]:
        argv = emulator_argv(port, "WINNER")
        process = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
        started.append(process)
        assert process.stdout is not None and "listening" in process.stdout.readline()
        return process

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def servers() -> Iterator[Callable[[list[str], int, Path], LocalProcessServer]]:
    made: list[LocalProcessServer] = []

    def make(argv: list[str], port: int, log: Path) -> LocalProcessServer:
        env = {"PYTHONPATH": str(REPO_ROOT)}
        made.append(LocalProcessServer(argv, env, "127.0.0.1", port, NO_AUTH, log))
        return made[-1]

    yield make
    for server in made:
        server.stop()


def test_the_readiness_poll_refuses_a_server_another_run_started(
    winner: Callable[[int], subprocess.Popen[str]],
    servers: Callable[[list[str], int, Path], LocalProcessServer],
    tmp_path: Path,
) -> None:
    port = free_port()
    ours = servers(SLEEPER, port, tmp_path / "server.log")
    ours.start()  # the free-port check passes: nothing listens yet
    other = winner(port)  # the other run's server binds the port first
    with pytest.raises(ServerError) as error:
        ours.wait_ready(READY_WITHIN)
    assert error.value.message.startswith(
        f"port {port} on 127.0.0.1 is already in use by pid {other.pid} ("
    )
    assert "--model WINNER); stop it or pick another port with --service-port" in (
        error.value.message
    )


def test_a_server_that_lost_the_port_says_who_holds_it(
    winner: Callable[[int], subprocess.Popen[str]],
    servers: Callable[[list[str], int, Path], LocalProcessServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = free_port()
    other = winner(port)
    monkeypatch.setattr(local, "ensure_port_free", lambda host, port: None)  # checked too early
    ours = servers(emulator_argv(port, "OURS"), port, tmp_path / "server.log")
    ours.start()
    with pytest.raises(ServerError) as error:
        ours.wait_ready(READY_WITHIN)
    assert f"already in use by pid {other.pid} (" in error.value.message


def test_our_own_server_is_ready(
    servers: Callable[[list[str], int, Path], LocalProcessServer], tmp_path: Path
) -> None:
    """The listener belongs to a process of the session the runner started (under the guard)."""
    port = free_port()
    ours = servers(emulator_argv(port, "OURS"), port, tmp_path / "server.log")
    ours.start()
    assert ours.wait_ready(READY_WITHIN) >= 0
    assert ours.port_conflict() is None


def test_a_port_bound_but_not_listening_is_not_free() -> None:
    """A connect finds nothing there; a server's bind would still fail."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        with pytest.raises(ServerError) as error:
            ensure_port_free("127.0.0.1", port)
    assert error.value.message == (
        f"port {port} on 127.0.0.1 is already in use; stop what listens there "
        "or pick another port with --service-port"
    )


def test_the_free_port_check_names_the_listener() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(ServerError) as error:
            ensure_port_free("127.0.0.1", port)
    assert error.value.message.startswith(f"port {port} on 127.0.0.1 is already in use by pid ")


def fake_proc(tmp_path: Path, tcp_lines: list[str], fds: dict[int, list[int]]) -> Path:
    """/proc with a tcp table and, per pid, its sockets (its session: the pid itself)."""
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"
    (proc / "net" / "tcp").write_text("\n".join([header, *tcp_lines]) + "\n")
    for pid, inodes in fds.items():
        (proc / str(pid) / "fd").mkdir(parents=True)
        (proc / str(pid) / "stat").write_text(f"{pid} (srv) S 1 {pid} {pid} 0 -1\n")
        (proc / str(pid) / "cmdline").write_bytes(b"srv\0--port\08000\0")
        for number, inode in enumerate(inodes):
            (proc / str(pid) / "fd" / str(number)).symlink_to(f"socket:[{inode}]")
    return proc


def tcp_line(address: str, port: int, state: str, inode: int) -> str:
    local_address = f"{address}:{port:04X}"
    return f"   0: {local_address} 00000000:0000 {state} 0:0 00:0 0 1000 0 {inode} 1 0 20 4 30"


def test_listeners_are_read_from_the_tcp_table(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        [
            tcp_line("0100007F", 8000, "0A", 11),  # 127.0.0.1, listening
            tcp_line("00000000", 8000, "0A", 12),  # 0.0.0.0, listening
            tcp_line("0200007F", 8000, "0A", 13),  # 127.0.0.2: not where 127.0.0.1 goes
            tcp_line("0100007F", 8000, "01", 14),  # a connection, not a listener
            tcp_line("0100007F", 8001, "0A", 15),  # another port
        ],
        {},
    )
    assert port_owner.listening_inodes(8000, "127.0.0.1", proc) == {11, 12}
    assert port_owner.listening_inodes(8000, "127.0.0.1", tmp_path / "none") is None


def test_a_listener_of_another_session_is_named(tmp_path: Path) -> None:
    lines = [tcp_line("0100007F", 8000, "0A", 21)]
    proc = fake_proc(tmp_path, lines, {400: [21], 500: []})
    assert port_owner.taken_by(8000, "127.0.0.1", 400, proc) is None  # ours
    assert port_owner.taken_by(8000, "127.0.0.1", 500, proc) == "pid 400 (srv --port 8000)"


def test_a_listener_nobody_visible_holds_is_another_users(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, [tcp_line("00000000", 8000, "0A", 31)], {500: []})
    assert port_owner.taken_by(8000, "127.0.0.1", 500, proc) == "a process of another user"


def test_docker_says_a_taken_host_port_is_taken() -> None:
    refusal = start_refused(
        "readiness-cpu-1",
        "driver failed programming external connectivity on endpoint readiness-cpu-1: "
        "Bind for 0.0.0.0:8000 failed: port is already allocated",
    )
    assert refusal.exit_code == 4
    assert refusal.message.startswith("Docker could not start readiness-cpu-1: its host port is ")
    assert refusal.message.endswith(
        "failed: port is already allocated); stop what holds it or pick another port with "
        "--service-port"
    )
