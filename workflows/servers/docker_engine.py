"""The one module that talks to Docker (the docker SDK; the `docker` CLI only to attach a
terminal). Everything Docker can refuse is turned into a one-line error that says what to do.
"""

from __future__ import annotations

import codecs
import contextlib
import logging
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workflows import command
from workflows.errors import ServerError, SetupError
from workflows.redact import redact
from workflows.servers.docker_config import LABEL_PREFIX, ContainerConfig, Mount

log = logging.getLogger(__name__)
STOP_TIMEOUT_SECONDS = 10
LOG_CATCH_UP_SECONDS = 10.0  # a busy engine can take seconds to end a follow stream
LOCAL_REGISTRY = "local/"  # images that are built on this machine, never pulled
RUN_ID_LABEL = f"{LABEL_PREFIX}.run_id"

_NOT_FOUND_HINTS = ("not found", "manifest unknown", "pull access denied", "does not exist")
_UNREACHABLE_HINTS = (
    "dial tcp",
    "no such host",
    "timeout",
    "timed out",
    "connection refused",
    "tls handshake",
    "network is unreachable",
    "temporary failure in name resolution",
)


def engine_error(error: Exception, docker_binary: str | None, host: str) -> SetupError:
    """Why the engine cannot be reached, as the user should hear it."""
    text = _error_text(error).lower()
    if "permission denied" in text:
        return SetupError(
            f"permission denied on the Docker socket ({host}): add your user to the docker "
            "group (sudo usermod -aG docker $USER, then log in again) or run as root"
        )
    if docker_binary is None and ("no such file" in text or "connection refused" in text):
        return SetupError(
            "Docker is not installed (no `docker` on PATH and no engine socket): install "
            "Docker Engine (https://docs.docker.com/engine/install/), or use --local-server"
        )
    if "no such file" in text or "connection refused" in text or "connection aborted" in text:
        return SetupError(
            f"the Docker daemon is not running (nothing answers on {host}): start it "
            "(sudo systemctl start docker, or dockerd &), or use --local-server"
        )
    return SetupError(f"cannot talk to the Docker engine at {host}: {_short(str(error))}")


def pull_error(image: str, message: str) -> SetupError:
    lowered = message.lower()
    if any(hint in lowered for hint in _UNREACHABLE_HINTS):
        return SetupError(
            f"cannot pull {image}: its registry is unreachable ({_short(message)}); pull or "
            "`docker load` it on this machine first, or pick a local image with "
            "--override-docker-image"
        )
    if any(hint in lowered for hint in _NOT_FOUND_HINTS):
        return SetupError(
            f"image {image} does not exist in its registry (or needs a login: docker login); "
            "check the tag, or pick another with --override-docker-image"
        )
    return SetupError(f"pulling {image} failed: {_short(message)}")


def missing_local_image(image: str) -> SetupError:
    return SetupError(
        f"image {image} is built on this machine and is not there yet: build it with "
        "`python3 scripts/build_images.py`, or pick another with --override-docker-image"
    )


def _error_text(error: BaseException) -> str:
    parts: list[str] = []
    seen: BaseException | None = error
    while seen is not None and len(parts) < 8:
        parts.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    return " | ".join(parts)


PORT_TAKEN = ("port is already allocated", "address already in use")


def start_refused(name: str, explanation: str) -> ServerError:
    """Docker's refusal to start a container, in one line; a host port another process took
    (between the runner's check and the start) says so, and what to do."""
    reason = _short(explanation)
    if any(marker in explanation.lower() for marker in PORT_TAKEN):
        return ServerError(
            f"Docker could not start {name}: its host port is taken ({reason}); stop what "
            "holds it or pick another port with --service-port"
        )
    return ServerError(f"Docker could not start {name}: {reason}")


