"""Every check, in the order the suite runs them: cheap and basic first, the long prompt and the
concurrent burst late, auth last."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from evals.spec_tests import checks_basic as basic
from evals.spec_tests import checks_errors as errors
from evals.spec_tests import checks_limits as limits
from evals.spec_tests import checks_load as load
from evals.spec_tests import checks_parameters as parameters
from evals.spec_tests import checks_responses as responses
from evals.spec_tests import checks_sampling as sampling
from evals.spec_tests import checks_structured as structured
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
        basic.response_model,
        basic.max_tokens_exact,
        basic.stop_sequences,
        basic.n_choices,
        sampling.temperature_zero_repeatable,
        sampling.seed_repeatable,
        parameters.seed_varies,
        parameters.penalties,
        parameters.logit_bias,
        parameters.sampling_filters,
        parameters.max_completion_tokens,
        sampling.chat_logprobs,
        sampling.completions_logprobs,
        parameters.echo,
        parameters.prompt_logprobs,
        parameters.list_prompts,
        sampling.stream_matches_non_stream,
        sampling.usage_counts,
        structured.json_object,
        structured.json_schema,
        structured.tool_calls,
        structured.tool_calls_stream,
        responses.responses,
        responses.responses_stream,
        errors.bad_parameter_error,
        errors.unknown_model_error,
        limits.max_context_prompt,
        limits.over_max_context_rejected,
        errors.context_overflow_error,
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
