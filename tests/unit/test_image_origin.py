"""What ran is recorded, not only what the spec names: a container's image id, registry digests
and origin (built here from docker/, pulled, or neither) join runtime_spec.json and the report's
metadata. A build of ours carries upstream's tag, so the reference alone would pass it off as
upstream's published image. A fake engine stands in for Docker."""

from __future__ import annotations

import dataclasses
import functools
import io
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from reports.build import render_run
from reports.image_words import image_origin
from tests.helpers import config_for, free_port, run_context
from tests.run_folders import passing_run
from workflows import steps
from workflows.auth import Auth
from workflows.context import RunContext
from workflows.registry.loader import load_registry
from workflows.servers import provision
from workflows.servers.base import Server
from workflows.servers.docker import DockerServer
from workflows.servers.docker_config import ContainerConfig
from workflows.servers.docker_engine import Container, ImageFacts
from workflows.servers.image_builds import (
    RECIPE_FOLDER_LABEL,
    RECIPE_LABEL,
    plan_builds,
    recipe_labels,
    recipe_state,
)
from workflows.servers.image_origin import BUILT_HERE, PULLED, UNKNOWN, ImageUsed, image_used

BUILT_ID = "sha256:" + "b" * 64
PULLED_ID = "sha256:" + "p" * 64
REGISTRY_DIGEST = "sha256:" + "d" * 64
RECIPE = "a1b2c3d4e5f60718"


class FakeHandle:
    """A created container, as the docker SDK returns it (inspected: attrs has its image id)."""

    def __init__(self, name: str, image_id: str) -> None:
        self.name, self.id = name, "c" * 64
        self.attrs = {"Image": image_id}

    def logs(self, **_: object) -> list[bytes]:
        return []


class FakeEngine:
    """Images by reference (a pull adds the registry's); containers are only created."""

    host = "unix:///fake.sock"

    def __init__(self, images: Mapping[str, ImageFacts], registry: Mapping[str, ImageFacts]):
        self.images = dict(images)
        self.registry = dict(registry)
        self.pulled: list[str] = []

    def has_image(self, image: str) -> bool:
        return image in self.images

    def pull(self, image: str, progress: object) -> None:
        self.pulled.append(image)
        self.images[image] = self.registry[image]

    def image_facts(self, image: str) -> ImageFacts:
        by_id = {facts.image_id: facts for facts in self.images.values()}
        return self.images.get(image) or by_id[image]

    def ensure_volume(self, name: str, labels: Mapping[str, str]) -> None:
        pass

    def managed_on_port(self, port: int) -> list[str]:
        return []

    def create(self, cfg: ContainerConfig, secrets: Mapping[str, str]) -> Container:
        return Container(FakeHandle(cfg.name, self.images[cfg.image].image_id))

    def start(self, container: Container) -> None:
        pass


def started(
    cfg: ContainerConfig,
    engine: FakeEngine,
    tmp_path: Path,
    recipe_check: Callable[[Mapping[str, str]], str] | None = None,
) -> DockerServer:
    server = DockerServer(
        dataclasses.replace(cfg, host_port=free_port()),
        {},
        Auth(None, "none"),
        tmp_path / "server.log",
        Console(file=io.StringIO()),
        connect=lambda: engine,  # type: ignore[arg-type,return-value]
        host_root=tmp_path,
        outlives_runner=True,  # no reaper process: nothing real was created
        recipe_folder="docker/cpu",
        recipe_check=recipe_check,
    )
    server.start()
    return server


def test_an_image_built_here_is_recorded_with_its_recipe(tmp_path: Path) -> None:
    cfg = config_for("SmolLM2-135M-Instruct", "cpu")
    labels = {RECIPE_LABEL: RECIPE, RECIPE_FOLDER_LABEL: "docker/cpu"}
    engine = FakeEngine({cfg.image: ImageFacts(BUILT_ID, (), labels)}, {})
    used = started(cfg, engine, tmp_path).image_used
    assert used == ImageUsed(cfg.image, BUILT_ID, (), BUILT_HERE, RECIPE, "docker/cpu")
    assert engine.pulled == []


