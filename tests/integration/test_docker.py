"""`--docker-server` against a real Docker engine, with the CPU image built from docker/cpu.

`.ci/run` installs the engine, starts it and makes a Debian base image
(scripts/ci/docker_engine.sh); without an engine these tests are skipped, saying why."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import requests

from tests.helpers import REPO_ROOT, free_port, read_until, runner, shown_log_tail, wait_for
from workflows.errors import SetupError
from workflows.servers.docker_engine import DockerEngine
from workflows.servers.image_builds import RECIPE_LABEL

pytestmark = pytest.mark.integration
MODEL = "SmolLM2-135M-Instruct"
DOCKER_ARGS = ["--model", MODEL, "--device", "cpu", "--docker-server"]
CPU_IMAGE = "local/readiness-llama-cpp-cpu:0.1.0"
DEBIAN_BASE = "readiness/debian-python:bookworm"


ENGINE_PREPARATION_DEADLINE_S = 900.0


def engine_preparation() -> str | None:
    """Waits for the engine `.ci/run` prepares in the background; None where nobody prepares one.

    Returns "ready", or why it could not be prepared (the tests then fail: it was promised)."""
    status_path = os.environ.get("READINESS_DOCKER_ENGINE_STATUS")
    if not status_path:
        return None
    status = Path(status_path)
    deadline = time.monotonic() + ENGINE_PREPARATION_DEADLINE_S
    while not status.exists():
        if time.monotonic() > deadline:
            return f"not prepared within {ENGINE_PREPARATION_DEADLINE_S:.0f} s"
        time.sleep(1)
    if status.read_text().strip() == "0":
        return "ready"
    log = Path(os.environ.get("READINESS_DOCKER_ENGINE_LOG", "/dev/null"))
    tail = log.read_text(errors="replace").splitlines()[-5:] if log.is_file() else []
    return "scripts/ci/docker_engine.sh failed: " + " | ".join(tail)


@pytest.fixture(scope="session")
def engine() -> DockerEngine:
    preparation = engine_preparation()
    if preparation not in (None, "ready"):
        pytest.skip(f"no Docker engine on this machine: {preparation}")
    try:
        return DockerEngine.connect()
    except SetupError as error:
        if preparation == "ready":
            pytest.fail(f"the Docker engine .ci/run prepared does not answer: {error}")
        pytest.skip(f"no Docker engine: {error.message} (scripts/ci/docker_engine.sh starts one)")


@pytest.fixture(scope="session")
def cpu_image(engine: DockerEngine) -> str:
    """The CPU image, built by the maintainer script (skipped if it is current)."""
    base = os.environ.get("READINESS_DOCKER_BASE_IMAGE") or DEBIAN_BASE
    if not engine.has_image(base):
        pytest.skip(f"no base image {base}: scripts/ci/docker_engine.sh makes one")
    build = [sys.executable, "scripts/build_images.py", "--model", MODEL]
    result = subprocess.run(
        [*build, "--cpu-base-image", base],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert engine.has_image(CPU_IMAGE)
    return CPU_IMAGE


def run_id_of(logs: Path) -> str:
    return (logs / "latest").resolve().name


def containers_of(engine: DockerEngine, run_id: str) -> list[str]:
    return [container.name for container in engine.run_containers(run_id)]


def run_in_docker(
    logs: Path, workflow: str, *args: str, port: int = 0, timeout: float = 300
) -> tuple[int, str]:
    """`run.py --docker-server` for the CPU model, to the end: (exit code, output)."""
    port = port or free_port()
    process = runner(
        *DOCKER_ARGS, "--workflow", workflow, "--service-port", str(port), *args, logs=logs
    )
    output, _ = process.communicate(timeout=timeout)
    return process.returncode, output


@pytest.fixture
def cleanup(engine: DockerEngine) -> Iterator[list[str]]:
    """Run ids whose containers a test leaves running on purpose; removed afterwards."""
    run_ids: list[str] = []
    yield run_ids
    for run_id in run_ids:
        engine.remove_run_containers(run_id)


def test_server_workflow_leaves_a_container_that_answers_chat(
    tmp_path: Path, cpu_image: str, engine: DockerEngine, cleanup: list[str]
) -> None:
    port = free_port()
    code, output = run_in_docker(tmp_path, "server", port=port)
    run_id = run_id_of(tmp_path)
    cleanup.append(run_id)
    assert code == 0, output
    [name] = containers_of(engine, run_id)
    assert f"docker logs -f {name}" in output and f"docker rm -f {name}" in output
    used = json.loads((tmp_path / "latest" / "runtime_spec.json").read_text())["docker_image_used"]
    assert used["id"] == engine.image_facts(CPU_IMAGE).image_id, "the image that ran, by id"
    assert (used["origin"], used["recipe_folder"]) == ("built here", "docker/cpu")
    assert used["recipe_digest"] == engine.image_label(CPU_IMAGE, RECIPE_LABEL)
    assert used["recipe_state"] == "current", "built from this checkout's docker/cpu and pins"
    token = (tmp_path / "latest" / "api_token").read_text().strip()
    answer = requests.post(
        f"http://127.0.0.1:{port}/v1/chat/completions",
        headers={"Authorization": f"Bearer {token}"},
        json={"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["choices"][0]["message"]["content"].strip()
    refused = requests.get(f"http://127.0.0.1:{port}/v1/models", timeout=10)
    assert refused.status_code == 401, "the container's server checks the run's API key"
    server_log = (tmp_path / "latest" / "server.log").read_text()
    assert "entrypoint: serving" in server_log and token not in server_log
    assert token not in (tmp_path / "latest" / "run.log").read_text()
    again, output = run_in_docker(tmp_path / "again", "server", port=port)
    assert again == 4 and f"docker rm -f {name}" in output, "the second run names the holder"


def test_benchmarks_in_a_container_remove_it_at_the_end(
    tmp_path: Path, cpu_image: str, engine: DockerEngine
) -> None:
    code, output = run_in_docker(
        tmp_path,
        "benchmarks",
        "--workflow-args",
        "isl=32 osl=8 concurrency=1 num_prompts=2",
        "--disable-trace-capture",
        timeout=1200,
    )
    assert code == 0, output
    assert list((tmp_path / "latest" / "benchmarks").glob("*.json"))
    assert containers_of(engine, run_id_of(tmp_path)) == []


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_removes_the_container(
    tmp_path: Path, cpu_image: str, engine: DockerEngine, stop_signal: signal.Signals
) -> None:
    process = runner(
        *DOCKER_ARGS,
        "--workflow",
        "benchmarks",
        "--service-port",
        str(free_port()),
        "--workflow-args",
        "isl=128 osl=512 concurrency=1 num_prompts=50",
        logs=tmp_path,
    )
    try:
        read_until(process, "server ready", timeout=300)
        run_id = run_id_of(tmp_path)
        assert len(containers_of(engine, run_id)) == 1
        if stop_signal is signal.SIGINT:
            os.killpg(process.pid, stop_signal)  # what Ctrl-C on a terminal does
        else:
            process.send_signal(stop_signal)  # what a CI job's cancel does
        output, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130, output
    assert containers_of(engine, run_id) == []


def _benchmark_in_docker(logs: Path) -> subprocess.Popen[str]:
    args = ["--workflow", "benchmarks", "--service-port", str(free_port())]
    load = ["--workflow-args", "isl=128 osl=512 concurrency=1 num_prompts=50"]
    return runner(*DOCKER_ARGS, *args, *load, logs=logs)


def test_runner_killed_outright_still_removes_the_container(
    tmp_path: Path, cpu_image: str, engine: DockerEngine
) -> None:
    """SIGKILL (a CI timeout, the OOM killer) gives the runner no chance to clean up: the
    container's watcher removes it."""
    process = _benchmark_in_docker(tmp_path)
    read_until(process, "server ready", timeout=300)
    run_id = run_id_of(tmp_path)
    assert len(containers_of(engine, run_id)) == 1
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert wait_for(lambda: containers_of(engine, run_id) == [], 60), "the container outlived it"


