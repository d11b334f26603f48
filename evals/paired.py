"""One eval task measured twice over the same documents (alone, then under load), compared
document by document.

The two runs answer the same questions, so they are paired: the test is McNemar's exact test,
one-sided, on the documents one run got right and the other wrong. A drop is significant when,
were the server as good under load as alone, so many more documents going wrong than right
would happen less than 5% of the time. Documents both runs got right (or wrong) say nothing of a
difference, so an unpaired comparison of the two scores (a two-proportion test, or Wilson
intervals that must not overlap) would need a far larger drop to see it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.scoring import wilson_interval
from reports.status import Status

SIGNIFICANCE = 0.05
TEST = (
    "McNemar's exact test, one-sided, on the documents answered both times: a drop is "
    f"significant at p < {SIGNIFICANCE}"
)


class PairingError(ValueError):
    """The two runs' samples files cannot be compared document by document."""


def sample_outcomes(samples_files: Sequence[Path], result_keys: Sequence[str]) -> dict[int, float]:
    """Each document's score in lm-eval's samples files: the mean of the task's result keys
    (`metric,filter`: the metric on the row of that filter)."""
    wanted = [key.partition(",") for key in result_keys]
    found: dict[int, list[float]] = {}
    for path in samples_files:
        for line in path.read_text().splitlines():
            row = json.loads(line) if line.strip() else None
            if not isinstance(row, dict):
                continue
            for metric, _, filter_name in wanted:
                if row.get("filter", filter_name) == filter_name and metric in row:
                    found.setdefault(int(row["doc_id"]), []).append(float(row[metric]))
    return {doc: sum(values) / len(values) for doc, values in found.items()}


def one_sided_p(worse: int, better: int) -> float:
    """P(at least `worse` of the `worse + better` discordant documents go wrong | no change):
    the exact binomial tail at 1/2."""
    total = worse + better
    if total == 0:
        return 1.0
    return float(sum(math.comb(total, k) for k in range(worse, total + 1)) / 2**total)


@dataclass(frozen=True)
class Paired:
    """The documents both runs scored, and how they moved."""

    samples: int
    alone_right: int
    loaded_right: int
    worse: int  # right alone, wrong under load
    better: int  # wrong alone, right under load

    @property
    def p_value(self) -> float:
        return one_sided_p(self.worse, self.better)

    @property
    def dropped(self) -> bool:
        return self.worse > self.better and self.p_value < SIGNIFICANCE

    def scores(self) -> tuple[float, float]:
        return self.alone_right / self.samples, self.loaded_right / self.samples


def pair(alone: Mapping[int, float], loaded: Mapping[int, float]) -> Paired:
    """The documents both runs scored; a score other than 0 or 1 cannot be paired this way."""
    shared = sorted(set(alone) & set(loaded))
    if not shared:
        raise PairingError("no document was scored in both runs")
    odd = [doc for doc in shared if alone[doc] not in (0.0, 1.0) or loaded[doc] not in (0.0, 1.0)]
    if odd:
        raise PairingError(
            f"document {odd[0]} has a score other than 0 or 1: McNemar's test needs right or wrong"
        )
    return Paired(
        samples=len(shared),
        alone_right=sum(int(alone[doc]) for doc in shared),
        loaded_right=sum(int(loaded[doc]) for doc in shared),
        worse=sum(1 for doc in shared if alone[doc] > loaded[doc]),
        better=sum(1 for doc in shared if alone[doc] < loaded[doc]),
    )


def comparison_fields(paired: Paired) -> dict[str, Any]:
    """The comparison as the under-load block of an eval row records it, with its verdict."""
    alone, loaded = paired.scores()
    n = paired.samples
    status = Status.FAIL if paired.dropped else Status.PASS
    return {
        "status": status,
        "reason": describe(paired),
        "n_samples": n,
        "score": loaded,
        "interval_95": list(wilson_interval(loaded, n)),
        "alone_score": alone,
        "alone_interval_95": list(wilson_interval(alone, n)),
        "worse": paired.worse,
        "better": paired.better,
        "p_value": paired.p_value,
        "test": TEST,
    }


def describe(paired: Paired) -> str:
    alone, loaded = paired.scores()
    moved = (
        f"{paired.worse} went wrong and {paired.better} right under load (one-sided p = "
        f"{paired.p_value:.3g})"
    )
    head = f"under load {loaded:.4f} against {alone:.4f} alone on the same {paired.samples}"
    if paired.dropped:
        return f"{head}: a significant drop; {moved}"
    return f"{head}: no significant drop; {moved}"
