"""`reports --merge`: one catalogue summary from many runs' report.json files, one row per
(model, device) with its verdict, as markdown, self-contained HTML and JSON."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from markupsafe import Markup

from reports import shapes, sparkline, tables
from reports.acceptance import ACCEPTED, NOT_ACCEPTED, PARTIAL
from reports.escaping import markdown_text
from reports.redaction import redact
from reports.render import environment
from reports.report_document import REPORT_KIND
from reports.results import write_atomic
from reports.run_data import ReportError, load_run, read_json

CATALOGUE_SCHEMA_VERSION = "1"
NOT_RUN = "not run"
VERDICT_MARKS = {ACCEPTED: "ACCEPTED ✅", NOT_ACCEPTED: "NOT ACCEPTED ⛔", PARTIAL: "PARTIAL ⚠️"}


@dataclass(frozen=True)
class Catalogue:
    document: dict[str, Any]
    files: dict[str, Path]

    @property
    def accepted(self) -> bool:
        return all(row["accepted"] for row in self.document["rows"])

    @property
    def verdict(self) -> str:
        """NOT ACCEPTED if any row is; else PARTIAL if any row has no release verdict."""
        verdicts = {row["verdict"] for row in self.document["rows"]}
        for verdict in (NOT_ACCEPTED, PARTIAL):
            if verdict in verdicts:
                return verdict
        return ACCEPTED


def _report_files(paths: Sequence[Path]) -> list[Path]:
    """report.json files as given, or found in run folders given instead."""
    found = []
    for path in paths:
        if path.is_dir():
            candidates = sorted(path.rglob("report.json"))
            if not candidates:
                raise ReportError(f"--merge {path}: no report.json under this folder")
            found += candidates
        elif path.is_file():
            found.append(path)
        else:
            raise ReportError(f"--merge {path}: no such file or folder")
    return found


def report_verdict(report: Mapping[str, Any]) -> str:
    """The report's verdict; a report of no release at all (one written before partial
    verdicts existed) is PARTIAL, never ACCEPTED."""
    if not report.get("workflows"):
        return PARTIAL
    verdict = str(report.get("acceptance", {}).get("verdict"))
    if verdict in (ACCEPTED, NOT_ACCEPTED, PARTIAL):
        return verdict
    return ACCEPTED if report.get("acceptance_criteria") else NOT_ACCEPTED


def catalogue_row(report: Mapping[str, Any], source: Path) -> dict[str, Any]:
    meta = report["metadata"]
    verdict = report_verdict(report)
    blockers = report.get("acceptance", {}).get("blockers") or []
    evals = (report.get("evals") or {}).get("summary") or {}
    spec = (report.get("spec_tests") or {}).get("summary") or {}
    return {
        "model": meta.get("model_name"),
        "device": meta.get("device"),
        "status": meta.get("model_status"),
        "accepted": verdict == ACCEPTED,
        "verdict": verdict,
        "blockers": len(blockers),
        "first_blocker": blockers[0]["message"] if blockers else "",
        "evals": _counts(evals, ("pass", "fail", "skipped"), _waived(report, "evals")),
        "spec_tests": _counts(spec, ("passed", "failed", "skipped"), _waived(report, "spec_tests")),
        "report_id": meta.get("report_id"),
        "generated_at": meta.get("generated_at"),
        "runner_git_sha": meta.get("runner_git_sha"),
        "source": str(source),
    }


def _waived(report: Mapping[str, Any], category: str) -> int:
    """The category's failures a known issue waived: counted as failed, yet not blocking."""
    waived = (report.get("acceptance") or {}).get("waived") or ()
    return sum(1 for finding in waived if finding.get("category") == category)


def _counts(summary: Mapping[str, Any], keys: tuple[str, str, str], waived: int) -> str:
    """'0 pass, 2 fail; 2 waived': what a known issue waived (a failure or a skip) is said,
    so a catalogue's ACCEPTED beside a failure reads as it was decided."""
    if not summary:
        return NOT_RUN
    passed, failed, skipped = (int(summary.get(key) or 0) for key in keys)
    text = f"{passed} pass, {failed} fail" + (f", {skipped} skipped" if skipped else "")
    return text + (f"; {waived} waived" if waived else "")


def merge_reports(paths: Sequence[Path]) -> tuple[list[dict[str, Any]], list[str]]:
    """The newest whole release per (model, device), sorted; a partial run is shown only where
    no whole release is given, and never supersedes one. Notes say what was set aside."""
    newest: dict[tuple[str, str], dict[str, Any]] = {}
    notes = []
    for path in _report_files(paths):
        report = read_json(path)
        if report.get("kind") != REPORT_KIND:
            raise ReportError(f"--merge {path}: not a release report (kind {report.get('kind')!r})")
        shapes.check_report(report, path)
        report, changed = as_judged_now(path, report)
        if changed:
            notes.append(changed)
        row = catalogue_row(report, path)
        key = (str(row["model"]), str(row["device"]))
        previous = newest.get(key)
        if previous is not None:
            kept, set_aside = _chosen(previous, row)
            notes.append(f"{key[0]} on {key[1]}: {_why_set_aside(kept, set_aside)}")
            row = kept
        newest[key] = row
    return [newest[key] for key in sorted(newest)], notes


