#!/usr/bin/env python3
"""Re-derive every eval reference figure from the reference runs' per-sample results.

    python3 scripts/eval_references.py

For each task whose configuration names `reference_samples` (a JSONL under evals/references/),
prints each stated figure (the full set's, each limit mode's first N) beside what the rows give,
and exits 1 if any differs.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the checkout, for imports

from evals.config import load_eval_configs
from evals.references import derived_figures, mismatches


def main() -> int:
    figures = [
        figure
        for config in load_eval_configs().values()
        for task in config.tasks
        for figure in derived_figures(task)
    ]
    for figure in figures:
        mark = "ok" if figure.matches else "DIFFERS"
        print(
            f"{figure.task:22} {figure.what:22} stated {figure.stated:.4f}  "
            f"rows {figure.passed}/{figure.samples} = {figure.derived:.4f}  {mark}"
        )
    problems = mismatches(figures)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
