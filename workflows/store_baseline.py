"""`--compare-to baseline`: the last accepted release of the run's (model, device) in the
results store, before this run and other than it, in the shape of a report.json. No store, no
file, or no accepted release yet: no baseline, said in one line, and the run goes on."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from rich.console import Console

from reports.run_data import ReportError, read_json
from reports.store.url import StoreUrl
from workflows.context import default_paths
from workflows.errors import SetupError
from workflows.store_commands import store_transaction, the_store


def baseline_of_run(
    folder: Path, environ: Mapping[str, str], console: Console
) -> Mapping[str, Any] | None:
    from reports.store.run_record import started_at

    try:
        runtime = read_json(folder / "runtime_spec.json")
        spec = runtime["model_spec"]
        model, device, run_id = str(spec["model_name"]), str(spec["device"]), runtime["run_id"]
    except (ReportError, KeyError, TypeError) as error:
        _say(console, f"  baseline: none, {folder} does not say which run it is ({error})")
        return None
    before = started_at(str(run_id))
    url = the_store(environ.get("READINESS_DB_URL"), environ, default_paths(environ).logs_root)
    if not _exists(url):
        _say(console, f"  baseline: none, the results store {url.shown} does not exist yet")
        return None
    return _query(url, model, device, run_id, before, console)


def _exists(url: StoreUrl) -> bool:
    """A SQLite store that was never written is not made just to find it empty."""
    if not url.is_sqlite:
        return True
    return Path(url.url.split(":///", 1)[-1]).is_file()


def _query(
    url: StoreUrl, model: str, device: str, run_id: str, before: str | None, console: Console
) -> Mapping[str, Any] | None:
    from reports.store.queries import baseline, run_as_report

    try:
        with store_transaction(url) as connection:
            found = baseline(connection, model, device, before=before, other_than=run_id)
            report = None if found is None else run_as_report(connection, found)
    except SetupError as error:
        _say(console, f"  baseline: none, {error.message}")
        return None
    if report is None:
        _say(
            console, f"  baseline: none, no accepted release of {model} on {device} in {url.shown}"
        )
        return None
    _say(console, f"  baseline: {found and found['run_id']} (the last accepted release)")
    return report


def _say(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False)