def as_judged_now(path: Path, report: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A report.json inside its run folder counts as the folder's files judge it now (the file
    may be stale or edited), with a note when that changes its verdict; a bare report.json is
    taken as it is."""
    folder = path.parent.parent
    if path.parent.name != "report" or not (folder / "runtime_spec.json").is_file():
        return report, None
    from reports.store.run_record import judged_now

    fresh = dict(judged_now(load_run(folder)))
    said, now = report_verdict(report), report_verdict(fresh)
    if said == now:
        return report, None
    note = (
        f"{path}: report.json says {said}, but its run folder's files give {now} now (stale or "
        f"edited; rebuild it: python3 run.py --workflow reports --run-dir {folder}); counted "
        f"as {now}"
    )
    return fresh, note


def _chosen(first: dict[str, Any], second: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(kept, set aside): a whole release over a partial run, then the newer."""
    older, newer = sorted((first, second), key=lambda row: str(row["generated_at"]))
    if (older["verdict"] == PARTIAL) != (newer["verdict"] == PARTIAL):
        return (newer, older) if older["verdict"] == PARTIAL else (older, newer)
    return newer, older


def _why_set_aside(kept: Mapping[str, Any], set_aside: Mapping[str, Any]) -> str:
    if set_aside["verdict"] == PARTIAL and kept["verdict"] != PARTIAL:
        return (
            f"{set_aside['source']} is a partial run (no release verdict): it does not "
            f"supersede the release {kept['source']}"
        )
    return f"{set_aside['source']} is superseded by {kept['source']}"


def report_link(row: Mapping[str, Any], output_dir: Path) -> str:
    """Where the row's report is, from the catalogue's folder: its report.html, else the
    report.json it was read from."""
    source = Path(row["source"])
    page = source.with_name("report.html")
    target = page if page.is_file() else source
    return quote(os.path.relpath(target.resolve(), output_dir.resolve()))


def _linked(row: Mapping[str, Any], output_dir: Path, markdown: bool) -> Markup:
    """The report id as a link to the report (Markup: escaped here, for one format)."""
    href, text = report_link(row, output_dir), str(row["report_id"] or "report")
    if markdown:
        return Markup(f"[{markdown_text(text)}]({href})")
    return Markup('<a href="{}">{}</a>').format(href, text)


def _trend_cell(row: Mapping[str, Any], markdown: bool) -> dict[str, Any]:
    """The row's sparkline (a results store's releases), when the catalogue has trends."""
    if "trend" not in row:
        return {}
    trend = row["trend"]
    if trend is None:
        return {"Trend": ""}
    return {"Trend": sparkline.blocks(trend) if markdown else sparkline.svg(trend)}


def catalogue_frame(
    rows: Sequence[Mapping[str, Any]], output_dir: Path, markdown: bool = True
) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Model": row["model"],
                "Device": row["device"],
                "Status": row["status"],
                "Verdict": VERDICT_MARKS[row["verdict"]],
                "Blockers": row["blockers"],
                "First blocker": row["first_blocker"],
                "Evals": row["evals"],
                "Spec tests": row["spec_tests"],
                **_trend_cell(row, markdown),
                "Report": _linked(row, output_dir, markdown),
            }
            for row in rows
        ]
    )


TrendsOf = Callable[[Sequence[tuple[str, str]]], Mapping[tuple[str, str], Any]]


def render_catalogue(
    paths: Sequence[Path], output_dir: Path, trends_of: TrendsOf | None = None
) -> Catalogue:
    """`trends_of`: each (model, device)'s releases in a results store, as a sparkline."""
    rows, notes = merge_reports(paths)
    if trends_of is not None:
        found = trends_of([(str(row["model"]), str(row["device"])) for row in rows])
        for row in rows if found else ():  # no store: no trend column
            row["trend"] = found.get((str(row["model"]), str(row["device"])))
    accepted = sum(row["verdict"] == ACCEPTED for row in rows)
    partial = sum(row["verdict"] == PARTIAL for row in rows)
    document = {
        "schema_version": CATALOGUE_SCHEMA_VERSION,
        "kind": "release_catalogue",
        "generated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": {
            "runs": len(rows),
            "accepted": accepted,
            "not_accepted": len(rows) - accepted - partial,
            "partial": partial,
        },
        "rows": rows,
        "notes": notes,
    }
    env = environment()
    values = {
        "summary": document["summary"],
        "notes": notes,
        "generated_at": document["generated_at"],
    }
    texts = {
        "json": ("catalogue.json", json.dumps(document, indent=2) + "\n"),
        "markdown": (
            "catalogue.md",
            env.get_template("catalogue.md.j2").render(
                table=tables.markdown_table(catalogue_frame(rows, output_dir)), **values
            ),
        ),
        "html": (
            "catalogue.html",
            env.get_template("catalogue.html.j2").render(
                table=tables.html_table(catalogue_frame(rows, output_dir, markdown=False)),
                **values,
            ),
        ),
    }
    files = {}
    for what, (name, text) in texts.items():
        write_atomic(output_dir / name, redact(text))  # a server may have echoed a secret
        files[what] = output_dir / name
    return Catalogue(document, files)