def test_container_killed_mid_benchmark_ends_the_run_with_its_status(
    tmp_path: Path, cpu_image: str, engine: DockerEngine
) -> None:
    process = _benchmark_in_docker(tmp_path)
    read_until(process, "server ready", timeout=300)
    run_id = run_id_of(tmp_path)
    [name] = containers_of(engine, run_id)
    subprocess.run(["docker", "kill", name], check=True, capture_output=True, timeout=60)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 4, output
    assert "the server exited with code 137 (SIGKILL) during the benchmarks workflow" in output
    tail = shown_log_tail(output)
    server_log = (tmp_path / "latest" / "server.log").read_text()
    assert tail and all(line in server_log for line in tail), "the container log's tail is shown"
    assert containers_of(engine, run_id) == []


def test_container_that_exits_at_start_shows_its_log_tail(
    tmp_path: Path, cpu_image: str, engine: DockerEngine
) -> None:
    weights = tmp_path / "broken-weights"
    weights.mkdir()
    (weights / "model.gguf").write_bytes(b"not a gguf file" * 64)
    weights.chmod(0o755)
    (weights / "model.gguf").chmod(0o644)
    code, output = run_in_docker(tmp_path / "logs", "server", "--host-weights-dir", str(weights))
    assert code == 4, output
    error = next(line for line in output.splitlines() if line.startswith("error:"))
    assert re.search(r"the server exited with code [1-9]\d* before it was ready", error)
    assert "failed to load model" in output, "the log tail is shown under the error"
    assert containers_of(engine, run_id_of(tmp_path / "logs")) == []


