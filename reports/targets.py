"""Performance targets: each `perf_reference` point of the spec, measured or not, checked per
tier (a fraction of the theoretical figure) and metric. Lower is better for TTFT, higher for
throughput. A metric with no theoretical figure is N/A; one with a figure but no measurement is
MISSING, which an enforced tier counts as a failure (upstream counts it as a pass)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
PASS, FAIL, NA, MISSING = "PASS", "FAIL", "N/A", "MISSING"


@dataclass(frozen=True)
class MetricCheck:
    metric: str
    target: float | None
    measured: float | None
    ratio: float | None  # measured / target
    check: str

    def shortfall(self) -> str:
        """How far a failed check is from its target, in words."""
        label, unit, lower = _metric_info(self.metric)
        if self.check == MISSING:
            return f"{label} was not measured (target {_fmt(self.target)} {unit})"
        bound = "at most" if lower else "at least"
        return (
            f"{label} {_fmt(self.measured)} {unit}, needs {bound} {_fmt(self.target)} {unit} "
            f"({self.ratio:.0%} of it)"
            if self.ratio is not None
            else f"{label}: no figure"
        )


@dataclass(frozen=True)
class TierCheck:
    tier: str
    fraction: float
    enforced: bool
    checks: tuple[MetricCheck, ...]

    @property
    def verdict(self) -> str:
        states = {check.check for check in self.checks}
        if states & {FAIL, MISSING}:
            return FAIL
        return PASS if PASS in states else NA


@dataclass(frozen=True)
class TargetPoint:
    isl: int
    osl: int
    concurrency: int
    theoretical: Mapping[str, float | None]
    measured: Mapping[str, float | None] | None  # None: the point was not measured
    tiers: tuple[TierCheck, ...]

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
    if value is None:
        return "-"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


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


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def check_metric(
    metric: str, theoretical: float | None, fraction: float, measured: float | None
) -> MetricCheck:
    if theoretical is None:
        return MetricCheck(metric, None, measured, None, NA)
    _, _, lower = _metric_info(metric)
    target = theoretical / fraction if lower else theoretical * fraction
    if measured is None:
        return MetricCheck(metric, target, None, None, MISSING)
    ratio = measured / target if target else None
    if ratio is None:
        return MetricCheck(metric, target, measured, None, NA)
    passed = ratio <= 1.0 if lower else ratio >= 1.0
    return MetricCheck(metric, target, measured, ratio, PASS if passed else FAIL)


def check_targets(
    spec: Mapping[str, Any], benchmarks: Sequence[Point], enforce: Sequence[str] | None = None
) -> list[TargetPoint]:
    """Every target point of the spec against the benchmark point measured at it (the last one,
    if the run measured it twice). `enforce` overrides the tiers the spec's status enforces."""
    tiers: Mapping[str, float] = spec.get("perf_tiers") or {
        "functional": 0.1,
        "complete": 0.5,
        "target": 1.0,
    }
    enforced = tuple(enforce) if enforce is not None else enforced_tiers(spec.get("status"))
    measured_at = {point.key: point.document for point in benchmarks}
    results = []
    for raw in spec.get("perf_reference") or ():
        key = (int(raw["isl"]), int(raw["osl"]), int(raw["concurrency"]))
        document = measured_at.get(key)
        measured = measured_figures(document) if document is not None else None
        theoretical = {name: _number(raw.get(name)) for name, *_ in METRICS}
        results.append(
            TargetPoint(
                *key,
                theoretical=theoretical,
                measured=measured,
                tiers=tuple(
                    TierCheck(
                        tier,
                        float(tiers[tier]),
                        tier in enforced,
                        tuple(
                            check_metric(
                                name,
                                theoretical[name],
                                float(tiers[tier]),
                                measured.get(name) if measured else None,
                            )
                            for name, *_ in METRICS
                        ),
                    )
                    for tier in TIER_NAMES
                    if tier in tiers
                ),
            )
        )
    return results


def enforced_tiers(status: object) -> tuple[str, ...]:
    """The tiers a model's status makes binding; an unknown or missing status enforces all."""
    return ENFORCED_TIERS.get(str(status), TIER_NAMES)
