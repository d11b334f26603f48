"""Everything a report is made of, read from a run folder's result files and nothing else."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reports import shapes
from reports.shapes import ReportError as ReportError  # re-exported: callers catch it here

RELEASE_FILE = "release.json"
REQUIREMENTS_FILE = "requirements.json"  # a copy of --requirements, checked, as JSON
NARROWED_OUT = "left out by --workflow-args workflows="  # a child the user chose not to run


@dataclass(frozen=True)
class Point:
    """One benchmark or stress point: its result document and where its request rows are."""

    document: Mapping[str, Any]
    path: Path

    @property
    def key(self) -> tuple[int, int, int]:
        return (int(self.document["isl"]), int(self.document["osl"]), self.concurrency)

    @property
    def concurrency(self) -> int:
        return int(self.document["concurrency"])

    @property
    def rate(self) -> float:
        """The request rate it asked for; inf: all at once, or a ramp (whose rate changes)."""
        rate = self.document.get("request_rate")
        finite = isinstance(rate, (int, float)) and not isinstance(rate, bool) and rate > 0
        return float(rate) if finite else math.inf  # type: ignore[arg-type]

    @property
    def ramp(self) -> bool:
        return self.document.get("request_rate") == "ramp"

    @property
    def closed_loop(self) -> bool:
        """All at once up to the concurrency: what targets are set at and judged on."""
        return not self.ramp and math.isinf(self.rate)

    @property
    def rate_label(self) -> str:
        """' rate 2/s', ' ramp 1-8/s', or nothing for a closed loop."""
        if self.ramp:
            shape = self.document.get("load_shape") or {}
            start, end = shape.get("ramp_start_rps"), shape.get("ramp_end_rps")
            span = f" {start:g}-{end:g}/s" if start is not None and end is not None else ""
            return f" ramp{span}"
        return "" if self.closed_loop else f" rate {self.rate:g}/s"

    @property
    def rate_tag(self) -> str:
        """'_rate-2', '_ramp', or nothing for a closed loop: a check's key."""
        if self.ramp:
            return "_ramp"
        return "" if self.closed_loop else f"_rate-{self.rate:g}"

    def request_rows(self) -> list[dict[str, Any]]:
        rows_path = self.path.with_name(self.path.stem + "_requests.jsonl")
        if not rows_path.is_file():
            return []
        return [json.loads(line) for line in rows_path.read_text().splitlines() if line.strip()]


@dataclass(frozen=True)
class RunData:
    folder: Path
    runtime: Mapping[str, Any]
    benchmarks: Sequence[Point] = ()
    stress: Sequence[Point] = ()
    capacities: Sequence[Mapping[str, Any]] = ()  # benchmarks/capacity_*.json: search=goodput
    evals: Mapping[str, Any] | None = None
    spec_tests: Mapping[str, Any] | None = None
    release: Mapping[str, Any] | None = None
    requirements: Mapping[str, Any] | None = None
    notes: Sequence[str] = field(default_factory=tuple)

    @property
    def spec(self) -> Mapping[str, Any]:
        return self.runtime["model_spec"]  # type: ignore[no-any-return]

    def left_out(self, workflow: str) -> str | None:
        """Why the release did not run this child, if it left it out."""
        for child in (self.release or {}).get("children", ()):
            if child["workflow"] == workflow and child["status"] == "left_out":
                return str(child.get("message") or "left out")
        return None

    def ran(self, workflow: str) -> bool:
        """Whether the run set out to run this workflow (a release names its children)."""
        if self.release is not None:
            return any(child["workflow"] == workflow for child in self.release["children"])
        return bool(self.runtime.get("run_config", {}).get("workflow") == workflow)


def in_run(folder: Path, path: Path) -> str:
    """A result file as a report names it: its path inside the run folder."""
    try:
        return path.relative_to(folder).as_posix()
    except ValueError:
        return str(path)


def read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text())
    except FileNotFoundError:
        raise ReportError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReportError(f"{path} is not readable JSON ({error})") from None
    if not isinstance(value, dict):
        raise ReportError(f"{path} holds {type(value).__name__}, not a JSON object")
    return value


Check = Callable[[Mapping[str, Any], Path], None]


def read_checked(path: Path, check: Check) -> dict[str, Any]:
    """A JSON object of the shape `check` asks for (a ReportError naming the field if not)."""
    document = read_json(path)
    check(document, path)
    return document


def _points(folder: Path, kind: str) -> list[Point]:
    points = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
        document = read_json(path)
        if document.get("kind") == kind:
            shapes.check_point(document, path)
            points.append(Point(document, path))
    # by shape, then rate, a ramp after the rates: the closed-loop point of a key comes last,
    # so the one a lookup by key finds
    return sorted(points, key=lambda point: (point.key, point.closed_loop, point.rate))


def _optional(path: Path, check: Check) -> dict[str, Any] | None:
    return read_checked(path, check) if path.is_file() else None


def _saved_requirements(path: Path) -> dict[str, Any] | None:
    """The run's requirements.json, checked again as --requirements is checked."""
    from reports.requirements import check_saved  # it imports this module

    return check_saved(read_json(path), path) if path.is_file() else None


def check_run_folder(folder: Path) -> Path:
    """The folder's `runtime_spec.json`, of the runner's shape: what makes a folder a run."""
    runtime_path = folder / "runtime_spec.json"
    if not runtime_path.is_file():
        raise ReportError(
            f"{folder} is not a run folder (no runtime_spec.json); "
            "pass a folder under workflow_logs/runs/"
        )
    read_checked(runtime_path, shapes.check_runtime_spec)
    return runtime_path


def load_run(folder: Path) -> RunData:
    """The run folder's result files; a folder without `runtime_spec.json` is not a run."""
    return RunData(
        folder=folder,
        runtime=read_json(check_run_folder(folder)),
        benchmarks=_points(folder / "benchmarks", "benchmark"),
        stress=_points(folder / "stress_tests", "stress_test"),
        capacities=[
            read_json(path) | {"result_file": f"benchmarks/{path.name}"}
            for path in sorted((folder / "benchmarks").glob("capacity_*.json"))
        ],
        evals=_optional(folder / "evals" / "evals.json", shapes.check_evals),
        spec_tests=_optional(folder / "spec_tests" / "spec_tests.json", shapes.check_spec_tests),
        release=_optional(folder / RELEASE_FILE, shapes.check_release),
        requirements=_saved_requirements(folder / REQUIREMENTS_FILE),
    )
