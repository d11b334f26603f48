"""--runtime-model-spec-json (a spec from a record, validated like a registry entry) and
--rerun (a whole run repeated from its folder, saying what differs)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Run
from workflows.errors import UsageError
from workflows.prompt_seed import SEED_BEFORE_DRAWING, with_prompt_seed
from workflows.registry.frozen import thaw
from workflows.registry.loader import load_registry
from workflows.registry.schema import RegistryError
from workflows.registry.spec_json import read_spec_json, spec_from_json
from workflows.rerun import differences, host_facts, refuse_other_flags, rerun_config
from workflows.run_config import RunConfig
from workflows.runtime_spec import build_runtime_spec
from workflows.workflow_release import child_config

CPU_SPEC = load_registry().find("SmolLM2-135M-Instruct", "cpu")


def spec_json(**changes: Any) -> dict[str, Any]:
    return json.loads(json.dumps(thaw(CPU_SPEC))) | changes  # type: ignore[no-any-return]


def test_every_registry_spec_round_trips_through_json() -> None:
    for spec in load_registry().specs:
        raw = json.loads(json.dumps(thaw(spec) | {"model_id": spec.model_id}))
        back = spec_from_json(raw, "spec.json")
        assert dataclasses.replace(back, source_file=spec.source_file) == spec


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_context": -1}, "field 'max_context'"),
        ({"status": "shiny"}, "field 'status'"),
        ({"device": "n999"}, "field 'device'"),
        ({"turbo": True}, "unknown field\\(s\\) turbo"),
        ({"model_name": "Other"}, "field 'model_name': \"Other\" does not follow"),
        ({"docker_image": "x/y:1"}, "field 'docker_image'"),
        ({"perf_reference": [{"isl": 1, "osl": 1, "concurrency": 1, "tps": 3}]}, "'tps'"),
    ],
)
def test_a_spec_json_is_validated_like_a_registry_entry(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec_json(**changes)))
    with pytest.raises(RegistryError, match=message):
        read_spec_json(path)


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    raw = spec_json()
    del raw["max_concurrency"]
    with pytest.raises(RegistryError, match="missing field\\(s\\) max_concurrency"):
        spec_from_json(raw, "spec.json")


def runtime_record(folder: Path, config: RunConfig) -> Path:
    folder.mkdir(parents=True)
    runtime = build_runtime_spec(CPU_SPEC, config, "run-1")
    (folder / "runtime_spec.json").write_text(runtime.to_json())
    return folder


DOCKER = RunConfig(
    model="SmolLM2-135M-Instruct",
    device="cpu",
    workflow="benchmarks",
    docker_server=True,
    print_docker_cmd=True,
)


def test_a_spec_from_a_run_record_runs_a_model_outside_the_registry(
    run_cli: Run, tmp_path: Path
) -> None:
    record = json.loads(build_runtime_spec(CPU_SPEC, DOCKER, "run-1").to_json())
    spec = record["model_spec"]
    spec |= {"hf_repo": "acme/Private-135M", "model_name": "Private-135M"}
    spec["weights"]["repo"] = "acme/Private-135M"
    path = tmp_path / "runtime_spec.json"
    path.write_text(json.dumps(record))
    result = run_cli(
        "--runtime-model-spec-json", str(path), "--workflow", "server", "--docker-server",
        "--print-docker-cmd",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "local/readiness-llama-cpp-cpu:0.1.0" in result.out
    mismatch = run_cli(
        "--runtime-model-spec-json", str(path), "--model", "SmolLM2-135M-Instruct",
        "--workflow", "server", "--docker-server", "--print-docker-cmd",
    )  # fmt: skip
    assert mismatch.code == 2
    assert "--model SmolLM2-135M-Instruct does not match the spec" in mismatch.err


def test_rerun_repeats_the_recorded_settings(run_cli: Run, tmp_path: Path) -> None:
    original = runtime_record(tmp_path / "run", DOCKER)
    first = run_cli(
        "--model", "SmolLM2-135M-Instruct", "--device", "cpu", "--workflow", "benchmarks",
        "--docker-server", "--print-docker-cmd",
    )  # fmt: skip
    again = run_cli("--rerun", str(original))
    assert again.code == 0, again.err
    assert "re-running" in again.out
    assert first.out.strip().splitlines()[-1] == again.out.strip().splitlines()[-1]


def test_a_rerun_sends_the_prompts_of_its_original(tmp_path: Path) -> None:
    """The seed the original drew is in its record; the re-run uses it and draws none. A
    record from before seeds were drawn ran with the fixed seed 0."""
    drawn = with_prompt_seed(DOCKER, lambda: 31337)
    again = rerun_config(runtime_record(tmp_path / "drawn", drawn), {})
    assert again.workflow_args["seed"] == 31337
    old = rerun_config(runtime_record(tmp_path / "old", DOCKER), {})
    assert old.workflow_args["seed"] == SEED_BEFORE_DRAWING == 0
    release = dataclasses.replace(drawn, workflow="release", print_docker_cmd=False)
    replayed = rerun_config(runtime_record(tmp_path / "release", release), {})
    assert child_config(replayed, "benchmarks", CPU_SPEC).workflow_args["seed"] == 31337


def test_rerun_refuses_flags_that_would_change_the_run(run_cli: Run, tmp_path: Path) -> None:
    original = runtime_record(tmp_path / "run", DOCKER)
    result = run_cli("--rerun", str(original), "--workflow", "evals")
    assert result.code == 2 and "--workflow would change it" in result.err
    missing = run_cli("--rerun", str(tmp_path))
    assert missing.code == 2 and "no runtime_spec.json there" in missing.err


def test_differences_name_runner_commit_and_host() -> None:
    record = {"runner_version": "0.0.9", "git_sha": "abc", "host": host_facts()}
    assert differences(record, "0.0.9", "abc") == []
    changed = differences(record | {"host": host_facts() | {"cpus": 9999}}, "0.1.0", "def")
    assert changed[:2] == ["runner version 0.0.9 -> 0.1.0", "runner commit abc -> def"]
    assert changed[2].startswith("host cpus 9999 -> ")


def test_a_refused_flag_is_named_as_the_user_typed_it() -> None:
    with pytest.raises(UsageError) as refused:
        refuse_other_flags({"rerun": "x", "json_output": True, "interactive": True})
    assert "--interactive, --json would change it" in refused.value.message


def test_a_runtime_spec_with_the_old_model_id_spelling_still_loads() -> None:
    """Runs before ids followed upstream wrote `id_llama_cpp_...`; their folders still rerun."""
    old = spec_json(model_id="id_llama_cpp_SmolLM2-135M-Instruct_cpu")
    assert spec_from_json(old, "spec.json").model_id == "id_llama-cpp_SmolLM2-135M-Instruct_cpu"
    with pytest.raises(RegistryError, match="field 'model_id'"):
        spec_from_json(spec_json(model_id="id_other_SmolLM2-135M-Instruct_cpu"), "spec.json")
