"""lm-eval's own command line, for the tasks this project ships (run in the evals environment).

    python -m evals.lm_eval_shipped run --tasks readiness_basics --include_path evals/tasks ...

The arguments are lm-eval's, unchanged. The one difference: lm-eval's task manager indexes only
`--include_path`, not the thousands of task configurations lm-eval itself ships, which it
otherwise reads on every run (about 10 s on 2 cores) though a shipped task needs none of them.
A task that is not in `--include_path` is not found: use `python -m evals.lm_eval_deadline` for
those. Requests sent one at a time have a whole-request deadline, as there (lm_eval_deadline.py).
"""

from __future__ import annotations

import functools
from typing import Any

from evals.lm_eval_deadline import bound_each_request


def index_only_the_include_path() -> None:
    """Every TaskManager lm-eval builds from here on leaves its built-in tasks out."""
    from lm_eval.tasks import TaskManager

    built_in = TaskManager.__init__

    @functools.wraps(built_in)
    def shipped_only(self: TaskManager, *args: Any, **kwargs: Any) -> None:
        kwargs["include_defaults"] = False
        built_in(self, *args, **kwargs)

    TaskManager.__init__ = shipped_only


def main() -> None:
    index_only_the_include_path()
    bound_each_request()
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()


if __name__ == "__main__":
    main()
