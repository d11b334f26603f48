"""`--workflow reports`: rebuild a run's report from its folder (`--run-dir`), merge many runs'
report.json files into one catalogue summary (`--merge`), or use the results store (`--ingest`,
`--history`, `--baseline`: workflows/store_commands.py). No server: all it reads is on disk or
in the store."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from reports.results import write_json
from workflows.errors import ExitCode, UsageError
from workflows.options import flag_of

# The renderers (pandas, plotly, jinja2) are imported by the functions that render: every run
# asks check_not_reports_flags() first, and must not pay for them at start-up.

REPORTS_FLAGS = (  # read only by the reports workflow
    "run_dir",
    "merge",
    "output_dir",
    "ingest",
    "history",
    "baseline",
    "point",
    "metric",
)
MODES = ("run_dir", "merge", "ingest", "history", "baseline")
COMMON = ("workflow", "verbose", "model_specs_dir", "command", "db")
MODE_FLAGS = {
    "run_dir": ("requirements", "compare_to"),
    "merge": ("output_dir", "requirements", "compare_to"),  # the last two refused by _merge
    "ingest": (),
    "history": ("model", "device", "point", "metric", "json_output"),
    "baseline": ("model", "device", "json_output"),
}
CATALOGUE_FOLDER = "catalogue"  # under the logs folder (WORKFLOW_LOGS_DIR moves it)


def catalogue_dir(environ: Mapping[str, str]) -> Path:
    """Where --merge writes without --output-dir: the logs folder's `catalogue/`, beside the
    runs, wherever WORKFLOW_LOGS_DIR puts them."""
    from workflows.context import default_paths

    return default_paths(environ).logs_root / CATALOGUE_FOLDER


def check_not_reports_flags(options: Mapping[str, Any]) -> None:
    """--run-dir, --merge, --ingest, ... mean nothing to the other workflows."""
    for name in REPORTS_FLAGS:
        if options.get(name):
            raise UsageError(f"{flag_of(name)} is read by --workflow reports only")


def _mode(options: Mapping[str, Any]) -> str:
    chosen = [name for name in MODES if options.get(name)]
    if len(chosen) != 1:
        raise UsageError(
            "--workflow reports needs --run-dir workflow_logs/runs/<id> (one run's report), "
            "--merge <report.json ...> (a catalogue), --ingest <run folder ...> (the results "
            "store), or --history / --baseline with --model and --device: one of them"
        )
    return chosen[0]


def _refuse_other_flags(options: Mapping[str, Any], mode: str) -> None:
    allowed = {*COMMON, mode, *MODE_FLAGS[mode]}
    given = sorted(
        name
        for name, value in options.items()
        if value not in (None, False, []) and name not in allowed
    )
    if not given:
        return
    flags = ", ".join(map(flag_of, given))
    if mode in ("run_dir", "merge"):
        raise UsageError(
            f"--workflow reports reads a run folder; {flags} would change nothing (the model, "
            "device and settings come from the folder)"
        )
    raise UsageError(f"--workflow reports {flag_of(mode)}: {flags} would change nothing")


def run_reports(
    options: Mapping[str, Any], console: Console, environ: Mapping[str, str] | None = None
) -> ExitCode:
    mode = _mode(options)
    _refuse_other_flags(options, mode)
    if mode == "merge":
        return _merge(options, console, environ or {})
    if mode == "run_dir":
        return _rebuild(Path(str(options["run_dir"])), options, console, environ or {})
    return _store_command(mode, options, console, environ or {})


def _store_command(
    mode: str, options: Mapping[str, Any], console: Console, environ: Mapping[str, str]
) -> ExitCode:
    from workflows.context import default_paths
    from workflows.store_commands import run_ingest, the_store
    from workflows.store_views import run_baseline, run_history

    url = the_store(options.get("db"), environ, default_paths(environ).logs_root)
    if mode == "ingest":
        return run_ingest([Path(folder) for folder in options["ingest"]], url, console)
    if mode == "history":
        return run_history(options, url, console)
    return run_baseline(options, url, console)


def _rebuild(
    folder: Path, options: Mapping[str, Any], console: Console, environ: Mapping[str, str]
) -> ExitCode:
    from reports.run_data import REQUIREMENTS_FILE
    from reports.store.url import is_baseline
    from workflows.report_console import load_requirements_or_fail, render_and_tell
    from workflows.store_commands import store_env

    if not folder.is_dir():
        raise UsageError(
            f"--run-dir {folder}: no such folder; pass a folder under workflow_logs/runs/"
        )
    compare_to = options.get("compare_to")
    if compare_to is not None and not is_baseline(compare_to) and not Path(compare_to).exists():
        raise UsageError(f"--compare-to {options['compare_to']}: no such run folder or report.json")
    _check_run_folder(folder)  # before anything is written into it
    if options.get("requirements") is not None:
        requirements = load_requirements_or_fail(Path(options["requirements"]))
        write_json(folder / REQUIREMENTS_FILE, requirements)
        console.print(
            f"requirements: {options['requirements']} (saved in the run folder)", markup=False
        )
    return render_and_tell(console, folder, compare_to, store_env(environ, options.get("db")))


def _check_run_folder(folder: Path) -> None:
    from reports.run_data import ReportError, check_run_folder

    try:
        check_run_folder(folder)
    except ReportError as error:
        raise UsageError(str(error)) from None


def _merge(options: Mapping[str, Any], console: Console, environ: Mapping[str, str]) -> ExitCode:
    from reports.merge import render_catalogue
    from reports.run_data import ReportError
    from workflows.report_console import say, verdict_exit_code
    from workflows.store_commands import store_env
    from workflows.store_view import catalogue_trends

    for name in ("requirements", "compare_to"):
        if options.get(name) is not None:
            raise UsageError(f"{flag_of(name)} applies to one run's report, not to --merge")
    output = Path(options.get("output_dir") or catalogue_dir(environ))
    environ = store_env(environ, options.get("db"))
    try:
        catalogue = render_catalogue(
            list(options["merge"]),
            output,
            lambda pairs: catalogue_trends(pairs, environ, console),
        )
    except ReportError as error:
        raise UsageError(str(error)) from None
    summary = catalogue.document["summary"]
    say(
        console,
        f"catalogue: {summary['runs']} runs, {summary['accepted']} accepted, "
        f"{summary['not_accepted']} not accepted, {summary['partial']} partial",
    )
    for row in catalogue.document["rows"]:
        say(
            console,
            f"  {row['model']} on {row['device']}: {row['verdict']}"
            + (f" ({row['first_blocker']})" if row["first_blocker"] else ""),
        )
    for note in catalogue.document["notes"]:
        say(console, f"  note: {note}")
    for what, path in catalogue.files.items():
        say(console, f"  {what}: {path}")
    return verdict_exit_code(catalogue.verdict, blocked=False)
