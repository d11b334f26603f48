"""Agreement with the reference run's own answers: a far more sensitive signal than the score.

At temperature 0 a healthy server gives nearly the reference run's answers again (two greedy
runs of readiness_basics differ on a few of 278, from batching). A model that broke changes many
answers, whether or not its score moved much, so a limited run is held to at most
`max_disagreements` answers that differ from the reference rows (evals/references/), as the
task's limit states; evals/README.md gives the power of the figure chosen.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.references import EVALS_DIR


@dataclass(frozen=True)
class Agreement:
    compared: int
    differ: int
    max_differ: int
    examples: tuple[str, ...]  # the first few documents that differ, for the reason

    @property
    def passed(self) -> bool:
        return self.compared > 0 and self.differ <= self.max_differ

    def describe(self) -> str:
        if not self.compared:
            return "no answer could be compared with the reference run's"
        verdict = "within" if self.passed else "more than"
        shown = f" (documents {', '.join(self.examples)})" if self.examples else ""
        return (
            f"{self.differ} of {self.compared} answers differ from the reference run's, "
            f"{verdict} the {self.max_differ} allowed{shown}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "compared": self.compared,
            "differ": self.differ,
            "max_differ": self.max_differ,
            "passed": self.passed,
        }


def reference_answers(rows_file: str, evals_dir: Path = EVALS_DIR) -> dict[int, str]:
    path = evals_dir / rows_file
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {int(row["doc_id"]): str(row["response"]) for row in rows}


def run_answers(samples_files: Sequence[Path]) -> dict[int, str]:
    """Each document's filtered answer in lm-eval's samples file(s)."""
    answers: dict[int, str] = {}
    for path in samples_files:
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                answers[int(row["doc_id"])] = str(_first(row.get("filtered_resps")))
    return answers


def _first(value: object) -> object:
    while isinstance(value, list) and value:
        value = value[0]
    return "" if isinstance(value, list) else value


def _normalised(answer: object) -> str:
    return " ".join(str(answer).split())


def compare(answers: Mapping[int, str], reference: Mapping[int, str], max_differ: int) -> Agreement:
    shared = sorted(set(answers) & set(reference))
    differing = [doc for doc in shared if _normalised(answers[doc]) != _normalised(reference[doc])]
    return Agreement(len(shared), len(differing), max_differ, tuple(map(str, differing[:5])))
