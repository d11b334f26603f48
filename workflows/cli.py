"""Command line: parse flags into a RunConfig and dispatch. No workflow logic lives here."""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from reports.results import WriteError
from reports.store.url import register_url_secret
from workflows import interrupts
from workflows.context import RunContext, default_paths
from workflows.dispatch import REPORTS, WORKFLOWS, check_workflow, workflow_names
from workflows.errors import ExitCode, Interrupted, ReadinessError, UsageError
from workflows.options import parse
from workflows.prompt_seed import with_prompt_seed
from workflows.redact import redact, redacting_stream
from workflows.registry import listing
from workflows.run_config import RunConfig, config_from_options, validate
from workflows.run_folder import setup_logging
from workflows.secrets import load_secrets
from workflows.server_choice import refuse_silent_default

log = logging.getLogger("workflows")


def _default_port() -> int:
    value = os.environ.get("SERVICE_PORT", "8000")
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"SERVICE_PORT={value!r} is not a port number") from None


def run_command(options: dict[str, Any]) -> int:
    """Bring a model up on a device and run a workflow against it."""
    console = Console(file=redacting_stream(), highlight=False, soft_wrap=True)
    paths = default_paths(os.environ)
    if options["model_specs_dir"] is not None:
        paths = dataclasses.replace(paths, model_specs=options["model_specs_dir"])
    setup_logging(console, options["verbose"])
    if options["list_models"]:
        return listing.show(paths.model_specs, console, as_json=options["json_output"])
    if options["help_workflow_args"]:
        from workflows.workflow_arg_keys import show

        return show(options["help_workflow_args"], console)
    reports = str(options.get("workflow") or "").lower() == REPORTS
    if options["json_output"] and not reports:
        raise UsageError(
            "--json only changes --list-models, reports --history and reports --baseline; "
            "add one or drop --json"
        )
    secrets = load_secrets(os.environ, paths.dotenv)
    if reports:
        from workflows.auth import register_derived_tokens
        from workflows.workflow_reports import run_reports

        register_derived_tokens(secrets)  # a report masks the tokens its run's server got
        return run_reports({**options, "workflow": None}, console, os.environ)
    from workflows import steps  # the run's machinery: not needed for --help or --list-models
    from workflows.store_commands import configured_store, record_run, store_env
    from workflows.workflow_reports import check_not_reports_flags

    check_not_reports_flags(options)

    if options["reset_venvs"] and not any(options[k] for k in ("model", "device", "workflow")):
        return steps.reset_only()
    config = _rerun_config(options, console) if options.get("rerun") else _config(options, console)
    refuse_silent_default(config)
    environ = store_env(os.environ, options.get("db"))
    store = configured_store(options.get("db"), environ, paths.logs_root)
    context = RunContext(config, console, paths, environ, secrets)
    try:
        code = steps.execute(context)
    except KeyboardInterrupt:  # teardown already ran on the way out of execute()
        raise Interrupted() from None
    folder = current_run_folder()
    if store.configured and folder is not None and config.workflow != "server":
        record_run(folder, store, console)
    return code


def _rerun_config(options: dict[str, Any], console: Console) -> RunConfig:
    from workflows.rerun import differences, read_record, refuse_other_flags, rerun_config
    from workflows.runtime_spec import git_sha, runner_version

    refuse_other_flags(options)
    folder = Path(options["rerun"])
    config = rerun_config(folder, options)
    WORKFLOWS[config.workflow].check_args(config)
    changed = differences(read_record(folder), runner_version(), git_sha())
    console.print(f"re-running {folder} ({config.workflow})", markup=False)
    for line in changed or ["nothing: same runner, commit and host"]:
        console.print(f"  differs from the original: {line}", markup=False)
    return config


def _spec_json_identity(options: dict[str, Any]) -> None:
    """With --runtime-model-spec-json the model and device come from the JSON; given anyway,
    they must agree with it, and --impl / --engine have nothing to choose from."""
    from workflows.registry.spec_json import read_spec_json

    spec = read_spec_json(Path(options["runtime_model_spec_json"]))
    for flag in ("impl", "engine"):
        if options.get(flag):
            raise UsageError(
                f"--{flag} chooses among the registry's specs; --runtime-model-spec-json "
                "gives the spec itself"
            )
    for flag, value in (("model", spec.model_name), ("device", spec.device.value)):
        given = options.get(flag)
        if given and str(given).lower() != value.lower():
            raise UsageError(
                f"--{flag} {given} does not match the spec in --runtime-model-spec-json "
                f"({value}); drop --{flag} or pass the matching spec"
            )
        options[flag] = value


