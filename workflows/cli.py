"""Command line: parse flags into a RunConfig and dispatch. No workflow logic lives here."""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from workflows import interrupts
from workflows.context import RunContext, default_paths
from workflows.dispatch import WORKFLOWS, check_workflow, workflow_names
from workflows.errors import ExitCode, Interrupted, ReadinessError, UsageError
from workflows.redact import redact
from workflows.registry import listing
from workflows.run_config import config_from_options, validate
from workflows.run_folder import setup_logging
from workflows.secrets import load_secrets

log = logging.getLogger("workflows")
app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
Opt = typer.Option


def _default_port() -> int:
    value = os.environ.get("SERVICE_PORT", "8000")
    try:
        return int(value)
    except ValueError:
        raise UsageError(f"SERVICE_PORT={value!r} is not a port number") from None


@app.command(context_settings={"help_option_names": ["-h", "--help"]})
def run_command(
    model: Annotated[str | None, Opt(help="Model name, e.g. Llama-3.1-8B-Instruct.")] = None,
    device: Annotated[
        str | None, Opt(help="cpu, gpu, n150, n300, p100, p150, t3k, galaxy.")
    ] = None,
    workflow: Annotated[str | None, Opt(help=f"One of: {', '.join(workflow_names())}.")] = None,
    impl: Annotated[str | None, Opt(help="Implementation, when a model has several.")] = None,
    local_server: Annotated[
        bool, Opt("--local-server", help="Start the server on this host.")
    ] = False,
    docker_server: Annotated[
        bool, Opt("--docker-server", help="Start the server in its pinned Docker image.")
    ] = False,
    server_url: Annotated[
        str | None, Opt(help="Use a server that already runs at this URL.")
    ] = None,
    service_port: Annotated[
        int | None, Opt(help="Server port (default $SERVICE_PORT or 8000).")
    ] = None,
    bind_host: Annotated[
        str | None, Opt(help="Interface a started server listens on (default 127.0.0.1).")
    ] = None,
    interactive: Annotated[
        bool,
        Opt(
            "-it", "--interactive", help="Run the server in the foreground, its log on the console."
        ),
    ] = False,
    workflow_args: Annotated[str | None, Opt(help='Workflow settings, "k=v k2=v2".')] = None,
    dev_mode: Annotated[
        bool, Opt("--dev-mode", help="Use the development image of the spec.")
    ] = False,
    override_docker_image: Annotated[
        str | None, Opt(help="Run this image; version and commits are read from its tag.")
    ] = None,
    device_id: Annotated[str | None, Opt(help="Tenstorrent device ids to use, e.g. 0,1.")] = None,
    override_tt_config: Annotated[
        str | None, Opt(help="JSON merged into the spec's tt config; null deletes a key.")
    ] = None,
    vllm_override_args: Annotated[
        str | None, Opt(help="JSON merged into the spec's vLLM args; null deletes a key.")
    ] = None,
    disable_trace_capture: Annotated[
        bool, Opt("--disable-trace-capture", help="Skip the warm-up requests.")
    ] = False,
    reset_venvs: Annotated[
        bool, Opt("--reset-venvs", help="Remove the workflow environments first.")
    ] = False,
    no_auth: Annotated[
        bool, Opt("--no-auth", help="Start the server without authentication.")
    ] = False,
    verbose: Annotated[
        bool, Opt("-v", "--verbose", help="Show debug output on the console.")
    ] = False,
    host_weights_dir: Annotated[Path | None, Opt(help="Folder with the model's weights.")] = None,
    print_docker_cmd: Annotated[
        bool,
        Opt("--print-docker-cmd", help="Print the equivalent `docker run` and exit."),
    ] = False,
    host_volume: Annotated[
        Path | None, Opt(help="Bind-mount this folder as the container's cache volume.")
    ] = None,
    host_hf_cache: Annotated[
        Path | None, Opt(help="Mount this Hugging Face cache read-only in the container.")
    ] = None,
    model_specs_dir: Annotated[
        Path | None, Opt(help="Registry folder (default: model_specs/).")
    ] = None,
    list_models: Annotated[bool, Opt("--list-models", help="Print the registry and exit.")] = False,
    json_output: Annotated[bool, Opt("--json", help="With --list-models: print JSON.")] = False,
) -> int:
    """Bring a model up on a device and run a workflow against it."""
    options = dict(locals())
    from workflows import steps  # the run's machinery: not needed for --help or --list-models

    console = Console(highlight=False, soft_wrap=True)
    paths = default_paths(os.environ)
    if model_specs_dir is not None:
        paths = dataclasses.replace(paths, model_specs=model_specs_dir)
    setup_logging(console, verbose)
    if list_models:
        return listing.show(paths.model_specs, console, as_json=json_output)
    if json_output:
        raise UsageError("--json only changes --list-models; add --list-models or drop --json")
    if reset_venvs and not (model or device or workflow):
        return steps.reset_only()
    for flag in ("model", "device", "workflow"):
        if not options[flag]:
            raise UsageError(f"missing --{flag}; see `python3 run.py --help` or --list-models")
    options["workflow"] = check_workflow(str(workflow))
    config = validate(config_from_options(options, _default_port))
    WORKFLOWS[config.workflow].check_args(config)
    if config.reset_venvs:
        steps.reset_only()
    secrets = load_secrets(os.environ, paths.dotenv)
    context = RunContext(config, console, paths, dict(os.environ), secrets)
    try:
        return steps.execute(context)
    except KeyboardInterrupt:  # teardown already ran on the way out of execute()
        raise Interrupted() from None


def main(argv: list[str]) -> int:
    interrupts.install()
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="run.py", standalone_mode=False)
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.TyperException as error:  # click's usage errors, as typer vendors them
        return _fail(f"{error.format_message()} (see `python3 run.py --help`)", ExitCode.USAGE)
    except ReadinessError as error:
        return _fail(error.message, error.exit_code, error.details)
    except (KeyboardInterrupt, typer.Abort):  # Ctrl-C outside a run (while parsing, say)
        return _fail(Interrupted().message, ExitCode.INTERRUPTED)
    except Exception as error:  # the one place that turns a bug into a readable line
        log.debug("unexpected error", exc_info=True)
        return _fail(
            f"internal error: {type(error).__name__}: {error} (the traceback is in the run log)",
            ExitCode.WORKFLOW_FAILED,
        )
    code = ExitCode(int(result or 0))
    if current_run_folder() is not None:
        _final_line(code)
    return int(code)


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
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename).parent
    return None


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
