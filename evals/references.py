"""Reference figures re-derived from the reference run's own per-sample results.

A task's `reference_samples` names a JSONL file under evals/ (one row per sample of the run the
reference was measured with: doc_id, target, response, score). Every figure the configuration
states for that task (the full-set reference, and each limit mode's first-N reference) must be
what those rows give; `scripts/eval_references.py` prints the figures and the differences.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evals.config import EvalTask

EVALS_DIR = Path(__file__).resolve().parent
DIGITS = 4  # references are written with four decimals


@dataclass(frozen=True)
class Derived:
    """One stated figure and what the reference rows give for it."""

    task: str
    what: str  # "full set" or "<mode>: first N"
    stated: float
    passed: int
    samples: int

    @property
    def derived(self) -> float:
        return self.passed / self.samples if self.samples else 0.0

    @property
    def matches(self) -> bool:
        return round(self.derived, DIGITS) == round(self.stated, DIGITS)


def sample_scores(path: Path) -> list[float]:
    """The per-sample scores, in the order lm-eval takes them (by document id)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [float(row["score"]) for row in sorted(rows, key=lambda row: int(row["doc_id"]))]


def derived_figures(task: EvalTask, evals_dir: Path = EVALS_DIR) -> list[Derived]:
    """Each reference figure the task states, beside the one its reference rows give."""
    if task.reference_samples is None:
        return []
    scores = sample_scores(evals_dir / task.reference_samples)
    found = []
    if task.reference is not None:
        stated = task.to_fraction(task.reference.value)
        found.append(_figure(task.task, "full set", stated, scores))
    for mode, limit in task.limits.items():
        if limit.reference is None or not isinstance(limit.samples, int):
            continue
        stated = task.to_fraction(limit.reference.value)
        what = f"{mode}: first {limit.samples}"
        found.append(_figure(task.task, what, stated, scores[: limit.samples]))
    return found


def _figure(task: str, what: str, stated: float, scores: Sequence[float]) -> Derived:
    return Derived(task, what, stated, round(sum(scores)), len(scores))


def mismatches(figures: Iterable[Derived]) -> list[str]:
    return [
        f"{figure.task} {figure.what}: the config states {figure.stated:.4f}, the reference "
        f"rows give {figure.passed}/{figure.samples} = {figure.derived:.4f}"
        for figure in figures
        if not figure.matches
    ]