def test_a_build_from_before_a_pin_moved_is_recorded_and_said_stale(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A checkout that moved the engine pin, and an image built before: the run uses it (the
    user may mean to), but its record, its report and a warning say it is stale."""
    cfg = config_for("SmolLM2-135M-Instruct", "cpu")
    spec = load_registry().find("SmolLM2-135M-Instruct", "cpu")
    older = dataclasses.replace(spec, engine_packages=("xllamacpp==2025.1.1",))
    [build] = plan_builds([older], cpu_base="base:1")
    engine = FakeEngine({cfg.image: ImageFacts(BUILT_ID, (), recipe_labels(build))}, {})
    check = functools.partial(recipe_state, spec=spec)
    used = started(cfg, engine, tmp_path, recipe_check=check).image_used
    assert used is not None and used.recipe_state is not None
    assert used.recipe_state.startswith("stale: ENGINE_REQUIREMENT (built with xllamacpp==2025")
    words = image_origin(used.to_json())
    assert words is not None and words.endswith(f"({used.recipe_state})")
    assert "is stale: ENGINE_REQUIREMENT" in caplog.text and "build_images.py" in caplog.text
    current = FakeEngine(
        {cfg.image: ImageFacts(BUILT_ID, (), recipe_labels(plan_builds([spec])[0]))}, {}
    )
    fresh = started(cfg, current, tmp_path / "again", recipe_check=check).image_used
    assert fresh is not None and fresh.recipe_state == "current"
    assert "stale" not in (image_origin(fresh.to_json()) or "")


def test_a_pulled_image_is_recorded_with_its_registry_digest(tmp_path: Path) -> None:
    cfg = config_for("Llama-3.1-8B-Instruct", "gpu")
    digest = f"vllm/vllm-openai@{REGISTRY_DIGEST}"
    engine = FakeEngine({}, {cfg.image: ImageFacts(PULLED_ID, (digest,), {})})
    used = started(cfg, engine, tmp_path).image_used
    assert engine.pulled == [cfg.image]
    assert used is not None and used.origin == PULLED and used.image_id == PULLED_ID
    assert used.repo_digests == (digest,) and used.recipe_digest is None


def test_origin_from_labels_and_digests() -> None:
    """Our label wins (an image of ours pushed to a registry is still ours); a build from before
    the folder was labelled takes the spec's folder; neither label nor digest: unknown."""
    ours = image_used("x/y:1", BUILT_ID, ("x/y@sha256:1",), {RECIPE_LABEL: RECIPE}, "docker/cpu")
    assert (ours.origin, ours.recipe_folder) == (BUILT_HERE, "docker/cpu")
    loaded = image_used("x/y:1", BUILT_ID, (), {"maintainer": "someone"})
    assert loaded.origin == UNKNOWN and loaded.recipe_digest is None
    two = image_used("x/y:1", PULLED_ID, ("mirror/y@sha256:2", "x/y@sha256:3"), {})
    assert two.repo_digests[0] == "x/y@sha256:3", "the reference's own repository first"


class ImageServer(Server):
    """A started server that ran `image` (None: a local process or an external server)."""

    def __init__(self, image: ImageUsed | None) -> None:
        super().__init__("http://127.0.0.1:9", Auth(None, "none"), None)
        self._image = image

    def start(self) -> None:
        self.image_used = self._image

    def stop(self) -> None:
        pass

    def exit_code(self) -> int | None:
        return None

    @property
    def started_by_runner(self) -> bool:
        return True

    def wait_ready(
        self, timeout: float, why: str = "", on_wait: Callable[[float], None] | None = None
    ) -> float:
        return 0.0


def recorded_after_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, image: ImageUsed | None
) -> dict[str, Any]:
    def create(ctx: RunContext, keep: bool) -> Server:
        return ImageServer(image)

    monkeypatch.setattr(provision, "create_server", create)
    monkeypatch.setattr(steps, "check_credentials", lambda server: None)
    ctx = steps.start_server(run_context(tmp_path))
    ctx.teardown.close()
    return json.loads(ctx.the_folder.runtime_spec.read_text())  # type: ignore[no-any-return]


def test_runtime_spec_records_the_image_a_container_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = ImageUsed("local/x:1", BUILT_ID, (), BUILT_HERE, RECIPE, "docker/cpu", "current")
    record = recorded_after_start(tmp_path, monkeypatch, image)
    assert record["docker_image_used"] == {
        "reference": "local/x:1",
        "id": BUILT_ID,
        "repo_digests": [],
        "origin": "built here",
        "recipe_digest": RECIPE,
        "recipe_folder": "docker/cpu",
        "recipe_state": "current",
    }


def test_runtime_spec_records_no_image_without_a_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = recorded_after_start(tmp_path, monkeypatch, None)
    assert "docker_image_used" in record and record["docker_image_used"] is None


def run_with_image(folder: Path, mode: str, used: Mapping[str, Any] | None) -> Path:
    passing_run(folder)
    path = folder / "runtime_spec.json"
    runtime = json.loads(path.read_text()) | {"server_mode": mode, "docker_image_used": used}
    path.write_text(json.dumps(runtime))
    return folder


BUILT = ImageUsed(
    "local/readiness-llama-cpp-cpu:0.1.0", BUILT_ID, (), BUILT_HERE, RECIPE, "docker/cpu"
)
PULLED_IMAGE = ImageUsed(
    "local/readiness-llama-cpp-cpu:0.1.0", PULLED_ID, (f"x/y@{REGISTRY_DIGEST}",), PULLED
)


@pytest.mark.parametrize(
    ("image", "origin"),
    [
        (BUILT, f"built here from docker/cpu, recipe {RECIPE}"),
        (PULLED_IMAGE, f"pulled, {REGISTRY_DIGEST}"),
    ],
    ids=["built-here", "pulled"],
)
def test_report_shows_where_the_image_came_from(
    tmp_path: Path, image: ImageUsed, origin: str
) -> None:
    rendered = render_run(run_with_image(tmp_path / "run", "docker", image.to_json()))
    meta = rendered.report["metadata"]
    assert meta["docker_image"] == image.reference, "kept as upstream's tooling reads it"
    assert (meta["docker_image_id"], meta["docker_image_origin"]) == (image.image_id, origin)
    markdown = rendered.files["markdown"].read_text()
    assert f"{image.reference} ({origin})" in markdown and image.image_id in markdown
    assert f"{image.reference} ({origin})" in rendered.files["html"].read_text()


def test_report_of_a_local_server_shows_no_image(tmp_path: Path) -> None:
    rendered = render_run(run_with_image(tmp_path / "run", "local", None))
    meta = rendered.report["metadata"]
    assert meta["docker_image_id"] is None and meta["docker_image_origin"] is None
    assert "Docker image" not in rendered.files["markdown"].read_text()
