"""Errors as OpenAI's clients read them: a 4xx whose body is {"error": {"message": str,
"type": str, ...}}, for a bad parameter, an unknown model and a prompt past the context."""

from __future__ import annotations

import json
from collections.abc import Mapping

import requests

from evals.spec_tests.checks_limits import PAST_CONTEXT_TOKENS
from evals.spec_tests.client import LONG_TIMEOUT_S
from evals.spec_tests.prompts import long_prompt
from evals.spec_tests.suite import CHAT, COMPLETIONS, MESSAGES, Suite
from evals.spec_tests.verdict import CheckFailed, expect

Evidence = dict[str, object]
BAD_PARAMETER = {"temperature": "hot"}  # a string where a number must be
UNKNOWN_MODEL = "no-such-org/no-such-model"
NOT_FOUND = (400, 404)  # OpenAI and vLLM: 404; a 400 names the model as a bad field


def bad_parameter_error(suite: Suite) -> Evidence:
    body = suite.client.encoded({"messages": MESSAGES, "max_tokens": 4, **BAD_PARAMETER})
    return error_shape(suite.client.send(CHAT, body), "a bad parameter", range(400, 500))


def unknown_model_error(suite: Suite) -> Evidence:
    body = {"model": UNKNOWN_MODEL, "messages": MESSAGES, "max_tokens": 4}
    reply = suite.client.send(CHAT, json.dumps(body).encode())
    return error_shape(reply, f"the unknown model {UNKNOWN_MODEL!r}", NOT_FOUND)


def context_overflow_error(suite: Suite) -> Evidence:
    past = suite.max_context + PAST_CONTEXT_TOKENS
    prompt, exact = long_prompt(suite.client, past, at_most=False)
    body = suite.client.encoded({"prompt": prompt, "max_tokens": 4})
    reply = suite.client.send(COMPLETIONS, body, LONG_TIMEOUT_S)
    found = error_shape(reply, f"a prompt of {past} tokens", range(400, 500))
    return {**found, "exact": exact}


def error_shape(reply: requests.Response, what: str, statuses: range | tuple[int, ...]) -> Evidence:
    """The status is one of `statuses` and the body OpenAI's error object."""
    found: Evidence = {"status": reply.status_code, "body": reply.text[:300]}
    expect(reply.status_code in statuses, f"{what} answered HTTP {reply.status_code}", found)
    error = _body(reply).get("error")
    if not isinstance(error, Mapping):
        raise CheckFailed(f"{what}: the body has no error object: {reply.text[:200]}", found)
    fields = {key: error.get(key) for key in ("message", "type")}
    missing = [key for key, value in fields.items() if not (isinstance(value, str) and value)]
    expect(
        not missing,
        f"{what}: error.{' and error.'.join(missing)} missing or not text: {reply.text[:200]}",
        found,
    )
    return {"status": reply.status_code, **fields}


def _body(reply: requests.Response) -> Mapping[str, object]:
    try:
        body = reply.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}
