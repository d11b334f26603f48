"""Correctness under load: the same temperature-0 prompts answered one at a time, then all at
once at the spec's max_concurrency. Each answer given together should be the one given alone
(its tokens when the engine returns them, else its text); at least the spec's share must be."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

from evals.spec_tests.suite import COMPLETIONS, Suite, first_choice, text_of
from evals.spec_tests.verdict import expect

Evidence = dict[str, object]
MAX_TOKENS = 16  # short: the CPU release stays quick, and the answers fit in a report line
LISTED = 8  # differing prompts a message names; the evidence holds all of them
PROMPT_STEMS = (
    "The capital of France is",
    "Water boils at a temperature of",
    "The largest planet in the solar system is",
    "A week has seven days: Monday,",
    "To make a cup of tea, first",
    "The opposite of hot is",
    "Two plus two equals",
    "The color of the sky on a clear day is",
)


@dataclass(frozen=True)
class Answer:
    text: str
    tokens: tuple[object, ...] | None  # token ids or token strings; None: the engine gave none
    leads: tuple[float | None, ...] = ()  # per token: its logprob above the runner-up's

    def first_difference(self, other: Answer) -> int | None:
        """The index of the first token the two answers differ in (where the shorter ends, if
        one is the other's start); None without tokens, or when they are the same."""
        if self.tokens is None or other.tokens is None or self.tokens == other.tokens:
            return None
        pairs = enumerate(zip(self.tokens, other.tokens, strict=False))
        index = next((i for i, (a, b) in pairs if a != b), None)
        return min(len(self.tokens), len(other.tokens)) if index is None else index

    def lead_at(self, index: int | None) -> float | None:
        """How far the token at `index` led the runner-up (near 0: a near tie), if known."""
        return self.leads[index] if index is not None and index < len(self.leads) else None


@dataclass(frozen=True)
class Comparison:
    """Each prompt's answer alone and together, compared by tokens when every answer has them."""

    prompts: Sequence[str]
    alone: Sequence[Answer]
    together: Sequence[Answer]

    @property
    def by_tokens(self) -> bool:
        return all(a.tokens is not None for a in (*self.alone, *self.together))

    @property
    def compared(self) -> str:
        return "tokens" if self.by_tokens else "text"

    def matches(self) -> list[bool]:
        pairs = zip(self.alone, self.together, strict=True)
        if self.by_tokens:
            return [a.tokens == b.tokens for a, b in pairs]
        return [a.text == b.text for a, b in pairs]

    def differing(self) -> list[tuple[str, Answer, Answer]]:
        rows = zip(self.prompts, self.alone, self.together, self.matches(), strict=True)
        return [(prompt, a, b) for prompt, a, b, same in rows if not same]

    @property
    def share(self) -> float:
        matches = self.matches()
        return sum(matches) / len(matches)


def load_prompts(count: int) -> list[str]:
    """`count` distinct short prompts (one per request in flight at max_concurrency)."""
    return [f"Question {i + 1}: {PROMPT_STEMS[i % len(PROMPT_STEMS)]}" for i in range(count)]


def answers_under_load(suite: Suite) -> Evidence:
    """At max_concurrency, at least the spec's share of answers are those given alone."""
    prompts = load_prompts(suite.max_concurrency)
    started = time.monotonic()
    alone = [ask(suite, prompt) for prompt in prompts]
    halfway = time.monotonic()
    with ThreadPoolExecutor(len(prompts)) as pool:
        together = list(pool.map(partial(ask, suite), prompts))
    comparison = Comparison(prompts, alone, together)
    minimum = suite.answers_under_load_min_share
    found = evidence(comparison, minimum)
    found["wall_s"] = {"alone": _seconds(started, halfway), "together": _since(halfway)}
    expect(comparison.share >= minimum, failure_message(comparison, minimum), found)
    return {"note": summary(comparison, minimum), **found}


def ask(suite: Suite, prompt: str) -> Answer:
    body = {"prompt": prompt, "max_tokens": MAX_TOKENS, "temperature": 0, "logprobs": 2}
    answer = suite.client.post(COMPLETIONS, body)
    choice = first_choice(answer)
    return Answer(text_of(answer), tokens_of(choice), leads_of(choice))


def tokens_of(choice: dict[str, Any]) -> tuple[object, ...] | None:
    """The answer's tokens: vLLM's `token_ids`, else from its logprobs (llama.cpp's chat-shaped
    `content[]` with ids, or OpenAI's completions `tokens`); None when there are none."""
    if isinstance(choice.get("token_ids"), list):
        return tuple(choice["token_ids"])
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict):
        return None
    content = logprobs.get("content")
    if isinstance(content, list) and content and all(isinstance(e, dict) for e in content):
        return tuple(entry.get("id", entry.get("token")) for entry in content)
    tokens = logprobs.get("tokens")
    return tuple(tokens) if isinstance(tokens, list) and tokens else None