def test_container_not_ready_by_the_deadline_is_removed(
    tmp_path: Path, cpu_image: str, engine: DockerEngine
) -> None:
    code, output = run_in_docker(tmp_path, "server", "--workflow-args", "ready_timeout=0.2")
    assert code == 4, output
    assert "was not ready after 0.2s" in output and "ready_timeout=SECONDS" in output
    assert containers_of(engine, run_id_of(tmp_path)) == []


def test_local_image_that_is_not_built_says_how_to_build_it(
    tmp_path: Path, engine: DockerEngine
) -> None:
    code, output = run_in_docker(
        tmp_path, "server", "--override-docker-image", "local/readiness-never-built:0.0.1"
    )
    assert code == 3, output
    assert "scripts/build_images.py" in output and "Traceback" not in output


class _EmptyRegistry(BaseHTTPRequestHandler):
    """A registry that has no images: every manifest is unknown."""

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self._answer(200, {})
        else:
            error = {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}
            self._answer(404, {"errors": [error]})

    do_HEAD = do_GET

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_pull_errors_from_real_registries(tmp_path: Path, engine: DockerEngine) -> None:
    registry = ThreadingHTTPServer(("127.0.0.1", 0), _EmptyRegistry)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    try:
        missing = f"127.0.0.1:{registry.server_port}/acme/no-such-model:1.0"
        cases = {
            missing: "does not exist in its registry",
            "registry.invalid/acme/model:1.0": "its registry is unreachable",
        }
        for image, expected in cases.items():
            logs = tmp_path / image.replace("/", "_")
            code, output = run_in_docker(logs, "server", "--override-docker-image", image)
            assert code == 3, output
            assert expected in output, output
    finally:
        registry.shutdown()