def _detect_device(options: dict[str, Any], console: Console) -> None:
    """No --device: the largest device of this host the model runs on (tt-smi)."""
    from workflows.host.system_software import detect_device
    from workflows.paths import MODEL_SPECS_DIR
    from workflows.registry.loader import load_registry

    registry = load_registry(options.get("model_specs_dir") or MODEL_SPECS_DIR)
    model = registry.canonical_model(str(options["model"]))
    supported = sorted({s.device.value for s in registry.specs if s.model_name == model})
    log_path = default_paths(os.environ).logs_root / "venv-tt-smi.log"
    device, why = detect_device(model, supported, os.environ, log_path)
    console.print(f"device: {device} ({why})", markup=False, highlight=False)
    options["device"] = device


def _config(options: dict[str, Any], console: Console | None = None) -> RunConfig:
    if options.get("runtime_model_spec_json"):
        _spec_json_identity(options)
    elif options.get("model") and not options.get("device") and console is not None:
        _detect_device(options, console)
    for flag in ("model", "device", "workflow"):
        if not options[flag]:
            raise UsageError(f"missing --{flag}; see `python3 run.py --help` or --list-models")
    options["workflow"] = check_workflow(str(options["workflow"]))
    config = with_prompt_seed(validate(config_from_options(options, _default_port)))
    WORKFLOWS[config.workflow].check_args(config)
    return config


def main(argv: list[str]) -> int:
    interrupts.install()
    try:
        options = parse(argv, workflow_names())
        if options is not None:
            register_url_secret(options.get("db"))  # before the command line is recorded
            options["command"] = redact(shlex.join(["python3", "run.py", *argv]))
        result = ExitCode.OK if options is None else run_command(options)
    except ReadinessError as error:
        return _fail(error.message, error.exit_code, error.details)
    except KeyboardInterrupt:  # Ctrl-C outside a run (while parsing, say)
        return _fail(Interrupted().message, ExitCode.INTERRUPTED)
    except WriteError as error:  # a full disk, say: the file it could not write, said plainly
        return _fail(str(error), ExitCode.SETUP)
    except Exception as error:  # the one place that turns a bug into a readable line
        log.debug("unexpected error", exc_info=True)
        return _fail(
            f"internal error: {type(error).__name__}: {error} ({_where_the_traceback_is()})",
            ExitCode.WORKFLOW_FAILED,
        )
    code = ExitCode(int(result or 0))
    if current_run_folder() is not None:
        _final_line(code)
    return int(code)


def _where_the_traceback_is() -> str:
    """The run log has it, if the run got that far; else --verbose shows it."""
    if current_run_folder() is not None:
        return "the traceback is in the run log"
    return "run again with --verbose to see the traceback"


def _fail(message: str, code: ExitCode, details: tuple[str, ...] = ()) -> int:
    log.debug("exit %d: %s", code, message, exc_info=sys.exc_info()[0] is not None)
    stderr = Console(stderr=True, highlight=False, soft_wrap=True)
    stderr.print(f"[bold red]error:[/] {redact(message)}")
    for line in details:
        stderr.print(f"  {redact(line)}", markup=False)
    if current_run_folder() is not None:
        _final_line(code)
    return int(code)


def _final_line(code: ExitCode) -> None:
    folder = current_run_folder()
    where = f"; run folder: {_relative(folder)}" if folder else ""
    Console(stderr=True, highlight=False, soft_wrap=True).print(
        f"exit {int(code)} ({code.name.lower()}){where}", markup=False
    )


def current_run_folder() -> Path | None:
    """The folder of this run's log file, if the run got far enough to create one."""
    from workflows.run_folder import RunLogHandler  # a host (pytest) may add file handlers

    for handler in logging.getLogger().handlers:
        if isinstance(handler, RunLogHandler):
            return Path(handler.baseFilename).parent
    return None


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
