"""The edges: a prompt at max_context and past it, max_concurrency at once, malformed requests,
and auth."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from benchmarking.server_api import bearer_headers
from evals.spec_tests.client import LONG_TIMEOUT_S
from evals.spec_tests.prompts import long_prompt
from evals.spec_tests.suite import CHAT, COMPLETIONS, Suite, usage_of
from evals.spec_tests.verdict import CheckSkipped, expect

Evidence = dict[str, object]
ANSWER_TOKENS = 8
MARGIN_TOKENS = 8
PAST_CONTEXT_TOKENS = 16


def max_context_prompt(suite: Suite) -> Evidence:
    """A prompt that fills max_context but for max_tokens and a margin is answered."""
    target = suite.max_context - ANSWER_TOKENS - MARGIN_TOKENS
    prompt, exact = long_prompt(suite.client, target, at_most=True)
    body = {"prompt": prompt, "max_tokens": ANSWER_TOKENS, "temperature": 0}
    usage = usage_of(suite.client.post(COMPLETIONS, body, timeout=LONG_TIMEOUT_S))
    if exact:
        expect(
            usage["prompt_tokens"] == target, f"prompt_tokens {usage['prompt_tokens']} ≠ {target}"
        )
    return {"prompt_tokens_sent": target, "exact": exact, "usage": usage}


def over_max_context_rejected(suite: Suite) -> Evidence:
    """A prompt past max_context gets a 4xx (not a 5xx or a hang-up); the server still answers."""
    prompt, exact = long_prompt(
        suite.client, suite.max_context + PAST_CONTEXT_TOKENS, at_most=False
    )
    body = {"prompt": prompt, "max_tokens": ANSWER_TOKENS}
    reply = suite.client.send(COMPLETIONS, suite.client.encoded(body), LONG_TIMEOUT_S)
    status = reply.status_code
    found = {"status": status, "exact": exact, "body": reply.text[:200]}
    expect(
        400 <= status < 500, f"a prompt past max_context answered HTTP {status}, not a 4xx", found
    )
    after = usage_of(suite.complete(max_tokens=2))
    return {**found, "answered_after": after}


def max_concurrency(suite: Suite) -> Evidence:
    """max_concurrency requests at once all succeed."""
    started = time.monotonic()

    def one(index: int) -> int:
        prompt = f"Request {index}: the three primary colors are"
        return usage_of(suite.complete(prompt=prompt, max_tokens=ANSWER_TOKENS))[
            "completion_tokens"
        ]

    with ThreadPoolExecutor(suite.max_concurrency) as pool:
        counts = list(pool.map(one, range(suite.max_concurrency)))
    expect(all(n > 0 for n in counts), f"some concurrent answers were empty: {counts}")
    return {"requests": len(counts), "completion_tokens": counts, "wall_s": _since(started)}


def _since(started: float) -> float:
    return round(time.monotonic() - started, 2)


def malformed_requests(suite: Suite) -> Evidence:
    """Broken JSON and a chat request without messages are the client's fault: a 4xx."""
    statuses = {
        "invalid_json": suite.client.send(CHAT, b'{"model": x').status_code,
        "missing_messages": suite.client.send(CHAT, suite.client.encoded({})).status_code,
    }
    wrong = {name: s for name, s in statuses.items() if not 400 <= s < 500}
    expect(not wrong, f"malformed requests answered without a 4xx: {wrong}", statuses)
    return {"statuses": statuses}


def auth_required(suite: Suite) -> Evidence:
    if not suite.token:
        raise CheckSkipped("auth is off")
    body = suite.client.encoded({"prompt": "Hi", "max_tokens": 1})
    statuses = {
        "no_token": suite.client.with_headers({}).send(COMPLETIONS, body).status_code,
        "wrong_token": suite.client.with_headers(bearer_headers(f"not-{suite.token}"))
        .send(COMPLETIONS, body)
        .status_code,
    }
    wrong = {name: s for name, s in statuses.items() if s != 401}
    expect(not wrong, f"requests without the right token were not refused with 401: {wrong}")
    return {"statuses": statuses}