def test_interactive_gives_a_shell_in_the_container(
    tmp_path: Path, cpu_image: str, engine: DockerEngine
) -> None:
    """`-it`: a shell on this terminal, in the server's image; gone when the shell exits."""
    env = dict(os.environ, WORKFLOW_LOGS_DIR=str(tmp_path), TERM="dumb")
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the runner, on a terminal
        argv = [sys.executable, str(REPO_ROOT / "run.py"), *DOCKER_ARGS, "--workflow", "server"]
        os.chdir(REPO_ROOT)
        os.execve(sys.executable, [*argv, "-it"], env)
    seen = _read_terminal(terminal, "--parallel 8", timeout=120)
    assert "/home/container_app_user/app/src/entrypoint.sh --model" in seen, seen
    seen += _until_the_shell_answers(terminal)
    os.write(terminal, b"echo $((6 * 7))-from-$(id -un); ls $APP_HOME/models; exit 3\n")
    seen += _read_terminal(terminal, "exit 4", timeout=60)
    _, status = os.waitpid(pid, 0)
    assert "42-from-container_app_user" in seen and ".gguf" in seen, seen
    assert os.waitstatus_to_exitcode(status) == 4, seen
    assert containers_of(engine, run_id_of(tmp_path)) == []


def _until_the_shell_answers(terminal: int, timeout: float = 60) -> str:
    """Ask the shell to echo a sum (its answer is not in what we typed) until it does."""
    seen = ""
    deadline = time.monotonic() + timeout
    while "shell-ready-4" not in seen and time.monotonic() < deadline:
        os.write(terminal, b"echo shell-ready-$((2 + 2))\n")
        seen += _read_terminal(terminal, "shell-ready-4", timeout=1)
    assert "shell-ready-4" in seen, seen
    return seen


def _read_terminal(terminal: int, marker: str, timeout: float) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([terminal], [], [], 0.5)
        if ready:
            try:
                seen += os.read(terminal, 4096).decode(errors="replace")
            except OSError:
                break
    return seen


class _OneImageRegistry(BaseHTTPRequestHandler):
    """A registry serving one image (manifest, config and gzipped layers, by digest)."""

    manifest: ClassVar[bytes] = b""
    blobs: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        if self.path == "/v2/":
            self._send(200, b"{}", "application/json")
        elif "/manifests/" in self.path:
            self._send(200, self.manifest, MANIFEST_TYPE)
        elif "/blobs/" in self.path and self.path.rsplit("/", 1)[1] in self.blobs:
            self._send(200, self.blobs[self.path.rsplit("/", 1)[1]], "application/octet-stream")
        else:
            self._send(404, b'{"errors": [{"code": "BLOB_UNKNOWN"}]}', "application/json")

    do_HEAD = do_GET

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        self.send_header("Content-Length", str(len(body)))
        if "/manifests/" in self.path:
            self.send_header("Docker-Content-Digest", _digest(self.manifest))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _registry_content(layer_files: dict[str, bytes]) -> tuple[bytes, dict[str, bytes]]:
    """A one-layer image as a registry holds it: manifest, config blob, gzipped layer blob."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as archive:
        for name, content in layer_files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    layer = gzip.compress(raw.getvalue(), compresslevel=1)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [_digest(raw.getvalue())]},
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": _digest(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer),
                    "digest": _digest(layer),
                }
            ],
        }
    ).encode()
    return manifest, {_digest(config): config, _digest(layer): layer}


def test_image_missing_locally_is_pulled_with_progress(engine: DockerEngine) -> None:
    payload = os.urandom(3_000_000)  # incompressible, so the download reports progress
    manifest, blobs = _registry_content({"data.bin": payload})
    handler = type("Registry", (_OneImageRegistry,), {"manifest": manifest, "blobs": blobs})
    registry = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=registry.serve_forever, daemon=True).start()
    image = f"127.0.0.1:{registry.server_port}/acme/tiny:{os.getpid()}"
    seen: list[tuple[str, int, int]] = []
    try:
        assert not engine.has_image(image)
        engine.pull(image, lambda layer, done, total: seen.append((layer, done, total)))
        assert engine.has_image(image)
        assert seen and max(done for _, done, _ in seen) > 0
        assert {total for _, _, total in seen} == {len(blobs[_digest_of_layer(manifest)])}
    finally:
        registry.shutdown()
        engine.remove_image(image)


def _digest_of_layer(manifest: bytes) -> str:
    return str(json.loads(manifest)["layers"][0]["digest"])
