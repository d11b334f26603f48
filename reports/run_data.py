"""Everything a report is made of, read from a run folder's result files and nothing else."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reports import shapes
from reports.results import Identity
from reports.shapes import ReportError as ReportError  # re-exported: callers catch it here

RELEASE_FILE = "release.json"
REQUIREMENTS_FILE = "requirements.json"  # a copy of --requirements, checked, as JSON
NARROWED_OUT = "left out by --workflow-args workflows="  # a child the user chose not to run
IDENTITY_FIELDS = ("run_id", "model_id", "model", "device")  # a result file's, as results writes
WINDOW_IN_NAME = re.compile(r"_window-(\d+)")  # an endurance window's file (benchmarking.bench)
# Every point that measured something has one request row per request its summary counts (our
# load generator, repeats' summaries, endurance windows, AIPerf's records), except GuideLLM's:
# its export may list no requests, or a sample of them, so its rows are not required.
ROWS_NOT_REQUIRED = ("guidellm",)


@dataclass(frozen=True)
class Point:
    """One benchmark or stress point: its result document and where its request rows are."""

    document: Mapping[str, Any]
    path: Path
    # why this file is no evidence (another run's, a second file for its point, its rows do
    # not add up); such a point is never judged, and its failed-requests check blocks
    problem: str = field(default="", kw_only=True)

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

    @property
    def slot(self) -> tuple[object, ...]:
        """What tells two measurements of one run apart: the shape, the rate or ramp, the
        prefix-cache variant and the endurance window (a repeat is a kind of its own)."""
        prefix = self.document.get("prefix_cache")
        variant = prefix.get("variant") if isinstance(prefix, Mapping) else None
        window = self.document.get("window")
        if window is None and (found := WINDOW_IN_NAME.search(self.path.name)):
            window = int(found.group(1))
        return (*self.key, self.rate_tag, variant, window)

    @property
    def rows_path(self) -> Path:
        return self.path.with_name(self.path.stem + "_requests.jsonl")

    def request_rows(self) -> list[dict[str, Any]]:
        rows_path = self.rows_path
        if not rows_path.is_file():
            return []
        return [json.loads(line) for line in rows_path.read_text().splitlines() if line.strip()]


@dataclass(frozen=True)
class Rejected:
    """A result file that is no evidence for this run, and why (one line)."""

    file: str  # its path in the run folder
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.reason}"


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
    rejected: Sequence[Rejected] = ()  # result files left out: another run's, or inconsistent

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


def run_identity(runtime: Mapping[str, Any]) -> dict[str, str]:
    """The run, model and device every result file of this run names (reports.results)."""
    fields = Identity.from_runtime_spec(runtime, "").fields()
    return {name: fields[name] for name in IDENTITY_FIELDS}


def foreign(document: Mapping[str, Any], identity: Mapping[str, str]) -> str | None:
    """Why a result file is not this run's (the fields that differ), or None."""
    differing = [
        f"{name} {document.get(name)!r}, not {value!r}"
        for name, value in identity.items()
        if document.get(name) != value
    ]
    return f"not this run's result ({'; '.join(differing)})" if differing else None


class Loader:
    """The one place a run's result files are read for the verdict: each must name this run,
    model and device; one that does not is set aside with its reason, never used."""

    def __init__(self, folder: Path, runtime: Mapping[str, Any]) -> None:
        self.folder = folder
        self.identity = run_identity(runtime)
        self.rejected: list[Rejected] = []

    def result(self, path: Path, check: Check | None = None) -> dict[str, Any] | None:
        """The file's document if it is this run's; None (and a reason kept) if not."""
        document = read_checked(path, check) if check else read_json(path)
        why = foreign(document, self.identity)
        if why is None:
            return document
        self.rejected.append(Rejected(in_run(self.folder, path), why))
        return None

    def optional(self, path: Path, check: Check) -> dict[str, Any] | None:
        return self.result(path, check) if path.is_file() else None

    def points(self, folder: Path, kind: str) -> list[Point]:
        """A folder's points of `kind`; another run's, or a second file for one point, is kept
        with its problem, so the report names it and the verdict cannot pass on it."""
        points = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            document = read_json(path)
            if document.get("kind") != kind:
                continue
            shapes.check_point(document, path)
            why = foreign(document, self.identity)
            if why:
                self.rejected.append(Rejected(in_run(self.folder, path), why))
            point = Point(document, path)
            points.append(replace(point, problem=why or rows_problem(self.folder, point) or ""))
        points = _duplicates(self.folder, points)
        # by shape, then rate, a ramp after the rates: the closed-loop point of a key comes
        # last, so the one a lookup by key finds
        return sorted(points, key=lambda point: (point.key, point.closed_loop, point.rate))


def rows_problem(folder: Path, point: Point) -> str | None:
    """Why a point's summary disagrees with its request rows: rows missing or unreadable, or
    not one (untrimmed) row per request it counts; None when they agree or are not required
    (nothing completed: no figure to judge)."""
    document = point.document
    completed, failed = int(document.get("completed") or 0), int(document.get("failed") or 0)
    if not completed or document.get("tool") in ROWS_NOT_REQUIRED:
        return None
    name = in_run(folder, point.rows_path)
    if not point.rows_path.is_file():
        return f"its request rows {name} are missing ({completed} completed, {failed} failed)"
    try:
        rows = point.request_rows()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return f"its request rows {name} are not readable ({error})"
    counted = sum(1 for row in rows if not (isinstance(row, dict) and row.get("trimmed")))
    if counted == completed + failed:
        return None
    return (
        f"{name} holds {counted} request rows but the summary counts {completed + failed} "
        f"requests ({completed} completed, {failed} failed)"
    )


def _duplicates(folder: Path, points: list[Point]) -> list[Point]:
    """Two files for one point (its shape, rate, prefix variant and window): neither is
    evidence, whichever sorts last."""
    files: dict[tuple[object, ...], list[Point]] = {}
    for point in points:
        files.setdefault(point.slot, []).append(point)
    marked = []
    for point in points:
        twins = files[point.slot]
        if len(twins) > 1 and not point.problem:
            names = " and ".join(in_run(folder, twin.path) for twin in twins)
            point = replace(point, problem=f"{len(twins)} result files for one point: {names}")
        marked.append(point)
    return marked


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
    runtime = read_json(check_run_folder(folder))
    load = Loader(folder, runtime)
    capacities = [
        (path, load.result(path))
        for path in sorted((folder / "benchmarks").glob("capacity_*.json"))
    ]
    return RunData(
        folder=folder,
        runtime=runtime,
        benchmarks=load.points(folder / "benchmarks", "benchmark"),
        stress=load.points(folder / "stress_tests", "stress_test"),
        capacities=[
            document | {"result_file": f"benchmarks/{path.name}"}
            for path, document in capacities
            if document is not None
        ],
        evals=load.optional(folder / "evals" / "evals.json", shapes.check_evals),
        spec_tests=load.optional(
            folder / "spec_tests" / "spec_tests.json", shapes.check_spec_tests
        ),
        release=load.optional(folder / RELEASE_FILE, shapes.check_release),
        requirements=_saved_requirements(folder / REQUIREMENTS_FILE),
        rejected=tuple(load.rejected),
    )
