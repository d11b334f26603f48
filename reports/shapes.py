"""The shape a report needs of each file of a run folder, checked when the file is read: a file
of another shape is a ReportError naming the file and the field, never a KeyError while
rendering."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class ReportError(Exception):
    """A run folder or report file that cannot be read; the message says which and why."""


def _shape_error(path: Path, field: str, expected: str, value: object) -> ReportError:
    got = "nothing" if value is None else type(value).__name__
    return ReportError(
        f"{path}: field {field}: expected {expected}, got {got}; this is not a file the runner "
        "wrote (rerun the workflow, or pass another run folder)"
    )


def _kind(document: Mapping[str, Any], path: Path, kind: str) -> None:
    if document.get("kind") != kind:
        raise _shape_error(path, "kind", f"'{kind}'", document.get("kind"))


def _object(document: Mapping[str, Any], path: Path, field: str, prefix: str = "") -> None:
    if not isinstance(document.get(field), Mapping):
        raise _shape_error(path, prefix + field, "an object", document.get(field))


def _optional_object(
    document: Mapping[str, Any], path: Path, field: str, prefix: str = ""
) -> Mapping[str, Any]:
    """An object, or nothing (null or absent: an empty one)."""
    if document.get(field) is None:
        return {}
    _object(document, path, field, prefix)
    return document[field]  # type: ignore[no-any-return]


def _objects(
    document: Mapping[str, Any], path: Path, field: str, keys: Sequence[str], prefix: str = ""
) -> None:
    """A list of objects, each with text at `keys` (absent: an empty list)."""
    items, name = document.get(field, []), prefix + field
    if not isinstance(items, list):
        raise _shape_error(path, name, "a list", items)
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise _shape_error(path, f"{name}[{index}]", "an object", item)
        for key in keys:
            if not isinstance(item.get(key), str):
                raise _shape_error(path, f"{name}[{index}].{key}", "text", item.get(key))


def check_runtime_spec(document: Mapping[str, Any], path: Path) -> None:
    _kind(document, path, "runtime_spec")
    _object(document, path, "model_spec")
    if "run_config" in document:
        _object(document, path, "run_config")
    _optional_object(document, path, "docker_image_used")


def check_point(document: Mapping[str, Any], path: Path) -> None:
    """A benchmark or stress point: its lengths and concurrency are whole numbers."""
    for field in ("isl", "osl", "concurrency"):
        value = document.get(field)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _shape_error(path, field, "a number", value)


def check_evals(document: Mapping[str, Any], path: Path) -> None:
    _objects(document, path, "tasks", ())


def check_spec_tests(document: Mapping[str, Any], path: Path) -> None:
    _objects(document, path, "checks", ())


def check_release(document: Mapping[str, Any], path: Path) -> None:
    _kind(document, path, "release")
    _objects(document, path, "children", ("workflow", "status"))


def check_report(document: Mapping[str, Any], path: Path) -> None:
    """A report.json, as --merge and --compare-to read it (its kind checked by the caller)."""
    _object(document, path, "metadata")
    _objects(document, path, "benchmarks", ())
    _objects(document, path, "workflows", ())
    acceptance = _optional_object(document, path, "acceptance")
    _objects(acceptance, path, "blockers", ("message",), "acceptance.")
    for part, rows, keys in (("evals", "tasks", ("task",)), ("spec_tests", "checks", ())):
        section = _optional_object(document, path, part)
        _optional_object(section, path, "summary", f"{part}.")
        _objects(section, path, rows, keys, f"{part}.")