def _short(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else "no details"
    return line if len(line) <= 200 else line[:197] + "..."


def split_reference(image: str) -> tuple[str, str]:
    """'repo/name:tag' → ('repo/name', 'tag'); a registry port is not a tag."""
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:
        return image, "latest"
    return name, tag


def create_arguments(cfg: ContainerConfig, secrets: Mapping[str, str]) -> dict[str, Any]:
    """The docker SDK's `containers.create` arguments for a container configuration. Secrets
    join the environment here and only here."""
    from docker.types import DeviceRequest
    from docker.types import Mount as SdkMount

    arguments: dict[str, Any] = {
        "image": cfg.image,
        "name": cfg.name,
        "labels": dict(cfg.labels),
        "environment": {**cfg.environment, **secrets},
        "devices": list(cfg.devices),
        "mounts": [_sdk_mount(SdkMount, mount) for mount in cfg.mounts],
        "ports": {f"{cfg.container_port}/tcp": (cfg.host_ip, cfg.host_port)},
        "detach": True,
    }
    if cfg.ipc_host:
        arguments["ipc_mode"] = "host"
    if cfg.gpus:
        arguments["device_requests"] = [DeviceRequest(count=-1, capabilities=[["gpu"]])]
    if cfg.interactive:
        arguments |= {"entrypoint": ["bash"], "command": [], "tty": True, "stdin_open": True}
    else:
        arguments["command"] = list(cfg.command)
    return arguments


def _sdk_mount(factory: Callable[..., Any], mount: Mount) -> Any:
    return factory(
        target=mount.target, source=mount.source, type=mount.kind, read_only=mount.read_only
    )


class Container:
    """A container this run created: its state, its log, and its removal."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        self.name: str = handle.name
        self.id: str = handle.id
        self.image_id: str | None = (handle.attrs or {}).get("Image")  # sha256:..., as created
        self._log_thread: threading.Thread | None = None

    def exit_code(self) -> int | None:
        """None while it runs (or was only created); its exit code once it has ended."""
        import docker.errors

        try:
            self._handle.reload()
        except docker.errors.NotFound:
            return -1
        if self._handle.status in ("exited", "dead"):
            return int(self._handle.attrs["State"]["ExitCode"])
        return None

    def stream_logs(self, path: Path) -> None:
        """Copy the container's output into `path` as it comes, in the background."""
        self._log_thread = threading.Thread(
            target=_copy_logs, args=(self._handle, path), name="container-log", daemon=True
        )
        self._log_thread.start()

    def flush_logs(self, timeout: float = LOG_CATCH_UP_SECONDS) -> None:
        """Give the log copy a moment to catch up (after the container ended)."""
        if self._log_thread is not None:
            self._log_thread.join(timeout)

    def log_tail(self, lines: int) -> tuple[str, ...]:
        """The last `lines` lines of the container's output as the engine keeps it (complete
        once the container has ended, whether or not the copy into server.log caught up),
        every secret of the run masked; () when the engine cannot give them."""
        try:
            raw = self._handle.logs(stdout=True, stderr=True, tail=lines)
        except Exception as error:  # the tail only decorates an error; never replace it
            log.debug("container log tail of %s: %s", self.name, error)
            return ()
        text = redact(bytes(raw).decode("utf-8", errors="replace"))
        return tuple(text.splitlines()[-lines:])

    def remove(self) -> None:
        import docker.errors

        try:
            self._handle.stop(timeout=STOP_TIMEOUT_SECONDS)
        except docker.errors.NotFound:
            return
        except docker.errors.APIError as error:
            log.debug("stopping %s: %s", self.name, error)
        self.flush_logs()
        try:
            self._handle.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as error:
            log.warning("could not remove container %s: %s", self.name, _short(str(error)))


def _copy_logs(handle: Any, path: Path) -> None:
    """The container's output into server.log, every secret of the run masked."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        with path.open("a") as sink:
            for chunk in handle.logs(stream=True, follow=True):
                sink.write(redact(decoder.decode(chunk)))
                sink.flush()
    except Exception as error:  # the log copy must never take the run down
        log.debug("container log stream ended: %s", error)


@dataclass(frozen=True)
class ImageFacts:
    image_id: str  # sha256:...
    repo_digests: tuple[str, ...]  # repo@sha256:..., one per registry repository it came from
    labels: Mapping[str, str]


class DockerEngine:
    def __init__(self, client: Any, host: str) -> None:
        self._client = client
        self.host = host

    @classmethod
    def connect(cls, environ: Mapping[str, str] = os.environ) -> DockerEngine:
        from docker.client import DockerClient

        host = environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        try:
            client = DockerClient.from_env(environment=dict(environ), timeout=60)
            client.ping()
        except Exception as error:
            raise engine_error(error, shutil.which("docker"), host) from error
        return cls(client, host)

    def close(self) -> None:
        self._client.close()

    def has_image(self, image: str) -> bool:
        import docker.errors

        try:
            self._client.images.get(image)
        except docker.errors.ImageNotFound:
            return False
        return True

    def image_entrypoint(self, image: str) -> list[str]:
        """The image's own entrypoint (what `-it` replaces with a shell)."""
        config = self._client.images.get(image).attrs.get("Config") or {}
        return list(config.get("Entrypoint") or [])

    def image_label(self, image: str, key: str) -> str | None:
        """A label of a local image; None if the image or the label is not there."""
        import docker.errors

        try:
            labels = self._client.images.get(image).labels or {}
        except docker.errors.ImageNotFound:
            return None
        return labels.get(key)

    def image_facts(self, image: str) -> ImageFacts:
        """A local image's id, registry digests and labels (`image`: a reference or an id)."""
        attrs = self._client.images.get(image).attrs
        labels = (attrs.get("Config") or {}).get("Labels") or {}
        return ImageFacts(str(attrs["Id"]), tuple(attrs.get("RepoDigests") or ()), dict(labels))

    def pull(self, image: str, on_progress: Callable[[str, int, int], None]) -> None:
        """Download the image, reporting each layer's bytes done and total."""
        if image.startswith(LOCAL_REGISTRY):
            raise missing_local_image(image)
        log.info("pulling %s", image)
        for event in self._pull_events(image):
            if "error" in event:
                raise pull_error(image, str(event["error"]))
            if event.get("progressDetail", {}).get("total"):
                detail = event["progressDetail"]
                on_progress(str(event.get("id", "")), int(detail["current"]), int(detail["total"]))
        log.info("pulled %s", image)

    def _pull_events(self, image: str) -> Iterator[dict[str, Any]]:
        import docker.errors

        repository, tag = split_reference(image)
        try:
            yield from self._client.api.pull(repository, tag=tag, stream=True, decode=True)
        except docker.errors.APIError as error:
            raise pull_error(image, str(error.explanation or error)) from error
        except Exception as error:
            raise pull_error(image, _error_text(error)) from error

    def remove_image(self, image: str) -> None:
        import docker.errors

        with contextlib.suppress(docker.errors.ImageNotFound):
            self._client.images.remove(image, force=True)

    def ensure_volume(self, name: str, labels: Mapping[str, str]) -> None:
        import docker.errors

        try:
            self._client.volumes.get(name)
        except docker.errors.NotFound:
            self._client.volumes.create(name=name, labels=dict(labels))
            log.info("created volume %s", name)

    def create(self, cfg: ContainerConfig, secrets: Mapping[str, str]) -> Container:
        import docker.errors

        try:
            handle = self._client.containers.create(**create_arguments(cfg, secrets))
        except docker.errors.APIError as error:
            raise ServerError(
                f"Docker refused to create {cfg.name}: {_short(str(error.explanation or error))}"
            ) from error
        return Container(handle)

    def start(self, container: Container) -> None:
        import docker.errors

        try:
            self._client.containers.get(container.name).start()
        except docker.errors.APIError as error:
            raise start_refused(container.name, str(error.explanation or error)) from error

    def run_containers(self, run_id: str) -> list[Container]:
        """The containers labelled with this run id, running or not (ours, and only ours)."""
        ours = {"label": f"{RUN_ID_LABEL}={run_id}"}
        # A container may be removed (by its reaper, `--rm`) between listing and inspecting.
        listed = self._client.containers.list(all=True, filters=ours, ignore_removed=True)
        return [Container(handle) for handle in listed]

    def managed_on_port(self, port: int) -> list[str]:
        """Running containers of earlier runs (our label) that publish `port` on the host."""
        managed = {"label": f"{LABEL_PREFIX}.managed=true", "status": "running"}
        names = []
        for handle in self._client.containers.list(filters=managed, ignore_removed=True):
            bindings = (handle.attrs.get("HostConfig") or {}).get("PortBindings") or {}
            host_ports = {b.get("HostPort") for found in bindings.values() for b in found or []}
            if str(port) in host_ports:
                names.append(handle.name)
        return names

    def remove_run_containers(self, run_id: str) -> list[str]:
        found = self.run_containers(run_id)
        for container in found:
            container.remove()
        return [container.name for container in found]

    def attach_terminal(self, container: Container, log_path: Path) -> int:
        """Start the container with this terminal attached (`-it`); returns its exit code."""
        docker_cli = shutil.which("docker")
        if docker_cli is None:
            raise SetupError("-it needs the `docker` command on PATH to attach a terminal")
        result = command.run(
            [docker_cli, "start", "--attach", "--interactive", container.name],
            log_path=log_path,
            passthrough=True,
            interactive=True,
        )
        return result.returncode

    def build(
        self,
        context: Path,
        tag: str,
        build_args: Mapping[str, str],
        labels: Mapping[str, str],
        on_line: Callable[[str], None],
    ) -> None:
        import docker.errors

        try:
            for event in self._client.api.build(
                path=str(context),
                tag=tag,
                buildargs=dict(build_args),
                labels=dict(labels),
                rm=True,
                decode=True,
            ):
                if "error" in event:
                    raise SetupError(f"building {tag} failed: {_short(str(event['error']))}")
                if "stream" in event:
                    on_line(str(event["stream"]).rstrip("\n"))
        except docker.errors.APIError as error:
            raise SetupError(
                f"building {tag} failed: {_short(str(error.explanation or error))}"
            ) from error
