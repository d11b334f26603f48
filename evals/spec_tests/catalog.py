"""Every check, in the order the suite runs them: cheap and basic first, the long prompt and the
concurrent burst late, auth last."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evals.spec_tests import checks_basic as basic
from evals.spec_tests import checks_limits as limits
from evals.spec_tests import checks_load as load
from evals.spec_tests import checks_sampling as sampling
from evals.spec_tests.suite import Suite

CheckFunction = Callable[[Suite], dict[str, object]]


@dataclass(frozen=True)
class Check:
    name: str
    run: CheckFunction


CHECKS = tuple(
    Check(function.__name__, function)
    for function in (
        basic.models_list,
        basic.completions,
        basic.completions_stream,
        basic.chat,
        basic.chat_stream,
        basic.max_tokens_exact,
        basic.stop_sequences,
        basic.n_choices,
        sampling.temperature_zero_repeatable,
        sampling.seed_repeatable,
        sampling.chat_logprobs,
        sampling.completions_logprobs,
        sampling.stream_matches_non_stream,
        sampling.usage_counts,
        limits.max_context_prompt,
        limits.over_max_context_rejected,
        limits.max_concurrency,
        load.answers_under_load,
        limits.malformed_requests,
        limits.auth_required,
    )
)
NAMES = tuple(check.name for check in CHECKS)


def selected(only: list[str] | None) -> tuple[Check, ...]:
    """The checks `--only` names (in the suite's order), or all of them."""
    return tuple(check for check in CHECKS if only is None or check.name in only)