def leads_of(choice: dict[str, Any]) -> tuple[float | None, ...]:
    """Per token, its logprob above the runner-up's, from the top 2 logprobs (llama.cpp's
    `content[].top_logprobs`, or OpenAI's completions `top_logprobs` dicts)."""
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict):
        return ()
    content = logprobs.get("content")
    if isinstance(content, list):
        tops = [_top_logprobs(entry) for entry in content]
    else:
        tops = [_values(top) for top in logprobs.get("top_logprobs") or ()]
    return tuple(_lead(values) for values in tops)


def _top_logprobs(entry: Any) -> list[Any]:
    tops = entry.get("top_logprobs") if isinstance(entry, dict) else None
    return [top.get("logprob") for top in tops if isinstance(top, dict)] if tops else []


def _values(top: Any) -> list[Any]:
    return list(top.values()) if isinstance(top, dict) else []


def _lead(values: list[Any]) -> float | None:
    ranked = sorted((v for v in values if isinstance(v, int | float)), reverse=True)
    return round(ranked[0] - ranked[1], 4) if len(ranked) >= 2 else None


def evidence(comparison: Comparison, minimum: float) -> Evidence:
    matches = comparison.matches()
    return {
        "concurrency": len(comparison.prompts),
        "max_tokens": MAX_TOKENS,
        "compared": comparison.compared,
        "matched": sum(matches),
        "share": round(comparison.share, 4),
        "min_share": minimum,
        "match_by_prompt": dict(zip(comparison.prompts, matches, strict=True)),
        "differing": {
            prompt: {"alone": a.text, "together": b.text, **_where(a, b)}
            for prompt, a, b in comparison.differing()
        },
    }


def _where(alone: Answer, together: Answer) -> dict[str, object]:
    index = alone.first_difference(together)
    if index is None:
        return {}
    return {"first_differing_token": index + 1, "lead_alone": alone.lead_at(index)}


def summary(comparison: Comparison, minimum: float) -> str:
    matched, total = sum(comparison.matches()), len(comparison.prompts)
    return (
        f"{matched} of {total} answers at concurrency {total} are those given alone "
        f"(share {comparison.share:.3f}, needs {minimum:.3f}; compared by {comparison.compared})"
    )


def failure_message(comparison: Comparison, minimum: float) -> str:
    differing = comparison.differing()
    listed = "; ".join(
        f"{json.dumps(prompt)}: alone {shown(a, b)}, together {shown(b, a)}{tie(a, b)}"
        for prompt, a, b in differing[:LISTED]
    )
    more = len(differing) - LISTED
    rest = f"; and {more} more in spec_tests.json" if more > 0 else ""
    return f"{summary(comparison, minimum)}; differing: {listed}{rest}"


def tie(alone: Answer, together: Answer) -> str:
    """Where the answers part, and whether that token was a near tie when answered alone."""
    where = _where(alone, together)
    if not where:
        return ""
    lead = where["lead_alone"]
    known = isinstance(lead, int | float)
    said = f"; alone it led the next by {lead:.3f} logprob" if known else ""
    return f" (token {where['first_differing_token']} differs{said})"


def shown(answer: Answer, other: Answer) -> str:
    """The answer's text on one line; its tokens too when the texts are the same."""
    text = json.dumps(answer.text)
    return f"{text} (tokens {list(answer.tokens or ())})" if answer.text == other.text else text


def _seconds(start: float, end: float) -> float:
    return round(end - start, 2)


def _since(start: float) -> float:
    return _seconds(start, time.monotonic())
