"""`--rerun <run dir>`: repeat a recorded run (its spec, workflow, workflow arguments, the prompt
seed among them, and every other setting, from its `runtime_spec.json`), and say what differs
from the original: the runner's version and commit, and the host."""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from workflows.errors import UsageError
from workflows.options import flag_of
from workflows.prompt_seed import with_recorded_seed
from workflows.registry.frozen import freeze
from workflows.run_config import RunConfig, check_port, normalise_server_url, validate

PATH_FIELDS = ("host_weights_dir", "host_volume", "host_hf_cache", "requirements", "compare_to")
# what a re-run may change: where the server listens or runs, and how much the console says
RERUN_OVERRIDES = ("service_port", "server_url", "verbose")


def host_facts() -> dict[str, Any]:
    """The host a run ran on, for the record and for comparing a re-run with its original."""
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def read_record(folder: Path) -> dict[str, Any]:
    path = folder / "runtime_spec.json"
    if not path.is_file():
        raise UsageError(
            f"--rerun {folder}: no runtime_spec.json there; pass a folder under workflow_logs/runs/"
        )
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"--rerun {path}: not readable ({error})") from None
    if not isinstance(record, dict) or record.get("kind") != "runtime_spec":
        raise UsageError(f"--rerun {path}: not a runtime spec")
    return record


def _plain_values(recorded: Mapping[str, Any]) -> dict[str, Any]:
    """The recorded settings as RunConfig values (JSON lists back to tuples, and so on)."""
    names = {field.name for field in dataclasses.fields(RunConfig)}
    values = {key: value for key, value in recorded.items() if key in names}
    for key in PATH_FIELDS:
        if values.get(key):
            values[key] = Path(values[key])
    if "workflow_args" in values:
        values["workflow_args"] = MappingProxyType(dict(values["workflow_args"]))
    if "device_ids" in values:
        values["device_ids"] = tuple(values["device_ids"])
    for key in ("override_tt_config", "vllm_override_args"):
        if key in values:
            values[key] = freeze(values[key])
    if "eval_samples" in values:
        values["eval_samples"] = MappingProxyType(
            {task: tuple(ids) for task, ids in values["eval_samples"].items()}
        )
    return values


def rerun_config(folder: Path, options: Mapping[str, Any]) -> RunConfig:
    """The original run's settings, with the spec taken from its record."""
    record = read_record(folder)
    values = _plain_values(record.get("run_config") or {}) | checked_overrides(options)
    if options.get("server_url"):
        values |= {"local_server": False, "docker_server": False}
    values["service_port_given"] = options.get("service_port") is not None
    values |= {
        "runtime_model_spec_json": folder / "runtime_spec.json",
        "rerun_of": str(folder),
        "command": options.get("command", ""),
    }
    return with_recorded_seed(validate(RunConfig(**values)))


def _given(value: object) -> bool:
    """A flag on the command line (`--service-port 0` is given: 0 is not False here)."""
    return value is not None and value is not False


def checked_overrides(options: Mapping[str, Any]) -> dict[str, Any]:
    """The flags a re-run may change, given: parsed and checked as a fresh run's are."""
    given = {key: options[key] for key in RERUN_OVERRIDES if _given(options.get(key))}
    if "server_url" in given:
        given["server_url"] = normalise_server_url(str(given["server_url"]))
    if "service_port" in given:
        given["service_port"] = check_port(int(given["service_port"]))
    return given


def refuse_other_flags(options: Mapping[str, Any]) -> None:
    """A re-run repeats the record; a flag that would change it is refused, not ignored."""
    allowed = {"rerun", "command", "model_specs_dir", *RERUN_OVERRIDES}
    given = sorted(
        name
        for name, value in options.items()
        if value not in (None, False, []) and name not in allowed
    )
    if given:
        flags = ", ".join(flag_of(name) for name in given)
        raise UsageError(
            f"--rerun repeats the recorded run; {flags} would change it (run it without "
            "--rerun, or with --runtime-model-spec-json for the spec alone); a re-run may "
            "change only --service-port, --server-url and --verbose"
        )


def differences(record: Mapping[str, Any], runner_version: str, git_sha: str) -> list[str]:
    """What is not the same as when the original ran."""
    lines = []
    if record.get("runner_version") != runner_version:
        lines.append(f"runner version {record.get('runner_version')} -> {runner_version}")
    if record.get("git_sha") != git_sha:
        lines.append(f"runner commit {record.get('git_sha')} -> {git_sha}")
    before, now = record.get("host") or {}, host_facts()
    for key, value in now.items():
        if before.get(key) != value:
            lines.append(f"host {key} {before.get(key, 'unrecorded')} -> {value}")
    return lines
