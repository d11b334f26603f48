"""`--workflow reports`: rebuild a run's report from its folder (`--run-dir`), or merge many
runs' report.json files into one catalogue summary (`--merge`). No model, device or server: all
it reads is on disk."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from reports.results import write_json
from workflows.errors import ExitCode, UsageError
from workflows.options import flag_of
from workflows.paths import LOGS_ROOT

# The renderers (pandas, plotly, jinja2) are imported by the functions that render: every run
# asks check_not_reports_flags() first, and must not pay for them at start-up.

REPORTS_FLAGS = ("run_dir", "merge", "output_dir")  # read only by the reports workflow
ALLOWED = (
    *REPORTS_FLAGS,
    "workflow",
    "requirements",
    "compare_to",
    "verbose",
    "model_specs_dir",
    "command",
)
DEFAULT_CATALOGUE_DIR = LOGS_ROOT / "catalogue"


def check_not_reports_flags(options: Mapping[str, Any]) -> None:
    """--run-dir, --merge and --output-dir mean nothing to the other workflows."""
    for name in REPORTS_FLAGS:
        if options.get(name):
            raise UsageError(f"{flag_of(name)} is read by --workflow reports only")


def run_reports(options: Mapping[str, Any], console: Console) -> ExitCode:
    given = sorted(
        name
        for name, value in options.items()
        if value not in (None, False, []) and name not in ALLOWED
    )
    if given:
        raise UsageError(
            f"--workflow reports reads a run folder; {', '.join(map(flag_of, given))} "
            "would change nothing (the model, device and settings come from the folder)"
        )
    run_dir, merge = options.get("run_dir"), options.get("merge")
    if bool(run_dir) == bool(merge):
        raise UsageError(
            "--workflow reports needs --run-dir workflow_logs/runs/<id> (one run's report) or "
            "--merge <report.json ...> (a catalogue), one of the two"
        )
    if merge:
        return _merge(options, console)
    return _rebuild(Path(str(run_dir)), options, console)


def _rebuild(folder: Path, options: Mapping[str, Any], console: Console) -> ExitCode:
    from reports.run_data import REQUIREMENTS_FILE
    from workflows.report_console import load_requirements_or_fail, render_and_tell

    if not folder.is_dir():
        raise UsageError(
            f"--run-dir {folder}: no such folder; pass a folder under workflow_logs/runs/"
        )
    if options.get("compare_to") is not None and not Path(options["compare_to"]).exists():
        raise UsageError(f"--compare-to {options['compare_to']}: no such run folder or report.json")
    _check_run_folder(folder)  # before anything is written into it
    if options.get("requirements") is not None:
        requirements = load_requirements_or_fail(Path(options["requirements"]))
        write_json(folder / REQUIREMENTS_FILE, requirements)
        console.print(
            f"requirements: {options['requirements']} (saved in the run folder)", markup=False
        )
    return render_and_tell(console, folder, options.get("compare_to"))


def _check_run_folder(folder: Path) -> None:
    from reports.run_data import ReportError, check_run_folder

    try:
        check_run_folder(folder)
    except ReportError as error:
        raise UsageError(str(error)) from None


def _merge(options: Mapping[str, Any], console: Console) -> ExitCode:
    from reports.merge import render_catalogue
    from reports.run_data import ReportError
    from workflows.report_console import say, verdict_exit_code

    for name in ("requirements", "compare_to"):
        if options.get(name) is not None:
            raise UsageError(f"{flag_of(name)} applies to one run's report, not to --merge")
    output = Path(options.get("output_dir") or DEFAULT_CATALOGUE_DIR)
    try:
        catalogue = render_catalogue(list(options["merge"]), output)
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
