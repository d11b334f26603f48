"""lm-eval's command line with a whole-request deadline on the requests it sends one at a time
(run in the evals environment):

    python -m evals.lm_eval_deadline run --tasks gsm8k ...

At `num_concurrent` 1, lm-eval sends each request with `requests.post(timeout=...)`, which bounds
each socket read: a server that sends a byte a second would hold the task until the workflow's
`task_timeout` (hours). Here that `timeout` bounds the whole request, its answer read whole
(benchmarking/deadline_requests.py); lm-eval retries a request past it as any failed one. Its
concurrent path (aiohttp, `ClientTimeout(total=...)`) has a whole-request deadline already.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _WholeRequests:
    """The `requests` module as lm-eval sees it: the same, but `post` under a deadline."""

    def __init__(self, requests: ModuleType) -> None:
        self._requests = requests

    def __getattr__(self, name: str) -> Any:
        return getattr(self._requests, name)

    @staticmethod
    def post(url: str, *, timeout: float, **kwargs: Any) -> Any:
        from benchmarking import deadline_requests

        return deadline_requests.post(url, timeout=timeout, **kwargs)


def bound_each_request(api_models: ModuleType | None = None) -> None:
    """lm-eval's `requests.post` (in lm_eval.models.api_models) ends by its `timeout`."""
    module: Any = api_models or importlib.import_module("lm_eval.models.api_models")
    if not isinstance(module.requests, _WholeRequests):
        module.requests = _WholeRequests(module.requests)


def main() -> None:
    bound_each_request()
    from lm_eval.__main__ import cli_evaluate

    cli_evaluate()


if __name__ == "__main__":
    main()
