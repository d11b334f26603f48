"""Sampling and what the server reports about it: repeatability, logprobs, streamed against
whole answers, and usage counts."""

from __future__ import annotations

from typing import Any

from evals.spec_tests.suite import (
    CHAT,
    COMPLETIONS,
    MESSAGES,
    PROMPT,
    Suite,
    first_choice,
    text_of,
    usage_of,
)
from evals.spec_tests.verdict import CheckFailed, expect

Evidence = dict[str, object]
STORY = "Once upon a time"


def temperature_zero_repeatable(suite: Suite) -> Evidence:
    texts = [text_of(suite.complete(prompt=STORY, max_tokens=24, temperature=0)) for _ in "12"]
    expect(texts[0] == texts[1], "temperature 0 gave two different texts", {"texts": texts})
    return {"text": texts[0]}


def seed_repeatable(suite: Suite) -> Evidence:
    sent = {"prompt": STORY, "max_tokens": 24, "temperature": 1.0, "seed": 1234}
    texts = [text_of(suite.complete(**sent)) for _ in "12"]
    expect(texts[0] == texts[1], "the same seed at temperature 1 gave two texts", {"texts": texts})
    return {"sent": sent, "text": texts[0]}


def chat_logprobs(suite: Suite) -> Evidence:
    """logprobs: true, top_logprobs: 2 → one entry per token, each with two alternatives."""
    answer = suite.chat(max_tokens=4, temperature=0, logprobs=True, top_logprobs=2)
    content = (first_choice(answer).get("logprobs") or {}).get("content")
    if not isinstance(content, list) or not content:
        raise CheckFailed("no choices[0].logprobs.content list", {"answer": answer})
    expect(len(content) == usage_of(answer)["completion_tokens"], "logprob entries ≠ tokens")
    for item in content:
        expect(_token_entry(item), f"a logprobs entry lacks token/logprob: {item}")
        tops = item.get("top_logprobs")
        expect(isinstance(tops, list) and len(tops) == 2, f"top_logprobs is not 2 long: {tops}")
        expect(all(_token_entry(top) for top in tops), f"a top_logprobs entry is malformed: {tops}")
    return {"tokens": [item["token"] for item in content], "top_logprobs_each": 2}


def _token_entry(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("token"), str)
        and isinstance(item.get("logprob"), int | float)
    )


def completions_logprobs(suite: Suite) -> Evidence:
    """OpenAI's legacy shape: tokens, token_logprobs, top_logprobs (dicts), text_offset."""
    answer = suite.complete(max_tokens=4, temperature=0, logprobs=2)
    logprobs = first_choice(answer).get("logprobs")
    if not isinstance(logprobs, dict) or not isinstance(logprobs.get("tokens"), list):
        raise CheckFailed("choices[0].logprobs has no tokens list", {"logprobs": logprobs})
    n = usage_of(answer)["completion_tokens"]
    lengths = {k: len(logprobs.get(k) or []) for k in ("tokens", "token_logprobs", "text_offset")}
    expect(set(lengths.values()) == {n}, f"logprobs lists ≠ {n} tokens: {lengths}")
    tops = logprobs.get("top_logprobs") or []
    sizes = [len(top) if isinstance(top, dict) else -1 for top in tops]
    expect(len(sizes) == n and all(2 <= s <= 3 for s in sizes), f"top_logprobs sizes {sizes}")
    return {"tokens": logprobs["tokens"], "top_logprobs_sizes": sizes}


def stream_matches_non_stream(suite: Suite) -> Evidence:
    """At temperature 0 the streamed text is the whole answer's text, on both endpoints."""
    sent = {"max_tokens": 24, "temperature": 0}
    pairs = {
        "completions": (
            text_of(suite.complete(**sent)),
            suite.client.stream(COMPLETIONS, {"prompt": PROMPT, **sent}).text,
        ),
        "chat": (
            text_of(suite.chat(**sent)),
            suite.client.stream(CHAT, {"messages": MESSAGES, **sent}).text,
        ),
    }
    differ = {name: list(pair) for name, pair in pairs.items() if pair[0] != pair[1]}
    expect(not differ, f"streamed and whole texts differ: {differ}", {"differ": differ})
    return {"texts": {name: pair[0] for name, pair in pairs.items()}}


def usage_counts(suite: Suite) -> Evidence:
    """A streamed answer's usage counts the tokens it streamed; its prompt_tokens match the
    whole answer's."""
    sent = {"messages": MESSAGES, "temperature": 0, "logprobs": True, **suite.eos_ignored(16)}
    whole = usage_of(suite.client.post(CHAT, sent))
    reply = suite.client.stream(CHAT, {**sent, "stream_options": {"include_usage": True}})
    expect(reply.usage is not None, "no usage in the stream (stream_options include_usage)")
    usage = reply.usage or {}
    counted = reply.logprob_tokens or reply.content_chunks
    found = {"stream_usage": usage, "whole_usage": whole, "streamed_tokens": counted}
    reported, prompt = (
        usage.get("completion_tokens"),
        (usage.get("prompt_tokens"), whole["prompt_tokens"]),
    )
    expect(reported == counted, f"usage.completion_tokens {reported} ≠ {counted} streamed", found)
    expect(prompt[0] == prompt[1], f"prompt_tokens streamed {prompt[0]} ≠ whole {prompt[1]}", found)
    expect(
        whole["completion_tokens"] == 16,
        f"whole answer: {whole['completion_tokens']} ≠ 16 tokens",
        found,
    )
    return found
