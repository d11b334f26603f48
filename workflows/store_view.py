"""What the results store adds to a run's report: the baseline of `--compare-to baseline` (the
last accepted release of its (model, device) before it, never itself) and the previous releases'
figures its trends chart. No store file, no accepted release, a store that cannot be reached: said
in one line, and the report is rendered without them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from reports.run_data import ReportError, read_json
from reports.store.url import ENV_VAR, StoreUrl
from workflows.context import default_paths
from workflows.errors import SetupError
from workflows.store_commands import store_exists, store_transaction, the_store

TREND_RELEASES = 10  # the previous releases a report's trends show


@dataclass(frozen=True)
class StoreView:
    baseline: Mapping[str, Any] | None = None  # report-shaped
    previous: Sequence[Mapping[str, Any]] | None = None  # the previous releases' points


@dataclass(frozen=True)
class RunIdentity:
    model: str
    device: str
    run_id: str
    started: str | None
    image_id: str | None = None  # the image its container ran, if one did and it was recorded
    image_origin: str | None = None


def store_view(
    folder: Path, environ: Mapping[str, str], console: Console, want_baseline: bool
) -> StoreView:
    """The baseline (when asked for) and the trends' rows, from the store, if there is one."""
    url = the_store(environ.get(ENV_VAR), environ, default_paths(environ).logs_root)
    if not store_exists(url):
        if want_baseline:
            _say(console, f"  baseline: none, the results store {url.shown} does not exist yet")
        return StoreView()
    identity = _identity(folder)
    if identity is None:
        _say(console, f"  baseline and trends: none, {folder} does not say which run it is")
        return StoreView()
    try:
        return _query(url, identity, console, want_baseline)
    except SetupError as error:
        _say(console, f"  baseline and trends: none, {error.message}")
        return StoreView()


def _identity(folder: Path) -> RunIdentity | None:
    from reports.image_words import image_origin, image_used
    from reports.store.run_record import started_at

    try:
        runtime = read_json(folder / "runtime_spec.json")
        spec = runtime["model_spec"]
        run_id = str(runtime["run_id"])
        used = image_used(runtime)
        return RunIdentity(
            str(spec["model_name"]),
            str(spec["device"]),
            run_id,
            started_at(run_id),
            used.get("id"),
            image_origin(used),
        )
    except (ReportError, KeyError, TypeError):
        return None


def _query(url: StoreUrl, run: RunIdentity, console: Console, want_baseline: bool) -> StoreView:
    from reports.store.queries import baseline, previous_releases, run_as_report

    report, found = None, None
    with store_transaction(url) as connection:
        if want_baseline:
            found = baseline(connection, run.model, run.device, run.started, run.run_id)
            report = None if found is None else run_as_report(connection, found)
        previous = previous_releases(
            connection, run.model, run.device, run.started, run.run_id, TREND_RELEASES
        )
    if want_baseline and report is None:
        _say(console, f"  baseline: none, no accepted release of {run.model} on {run.device} "
                      f"in {url.shown}")  # fmt: skip
    elif report is not None:
        _say(console, f"  baseline: {report['metadata']['run_id']} (the last accepted release)")
        if found is not None and (note := other_image(found, run)):
            _say(console, note)
    return StoreView(report, previous)


def other_image(baseline: Mapping[str, Any], run: RunIdentity) -> str | None:
    """A line when the baseline's container ran another image than this run's (another id or
    origin); none when either did not record one (a local process, a run from before)."""
    from reports.image_words import image_difference

    theirs = (baseline.get("docker_image_id"), baseline.get("docker_image_origin"))
    difference = image_difference(theirs, (run.image_id, run.image_origin))
    return None if difference is None else f"  note: {difference}"


def _say(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False)


def catalogue_trends(
    pairs: Sequence[tuple[str, str]], environ: Mapping[str, str], console: Console
) -> dict[tuple[str, str], Any]:
    """Each (model, device)'s last releases in the store as one series (reports.trends); none
    without a store."""
    from reports.store.queries import previous_releases
    from reports.trends import catalogue_trend

    url = the_store(environ.get(ENV_VAR), environ, default_paths(environ).logs_root)
    if not store_exists(url):
        return {}
    try:
        with store_transaction(url) as connection:
            return {
                pair: catalogue_trend(
                    previous_releases(connection, *pair, None, "", TREND_RELEASES)
                )
                for pair in pairs
            }
    except SetupError as error:
        _say(console, f"  trends: none, {error.message}")
        return {}
