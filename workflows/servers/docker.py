"""A server the runner starts in a container of the spec's pinned image."""

from __future__ import annotations

import dataclasses
import logging
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from workflows import command, interrupts
from workflows.auth import Auth
from workflows.envs.progress import PullProgress
from workflows.errors import ExitCode, ServerError, SetupError
from workflows.servers.base import TAIL_LINES, Server
from workflows.servers.docker_config import HUGEPAGES, LABEL_PREFIX, TT_DEVICE_DIR, ContainerConfig
from workflows.servers.docker_engine import Container, DockerEngine
from workflows.servers.image_origin import ImageUsed, describe, image_used
from workflows.servers.local import client_host, ensure_port_free

log = logging.getLogger(__name__)


class DockerServer(Server):
    def __init__(
        self,
        cfg: ContainerConfig,
        secrets: Mapping[str, str],
        auth: Auth,
        log_path: Path,
        console: Console,
        connect: Callable[[], DockerEngine] = DockerEngine.connect,
        host_root: Path = Path("/"),
        outlives_runner: bool = False,
        recipe_folder: str | None = None,
        recipe_check: Callable[[Mapping[str, str]], str] | None = None,
    ) -> None:
        super().__init__(f"http://{client_host(cfg.host_ip)}:{cfg.host_port}", auth, log_path)
        self.cfg = cfg
        self.serves_on_start = not cfg.interactive
        self._secrets = dict(secrets)
        self._console = console
        self._connect = connect
        self._host_root = host_root
        self._engine: DockerEngine | None = None
        self._outlives_runner = outlives_runner or cfg.interactive
        self._reaper: command.ManagedProcess | None = None
        self.container: Container | None = None
        self._recipe_folder = recipe_folder  # docker/<recipe> the spec's image is built from
        self._recipe_check = recipe_check  # a build of ours: of this checkout's recipe?

    @property
    def started_by_runner(self) -> bool:
        return True

    @staticmethod
    def check_engine(connect: Callable[[], DockerEngine] = DockerEngine.connect) -> None:
        """A Docker engine answers here (before anything is built or pulled for it)."""
        connect().close()

    @property
    def run_id(self) -> str:
        return self.cfg.labels[f"{LABEL_PREFIX}.run_id"]

    def start(self) -> None:
        engine = self._engine = self._connect()
        cfg = host_checked(self.cfg, self._host_root)
        if engine.has_image(cfg.image):
            log.info("image %s is present locally", cfg.image)
        elif cfg.not_pullable:
            raise SetupError(
                f"image {cfg.image} is not on this machine, and {cfg.not_pullable}: build it "
                "with `python3 scripts/build_images.py`, or pick an image from 0.11.0 on with "
                "--override-docker-image"
            )
        else:
            progress = PullProgress(self._console, cfg.image)
            with progress.shown():
                engine.pull(cfg.image, progress)
        prepare_storage(engine, cfg)
        if not cfg.interactive:
            refuse_taken_port(engine, cfg)
        with interrupts.deferred():
            self.container = engine.create(cfg, self._secrets)
            self.image_used = self._image_of(self.container)
            if not self._outlives_runner:
                self._reaper = start_reaper(engine.host, self.container, self.log_path_or_fail())
            if not cfg.interactive:
                engine.start(self.container)
        log.info("container %s from %s", self.container.name, cfg.image)
        if not cfg.interactive:
            self.container.stream_logs(self.log_path_or_fail())

    def _image_of(self, container: Container) -> ImageUsed:
        """The image the container was created from, as the engine knows it: id, registry
        digests, and our recipe label if this repo built it."""
        assert self._engine is not None
        facts = self._engine.image_facts(container.image_id or self.cfg.image)
        used = image_used(
            self.cfg.image,
            facts.image_id,
            facts.repo_digests,
            facts.labels,
            self._recipe_folder,
            self._recipe_check,
        )
        log.info("image %s", describe(used))
        if (used.recipe_state or "").startswith("stale"):
            log.warning(
                "image %s is %s; its results are of that build, not of this checkout's pins "
                "(python3 scripts/build_images.py rebuilds stale images)",
                self.cfg.image,
                used.recipe_state,
            )
        return used

    def log_path_or_fail(self) -> Path:
        assert self.log_path is not None
        return self.log_path

    def exit_code(self) -> int | None:
        return self.container.exit_code() if self.container else None

    def stop(self) -> None:
        if self._engine is None:
            return
        if self.container is not None:
            self.container.remove()
            log.info("container %s stopped and removed", self.container.name)
        leftovers = self._engine.remove_run_containers(self.run_id)
        if leftovers:
            log.info("removed this run's other containers: %s", ", ".join(leftovers))
        if self._reaper is not None:
            self._reaper.stop()

    def management_lines(self, relative: Callable[[Path], str]) -> list[str]:
        del relative
        name = self.container.name if self.container else self.cfg.name
        return [f"  logs:  docker logs -f {name}", f"  stop:  docker rm -f {name}"]

    def interact(self, console: Any) -> ExitCode:
        """A shell in the server's container; the container goes when the shell ends."""
        console.print(
            f"Shell in container {self.cfg.name}; exit it to remove the container. "
            "The server starts with:",
            markup=False,
        )
        console.out(f"  {self.server_command()}", highlight=False)
        return ExitCode.OK if self.attach() == 0 else ExitCode.SERVER

    def server_command(self) -> str:
        """What starts the server inside the container: the image's entrypoint and our flags."""
        assert self._engine is not None
        return shlex.join([*self._engine.image_entrypoint(self.cfg.image), *self.cfg.command])

    def attach(self) -> int:
        """`-it`: the container's shell on this terminal until it exits."""
        assert self._engine is not None and self.container is not None
        return self._engine.attach_terminal(self.container, self.log_path_or_fail())

    def log_tail(self) -> tuple[str, ...]:
        """The container's last lines from the engine itself once it has ended: the copy
        into server.log can lag behind a container that died at start."""
        if self.container is None or self.exit_code() is None:
            return super().log_tail()
        self.container.flush_logs()
        return self.container.log_tail(TAIL_LINES) or super().log_tail()


