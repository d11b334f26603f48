"""A verdict against a spec the user supplied (`--runtime-model-spec-json`, or an edited record
that `--rerun` repeats) must not read "Targets from: registry". The run records where its spec
came from and which judged fields differ from this checkout's registry; the run log warns, and
the report's targets line and notes say so. An audit lowered `tput_user` in a recorded spec,
re-ran it, and got ACCEPTED under "Targets from: registry"."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from reports.build import render_run
from reports.spec_words import source_words
from tests.run_folders import passing_run
from workflows.paths import MODEL_SPECS_DIR
from workflows.registry.frozen import freeze, thaw
from workflows.registry.loader import load_registry
from workflows.run_config import RunConfig
from workflows.spec_source import spec_source

CPU = load_registry().find("SmolLM2-135M-Instruct", "cpu")
FROM_REGISTRY = RunConfig(model="SmolLM2-135M-Instruct", device="cpu", workflow="release")


def from_file(path: Path, rerun_of: str | None = None) -> RunConfig:
    return dataclasses.replace(FROM_REGISTRY, runtime_model_spec_json=path, rerun_of=rerun_of)


def lowered(spec_json: dict[str, object]) -> dict[str, object]:
    """The CPU spec with every performance reference cut tenfold (an easier target)."""
    references = json.loads(json.dumps(spec_json["perf_reference"]))
    for reference in references:
        for key in ("ttft_ms", "tput_user", "tput"):
            if reference.get(key):
                reference[key] = reference[key] / 10 if key != "ttft_ms" else reference[key] * 10
    return spec_json | {"perf_reference": references}


def test_a_registry_run_says_nothing_more() -> None:
    source = spec_source(CPU, FROM_REGISTRY, MODEL_SPECS_DIR)
    assert source["from"] == "registry" and source_words(source) is None


def test_a_spec_file_with_easier_targets_is_named_with_what_differs(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    references = lowered(thaw(CPU))["perf_reference"]
    edited = dataclasses.replace(CPU, perf_reference=freeze(references))
    source = spec_source(edited, from_file(path), MODEL_SPECS_DIR)
    assert source["differs_from_registry"] == ["perf_reference"]
    assert source_words(source) == (
        f"a spec file ({path}), not the registry: it differs from this checkout's registry in "
        "perf_reference"
    )
    rerun = spec_source(CPU, from_file(path, rerun_of="runs/x"), MODEL_SPECS_DIR)
    assert source_words(rerun) == (
        f"the record of the run it repeats ({path}), not the registry: the same as this "
        "checkout's registry in every field a verdict reads"
    )
    unknown = dataclasses.replace(CPU, model_name="NotInTheRegistry")
    assert source_words(spec_source(unknown, from_file(path), MODEL_SPECS_DIR)) == (
        f"a spec file ({path}), not the registry: a spec this checkout's registry does not have"
    )


def test_the_report_says_where_its_targets_came_from(tmp_path: Path) -> None:
    folder = passing_run(tmp_path / "run")
    render_run(folder)
    report = json.loads((folder / "report" / "report.json").read_text())
    assert report["acceptance_criteria_metadata"]["targets_from"] == "registry"
    runtime_path = folder / "runtime_spec.json"
    runtime = json.loads(runtime_path.read_text())
    runtime["spec_source"] = {
        "from": "spec file",
        "path": "/tmp/mine.json",
        "differs_from_registry": ["perf_reference", "known_issues"],
    }
    runtime_path.write_text(json.dumps(runtime))
    render_run(folder)
    report = json.loads((folder / "report" / "report.json").read_text())
    said = (
        "a spec file (/tmp/mine.json), not the registry: it differs from this checkout's "
        "registry in perf_reference, known_issues"
    )
    assert report["acceptance_criteria_metadata"]["targets_from"] == said
    assert f"The spec is {said}: the verdict is against it." in report["acceptance"]["notes"]
    assert f"Targets from: {said}." in (folder / "report" / "report.md").read_text()
