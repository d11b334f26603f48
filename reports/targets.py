"""Performance targets: each `perf_reference` point of the spec, measured or not, checked per
tier (a fraction of the theoretical figure) and metric. Lower is better for TTFT, higher for
throughput. A metric with no theoretical figure is N/A; one with a figure but no measurement is
MISSING, which an enforced tier counts as a failure (upstream counts it as a pass). A point whose
prompts the server mostly answered from a prompt cache the run did not ask for measured the
cache, not the model: its checks are UNJUDGED, never a pass."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reports.figures import ratio_text, significant
from reports.run_data import Point

TIER_NAMES = ("functional", "complete", "target")
METRICS = (  # name, label, unit, lower is better
    ("ttft_ms", "TTFT", "ms", True),
    ("tput_user", "Tput user", "tok/s/user", False),
    ("tput", "Tput", "tok/s", False),
)
ENFORCED_TIERS = {
    "experimental": (),
    "functional": ("functional",),
    "complete": ("functional", "complete"),
    "top_perf": ("functional", "complete", "target"),
}
PASS, FAIL, NA, MISSING, UNJUDGED = "PASS", "FAIL", "N/A", "MISSING", "UNJUDGED"
UNASKED_CACHE_LIMIT = 0.5  # above this share of prompt tokens from an unasked cache: unjudged
# The server's usage counts and the tokens the client received may differ by this share, and at
# least one token a request (llama.cpp's agree exactly); beyond it, the figures computed from the
# server's counts (throughput, TPOT, so per-user throughput) are not judged.
TOKEN_COUNT_TOLERANCE = 0.02
COUNTED_METRICS = ("tput_user", "tput")  # from output token counts; TTFT is not


@dataclass(frozen=True)
class MetricCheck:
    metric: str
    target: float | None
    measured: float | None
    ratio: float | None  # measured / target
    check: str
    interval: tuple[float, float] | None = None  # the measured figure's 95% interval
    marginal: bool = False  # the interval straddles the target: decided by the mean
    note: str = ""  # why a measured figure could not be judged

    def shortfall(self) -> str:
        """How far a failed check is from its target, in words."""
        label, unit, lower = _metric_info(self.metric)
        if self.check == MISSING:
            return f"{label} was not measured (target {_fmt(self.target)} {unit})"
        bound = "at most" if lower else "at least"
        return (
            f"{label} {_fmt(self.measured)} {unit}{self.interval_text()}, needs {bound} "
            f"{_fmt(self.target)} {unit} ({ratio_text(self.ratio, percent=True)} of it)"
            if self.ratio is not None
            else f"{label}: no figure"
        )

    def interval_text(self) -> str:
        """' (95% interval [a, b])', or nothing without an interval."""
        if self.interval is None:
            return ""
        low, high = self.interval
        return f" (95% interval [{_fmt(low)}, {_fmt(high)}])"

    def marginal_text(self) -> str:
        """A marginal check in words: its interval straddles the target, the mean decided."""
        label, unit, _ = _metric_info(self.metric)
        side = "within" if self.check == PASS else "beyond"
        return (
            f"MARGINAL {self.check}: {label} {_fmt(self.measured)} {unit}{self.interval_text()} "
            f"straddles the target {_fmt(self.target)} {unit}; decided by the mean, {side} it"
        )


@dataclass(frozen=True)
class TierCheck:
    tier: str
    fraction: float
    enforced: bool
    checks: tuple[MetricCheck, ...]

    @property
    def marginal(self) -> bool:
        return any(check.marginal for check in self.checks)

    @property
    def verdict(self) -> str:
        states = {check.check for check in self.checks}
        if states & {FAIL, MISSING}:
            return FAIL
        if UNJUDGED in states:
            return UNJUDGED
        return PASS if PASS in states else NA


@dataclass(frozen=True)
class TargetPoint:
    isl: int
    osl: int
    concurrency: int
    theoretical: Mapping[str, float | None]
    measured: Mapping[str, float | None] | None  # None: the point was not measured
    tiers: tuple[TierCheck, ...]
    unasked_cache_share: float | None = None  # None: not reported, or the point asked for it

    @property
    def served_from_cache(self) -> bool:
        return mostly_cached(self.unasked_cache_share)

    @property
    def label(self) -> str:
        return f"ISL {self.isl} OSL {self.osl} concurrency {self.concurrency}"

    @property
    def key(self) -> str:
        return f"isl-{self.isl}_osl-{self.osl}_conc-{self.concurrency}"


def _metric_info(metric: str) -> tuple[str, str, bool]:
    for name, label, unit, lower in METRICS:
        if name == metric:
            return label, unit, lower
    raise KeyError(metric)


def _fmt(value: float | None) -> str:
    """A latency or throughput as every table writes it (reports.figures)."""
    return "-" if value is None else significant(value)


def measured_figures(document: Mapping[str, Any]) -> dict[str, float | None]:
    """A benchmark point's figures in the targets' terms; a point with no completed request
    measured nothing."""
    if not document.get("completed"):
        return {"ttft_ms": None, "tput_user": None, "tput": None}
    tpot = document.get("mean_tpot_ms")
    return {
        "ttft_ms": _number(document.get("mean_ttft_ms")),
        "tput_user": 1000.0 / tpot if isinstance(tpot, (int, float)) and tpot > 0 else None,
        "tput": _number(document.get("output_throughput")),
    }


def measured_intervals(document: Mapping[str, Any]) -> dict[str, tuple[float, float] | None]:
    """The 95% intervals of a point's figures in the targets' terms (per-user throughput is
    1000 / TPOT, so its interval is TPOT's turned over); None where the file has none."""
    raw = document.get("interval_95")
    intervals = raw if isinstance(raw, Mapping) else {}
    tpot = _pair(intervals.get("mean_tpot_ms"))
    return {
        "ttft_ms": _pair(intervals.get("mean_ttft_ms")),
        "tput_user": (1000.0 / tpot[1], 1000.0 / tpot[0]) if tpot and tpot[0] > 0 else None,
        "tput": _pair(intervals.get("output_throughput")),
    }


def _pair(value: object) -> tuple[float, float] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    low, high = (_number(v) for v in value)
    return (low, high) if low is not None and high is not None and low <= high else None


def unasked_cache_share(document: Mapping[str, Any]) -> float | None:
    """The share of a point's prompt tokens the server answered from its prompt cache, unless
    the point shares prompt prefixes on purpose (a prefix-cache variant other than its
    baseline): None when it asked for the cache or the server did not say."""
    prefix = document.get("prefix_cache")
    if isinstance(prefix, Mapping) and prefix.get("variant") not in (None, "none"):
        return None
    return _number(document.get("cached_share"))


def mostly_cached(cached_share: float | None) -> bool:
    """Whether a point measured an unasked prompt cache rather than the model's prefill."""
    return cached_share is not None and cached_share > UNASKED_CACHE_LIMIT


def _unjudged_if_cached(check: MetricCheck, cached_share: float | None) -> MetricCheck:
    if check.check not in (PASS, FAIL) or not mostly_cached(cached_share):
        return check
    return replace(check, check=UNJUDGED, marginal=False)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


NO_INTERVAL = (
    "no 95% interval for it (too few successful requests, or a result file from before "
    "intervals): one draw decides nothing"
)


def check_metric(
    metric: str,
    theoretical: float | None,
    fraction: float,
    measured: float | None,
    interval: tuple[float, float] | None = None,
) -> MetricCheck:
    """PASS when the figure's 95% interval lies on the good side of the target, FAIL when it
    lies on the bad side; one that straddles it is decided by the mean and marked marginal.
    A figure without an interval is not judged (fail closed)."""
    if theoretical is None:
        return MetricCheck(metric, None, measured, None, NA)
    _, _, lower = _metric_info(metric)
    target = theoretical / fraction if lower else theoretical * fraction
    if measured is None:
        return MetricCheck(metric, target, None, None, MISSING)
    ratio = measured / target if target else None
    if ratio is None:
        return MetricCheck(metric, target, measured, None, NA)
    if interval is None:
        return MetricCheck(metric, target, measured, ratio, UNJUDGED, note=NO_INTERVAL)
    if not _contains(interval, measured):
        low, high = interval
        note = (
            f"its 95% interval [{_fmt(low)}, {_fmt(high)}] does not contain its mean "
            f"{_fmt(measured)}: the file's summary disagrees with itself"
        )
        return MetricCheck(metric, target, measured, ratio, UNJUDGED, interval, note=note)
    check, marginal = decide(lower, target, measured, interval)
    return MetricCheck(metric, target, measured, ratio, check, interval, marginal)


def _contains(interval: tuple[float, float], mean: float) -> bool:
    """Whether the interval holds the mean, give or take rounding (an interval of equal
    requests is a point, its ends an average of the same figure)."""
    low, high = interval
    slack = 1e-9 * max(abs(low), abs(high), abs(mean))
    return low - slack <= mean <= high + slack


def decide(
    lower_is_better: bool, target: float, mean: float, interval: tuple[float, float]
) -> tuple[str, bool]:
    """(PASS or FAIL, whether the interval straddles the target so the mean decided)."""
    low, high = interval
    good_side = high <= target if lower_is_better else low >= target
    bad_side = low > target if lower_is_better else high < target
    if good_side or bad_side:
        return (PASS if good_side else FAIL), False
    by_mean = mean <= target if lower_is_better else mean >= target
    return (PASS if by_mean else FAIL), True


def check_targets(
    spec: Mapping[str, Any], benchmarks: Sequence[Point], enforce: Sequence[str] | None = None
) -> list[TargetPoint]:
    """Every target point of the spec against the closed-loop benchmark point measured at it
    (never a point at a rate or a ramp, nor one that is no evidence: another run's, or one of
    two files for one point, which leaves the target not measured). `enforce` overrides the
    tiers the spec's status enforces."""
    tiers: Mapping[str, float] = spec.get("perf_tiers") or {
        "functional": 0.1,
        "complete": 0.5,
        "target": 1.0,
    }
    enforced = tuple(enforce) if enforce is not None else enforced_tiers(spec.get("status"))
    measured_at = {
        point.key: point for point in benchmarks if point.closed_loop and not point.problem
    }
    return [
        _target_point(raw, measured_at, tiers, enforced) for raw in spec.get("perf_reference") or ()
    ]


def _target_point(
    raw: Mapping[str, Any],
    measured_at: Mapping[tuple[int, int, int], Point],
    tiers: Mapping[str, float],
    enforced: Sequence[str],
) -> TargetPoint:
    key = (int(raw["isl"]), int(raw["osl"]), int(raw["concurrency"]))
    point = measured_at.get(key)
    document = point.document if point is not None else None
    miscounted = token_count_disagreement(point) if point is not None else None
    measured = measured_figures(document) if document is not None else None
    intervals = measured_intervals(document) if document is not None else {}
    cached = unasked_cache_share(document) if document is not None else None
    theoretical = {name: _number(raw.get(name)) for name, *_ in METRICS}
    return TargetPoint(
        *key,
        theoretical=theoretical,
        measured=measured,
        tiers=tuple(
            TierCheck(
                tier,
                float(tiers[tier]),
                tier in enforced,
                _checks(theoretical, float(tiers[tier]), measured, intervals, cached, miscounted),
            )
            for tier in TIER_NAMES
            if tier in tiers
        ),
        unasked_cache_share=cached,
    )


def _checks(
    theoretical: Mapping[str, float | None],
    fraction: float,
    measured: Mapping[str, float | None] | None,
    intervals: Mapping[str, tuple[float, float] | None],
    unasked_cache_share: float | None,
    miscounted: str | None = None,
) -> tuple[MetricCheck, ...]:
    return tuple(
        _unjudged_if_miscounted(
            _unjudged_if_cached(
                check_metric(
                    name,
                    theoretical[name],
                    fraction,
                    measured.get(name) if measured else None,
                    intervals.get(name),
                ),
                unasked_cache_share,
            ),
            miscounted,
        )
        for name, *_ in METRICS
    )


def _unjudged_if_miscounted(check: MetricCheck, miscounted: str | None) -> MetricCheck:
    if miscounted is None or check.check not in (PASS, FAIL) or check.metric not in COUNTED_METRICS:
        return check
    return replace(check, check=UNJUDGED, marginal=False, note=miscounted)


def token_count_disagreement(point: Point) -> str | None:
    """Why a point's throughput and TPOT cannot be trusted: they divide by the server's usage
    count of output tokens (the client's count only where the server gave none), and that count
    disagrees with the tokens the client received beyond the tolerance. Counted over the
    successful, untrimmed request rows that carry both counts (failed ones may have streamed
    part of an answer the server never counted); without such rows, over the file's totals,
    where 0 server tokens means the server reported none (the figures used the client's)."""
    rows = [
        row
        for row in point.request_rows()
        if row.get("success") and not row.get("trimmed")
        if _count(row.get("server_output_tokens")) is not None
        and _count(row.get("client_output_tokens")) is not None
    ]
    document = point.document
    if rows:
        server = sum(int(row["server_output_tokens"]) for row in rows)
        client = sum(int(row["client_output_tokens"]) for row in rows)
        requests, where = len(rows), f"summed over its {len(rows)} successful requests' rows"
    else:
        server_total = _count(document.get("total_server_output_tokens"))
        client_total = _count(document.get("total_client_output_tokens"))
        if not server_total or client_total is None:
            return None
        server, client = server_total, client_total
        where = "total_server_output_tokens vs total_client_output_tokens"
        requests = int(document.get("completed") or 0) + int(document.get("failed") or 0)
    if abs(server - client) <= max(TOKEN_COUNT_TOLERANCE * client, requests):
        return None
    return (
        f"the server reported {server} output tokens but the client received {client} "
        f"({where}; tolerance {TOKEN_COUNT_TOLERANCE:.0%} or 1 a request): "
        "throughput and TPOT are computed from "
        "the server's count, so they measure its usage report, not the tokens it sent"
    )


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def enforced_tiers(status: object) -> tuple[str, ...]:
    """The tiers a model's status makes binding; an unknown or missing status enforces all."""
    return ENFORCED_TIERS.get(str(status), TIER_NAMES)