REAPER = Path(__file__).with_name("container_reaper.py")


def start_reaper(
    docker_host: str, container: Container, server_log: Path
) -> command.ManagedProcess:
    """A watcher that removes the container if the runner dies without doing so (SIGKILL)."""
    argv = [sys.executable, "-I", str(REAPER), docker_host, container.id]
    return command.start(argv, log_path=server_log.with_name("container-reaper.log"))


def host_checked(cfg: ContainerConfig, root: Path) -> ContainerConfig:
    """The configuration this host can run: Tenstorrent device nodes must exist; the 1G
    hugepages mount is kept only where the host has it."""
    check_device_nodes([device.split(":", 1)[0] for device in cfg.devices], root)
    uses_tt = any(device.startswith(TT_DEVICE_DIR) for device in cfg.devices)
    if not uses_tt or _on_host(root, HUGEPAGES):
        return cfg
    log.warning("%s is not mounted on this host; starting without 1G hugepages", HUGEPAGES)
    mounts = tuple(mount for mount in cfg.mounts if mount.source != HUGEPAGES)
    return dataclasses.replace(cfg, mounts=mounts)


def check_device_nodes(nodes: list[str], root: Path) -> None:
    """Each device node exists on the host (under `root`), or one line says which do not."""
    missing = [node for node in nodes if not _on_host(root, node)]
    if missing:
        raise SetupError(
            f"{', '.join(missing)} not found on this host: a Tenstorrent device needs the "
            "tt-kmd driver loaded (ls /dev/tenstorrent), or check --device-id"
        )


def _on_host(root: Path, path: str) -> bool:
    return (root / path.lstrip("/")).exists()


def prepare_storage(engine: DockerEngine, cfg: ContainerConfig) -> None:
    """Named volumes exist (labelled as ours); host-volume folders exist."""
    labels = {key: value for key, value in cfg.labels.items() if not key.endswith("run_id")}
    for mount in cfg.mounts:
        if mount.kind == "volume":
            engine.ensure_volume(mount.source, labels)
        elif not mount.read_only and not mount.source.startswith("/dev/"):
            Path(mount.source).mkdir(parents=True, exist_ok=True)


def refuse_taken_port(engine: DockerEngine, cfg: ContainerConfig) -> None:
    """A port held by a container an earlier run left up gets an error that names it."""
    holders = engine.managed_on_port(cfg.host_port)
    if holders:
        raise ServerError(
            f"port {cfg.host_port} is published by {holders[0]}, a server an earlier run left "
            f"up: stop it with `docker rm -f {holders[0]}`, or pick another --service-port"
        )
    ensure_port_free(cfg.host_ip, cfg.host_port)
