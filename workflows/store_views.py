"""`reports --history` and `reports --baseline`: what the store holds of a (model, device), as
a table on the console or as JSON (`--json`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

from rich.console import Console

from reports.store.url import StoreUrl
from workflows.errors import ExitCode
from workflows.store_commands import (
    as_json,
    model_and_device,
    parse_metric,
    parse_point,
    store_exists,
    store_transaction,
)


def run_history(options: Mapping[str, Any], url: StoreUrl, console: Console) -> ExitCode:
    from reports.store.queries import METRICS, history

    model, device = model_and_device(options)
    metric, point = parse_metric(options.get("metric")), parse_point(options.get("point"))
    rows = []
    if store_exists(url):
        with store_transaction(url) as connection:
            rows = history(connection, model, device, metric, point)
    document = history_document(model, device, metric, rows)
    if options.get("json_output"):
        as_json(console, document)
    elif not rows:
        console.print(_nothing_stored(model, device, point, url), markup=False)
    else:
        chosen = METRICS[metric]
        for series in document["points"]:
            for line in _series_lines(series, f"{chosen.label} ({chosen.unit})"):
                console.print(line, markup=False, highlight=False)
    return ExitCode.OK


def _nothing_stored(
    model: str, device: str, point: tuple[int, int, int] | None, url: StoreUrl
) -> str:
    where = f" at ISL {point[0]} OSL {point[1]} concurrency {point[2]}" if point else ""
    return f"no benchmark of {model} on {device}{where} in the results store {url.shown}"


def history_document(
    model: str, device: str, metric: str, rows: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """The series per point, oldest run first; each run's pins, and those that changed since
    the run before it (what may have moved the figure)."""
    from reports.store.queries import METRICS, PINS

    chosen = METRICS[metric]
    points = []
    for key, group in groupby(rows, key=lambda row: (row["isl"], row["osl"], row["concurrency"])):
        series, previous = [], None
        for row in group:
            pins = {name: row[name] for name in PINS}
            changed = [n for n in PINS if previous is not None and previous[n] != pins[n]]
            series.append(
                {
                    **{k: row[k] for k in ("run_id", "started_at", "workflow", "verdict")},
                    **{k: row[k] for k in ("value", "ci95_low", "ci95_high")},
                    "pins": pins,
                    "pins_changed": changed,
                }
            )
            previous = pins
        points.append({"isl": key[0], "osl": key[1], "concurrency": key[2], "series": series})
    return {
        "model": model,
        "device": device,
        "metric": metric,
        "field": chosen.column,
        "unit": chosen.unit,
        "lower_is_better": chosen.lower_is_better,
        "points": points,
    }


PIN_LABELS = {
    "spec_version": "spec",
    "engine_version": "engine",
    "tt_metal_commit": "tt-metal",
    "vllm_commit": "vLLM",
    "docker_image": "image",
    "docker_image_id": "image id",
    "docker_image_origin": "image origin",
    "runner_version": "runner",
    "runner_git_sha": "commit",
}


def _series_lines(series: Mapping[str, Any], label: str) -> list[str]:
    """One point's series as fixed-width lines (a CI log keeps them whole)."""
    rows = [
        (
            run["started_at"].replace("T", " ")[:16],
            run["run_id"].rsplit("_", 1)[-1],  # the run id's random suffix tells runs apart
            _figure(run["value"]),
            _interval(run["ci95_low"], run["ci95_high"]),
            run["verdict"],
            ", ".join(PIN_LABELS[name] for name in run["pins_changed"]),
        )
        for run in series["series"]
    ]
    header = ("started", "run", label, "95% interval", "verdict", "pins changed")
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    title = f"ISL {series['isl']} OSL {series['osl']} concurrency {series['concurrency']}"
    return [title] + [
        "  "
        + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]


def _figure(value: object) -> str:
    if not isinstance(value, (int, float)):
        return "-" if value is None else str(value)
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _interval(low: object, high: object) -> str:
    return "-" if low is None or high is None else f"[{_figure(low)}, {_figure(high)}]"


def run_baseline(options: Mapping[str, Any], url: StoreUrl, console: Console) -> ExitCode:
    from reports.store.queries import PINS, baseline

    model, device = model_and_device(options)
    found = None
    if store_exists(url):
        with store_transaction(url) as connection:
            found = baseline(connection, model, device)
    if found is None:
        line = f"no accepted release of {model} on {device} in the results store {url.shown}"
        if options.get("json_output"):
            as_json(console, {"model": model, "device": device, "baseline": None})
        else:
            console.print(line, markup=False)
        return ExitCode.OK
    shown = {k: found[k] for k in ("run_id", "started_at", "verdict", "model", "device", *PINS)}
    if options.get("json_output"):
        as_json(console, {"model": model, "device": device, "baseline": shown})
        return ExitCode.OK
    console.print(f"baseline of {model} on {device}: the last accepted release", markup=False)
    for name, value in shown.items():
        console.print(f"  {name}: {value}", markup=False, highlight=False)
    return ExitCode.OK
