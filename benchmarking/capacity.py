"""`search=goodput`: the highest load (concurrency, or request rate) at which the share of
requests meeting every goodput SLO is at least its minimum, found by bisection between two
bounds; each load tried is a point of its own (its result file and report row), and
`capacity_<shape>.json` says what was found, what was tried and the bracket at the answer."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from benchmarking.metrics import parse_goodput
from benchmarking.search_args import Search
from benchmarking.sweep import Point, num_prompts
from evals.scoring import wilson_interval
from reports.requirements import meets_slo
from reports.results import Identity, document, write_json

Meets = Callable[[float], bool]


@dataclass(frozen=True)
class Bisection:
    """The highest load that met (None: not even the low bound), the lowest that missed (None:
    not even the high bound), and the loads tried in order."""

    met: float | None
    missed: float | None
    tried: tuple[float, ...]


def _done(search: Search, low: float, high: float) -> bool:
    if search.over == "concurrency":
        return high - low <= 1
    return high / low <= 1 + search.tolerance


def _between(search: Search, low: float, high: float) -> float:
    """The next load to try: halfway (concurrency), or the geometric middle (a rate)."""
    if search.over == "concurrency":
        return float((int(low) + int(high)) // 2)
    return math.sqrt(low * high)


def bisect(search: Search, high: float, meets: Meets) -> Bisection:
    """Try the low bound, then the high one, then halve the bracket between the highest load
    that met and the lowest that missed, until it is narrow enough or `search.points` loads
    have been measured."""
    tried = [search.low]
    if not meets(search.low):
        return Bisection(None, search.low, tuple(tried))
    tried.append(high)
    if meets(high):
        return Bisection(high, None, tuple(tried))
    low = search.low
    while not _done(search, low, high) and len(tried) < search.points:
        load = _between(search, low, high)
        tried.append(load)
        low, high = (load, high) if meets(load) else (low, load)
    return Bisection(low, high, tuple(tried))


def goodput_counts(rows: Sequence[Mapping[str, Any]], slos: Mapping[str, float]) -> tuple[int, int]:
    """(requests meeting every SLO, requests counted): trimmed ones are not counted."""
    counted = [row for row in rows if not row.get("trimmed")]
    limits = {f"{key}_ms": limit for key, limit in slos.items()}
    return sum(meets_slo(row, limits) for row in counted), len(counted)


def read_rows(point_file: Path) -> list[dict[str, Any]]:
    rows_file = point_file.with_name(point_file.stem + "_requests.jsonl")
    return [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]


def at_load(search: Search, base: Point, load: float, fixed_prompts: int | None) -> Point:
    """The point measured at one load of the search."""
    if search.over == "rate":
        return dataclasses.replace(base, rate=load)
    concurrency = int(load)
    count = fixed_prompts or num_prompts(base.isl, base.osl, concurrency)
    return dataclasses.replace(base, concurrency=concurrency, num_prompts=count)


@dataclass
class Trial:
    """One load tried: its goodput counts and where its point's file is."""

    load: float
    good: int
    total: int
    met: bool
    file: str

    def fields(self) -> dict[str, object]:
        share = self.good / self.total if self.total else None
        interval = wilson_interval(share, self.total) if share is not None else None
        return dataclasses.asdict(self) | {"share": share, "share_interval_95": interval}


Measure = Callable[[Point], Path]  # measure a point, return its result file


def search_capacity(
    search: Search,
    goodput: str,
    base: Point,
    high: float,
    measure: Measure,
    fixed_prompts: int | None = None,
) -> tuple[Bisection, list[Trial]]:
    """Bisect for `base`'s shape; each load is measured once by `measure`."""
    slos = parse_goodput(goodput)
    trials: list[Trial] = []

    def meets(load: float) -> bool:
        path = measure(at_load(search, base, load, fixed_prompts))
        good, total = goodput_counts(read_rows(path), slos)
        met = total > 0 and good / total >= search.min_share
        trials.append(Trial(load, good, total, met, path.name))
        return met

    return bisect(search, high, meets), trials


def capacity_document(
    identity: Identity,
    search: Search,
    goodput: str,
    base: Point,
    found: Bisection,
    trials: Sequence[Trial],
) -> dict[str, object]:
    at_answer = next((t for t in trials if t.load == found.met), None)
    return document(
        "capacity_search",
        identity,
        {
            "isl": base.isl,
            "osl": base.osl,
            "search_over": search.over,
            "concurrency": base.concurrency if search.over == "rate" else None,
            "goodput": goodput,
            "min_share": search.min_share,
            "low": search.low,
            "high": max(t.load for t in trials),
            "found": found.met,
            "bracket": [found.met, found.missed],
            "limited_by": _limited_by(found),
            "share_interval_95": at_answer.fields()["share_interval_95"] if at_answer else None,
            "tried": [trial.fields() for trial in trials],
        },
    )


def _limited_by(found: Bisection) -> str | None:
    if found.met is None:
        return "search_low: even the lowest load missed the SLOs"
    if found.missed is None:
        return "search_high: the highest load met the SLOs; the capacity may be higher"
    return None


def write_capacity(folder: Path, capacity: Mapping[str, object]) -> Path:
    name = f"capacity_isl-{capacity['isl']}_osl-{capacity['osl']}.json"
    return write_json(folder / name, dict(capacity))


def summary_line(capacity: Mapping[str, Any]) -> str:
    """One line for the console: what was found, the bracket, and each load tried."""
    unit = "" if capacity["search_over"] == "concurrency" else " req/s"
    tried = ", ".join(f"{t['load']:g} ({t['good']}/{t['total']} good)" for t in capacity["tried"])
    found = capacity["found"]
    head = (
        f"capacity at ISL {capacity['isl']} OSL {capacity['osl']} ({capacity['goodput']}, "
        f"{capacity['min_share']:.0%} of requests): "
    )
    if found is None:
        return head + f"none ({capacity['limited_by']}); tried {tried}"
    low, high = capacity["bracket"]
    bracket = f"met at {low:g}, missed at {high:g}" if high is not None else capacity["limited_by"]
    return head + f"{capacity['search_over']} {found:g}{unit} ({bracket}); tried {tried}"


def shapes_to_search(points: Sequence[Point]) -> list[Point]:
    """One point per (ISL, OSL) of the sweep, in order: the one of highest concurrency (a rate
    search keeps it as its concurrency cap)."""
    by_shape: dict[tuple[int, int], Point] = {}
    for point in points:
        known = by_shape.get((point.isl, point.osl))
        if known is None or point.concurrency > known.concurrency:
            by_shape[(point.isl, point.osl)] = point
    return list(by_shape.values())


def run_searches(
    settings: SearchSettings,
    identity: Identity,
    output_dir: Path,
    points: Sequence[Point],
    max_concurrency: int,
    measure: Measure,
) -> list[dict[str, object]]:
    """A search per (ISL, OSL) of the sweep; each writes its capacity file. Returns them."""
    search, goodput = settings.search, settings.goodput
    assert search is not None and goodput is not None
    high = search.high or float(max_concurrency)
    found = []
    for base in shapes_to_search(points):
        bisection, trials = search_capacity(
            search, goodput, base, high, measure, settings.num_prompts
        )
        capacity = capacity_document(identity, search, goodput, base, bisection, trials)
        write_capacity(output_dir, capacity)
        found.append(capacity)
    return found


class SearchSettings(Protocol):
    @property
    def search(self) -> Search | None: ...
    @property
    def goodput(self) -> str | None: ...
    @property
    def num_prompts(self) -> int | None: ...
