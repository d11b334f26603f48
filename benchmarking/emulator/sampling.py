"""Which words the emulated model says, given the sampling fields of a request.

TOKEN_TEXT over and over, unless: a `seed` at a temperature above 0 picks another of its words
(the same seed, the same word; `top_k` 1, `top_p` under 0.1 or `min_p` 1 keep the likeliest one,
TOKEN_TEXT); a `presence_penalty` or `frequency_penalty` above 0 makes it take its words in turn;
`logit_bias` of -100 on a word's id (the emulator's /tokenize ids) bans that word."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from benchmarking.emulator.openai_fields import ALTERNATIVES

WORDS = tuple(word for word, _ in ALTERNATIVES)  # the likeliest first
BANNED_BIAS = -100
GREEDY_TOP_P = 0.1


def spoken_words(body: Mapping[str, Any], count: int, word_of: Callable[[int], str]) -> list[str]:
    """`count` words, one a token; `word_of` names the word a token id stands for."""
    allowed = [word for word in WORDS if word.strip() not in banned(body, word_of)] or [WORDS[-1]]
    if penalised(body):
        return [allowed[index % len(allowed)] for index in range(count)]
    return [sampled_word(body, allowed)] * count


def banned(body: Mapping[str, Any], word_of: Callable[[int], str]) -> set[str]:
    bias = body.get("logit_bias")
    if not isinstance(bias, dict):
        return set()
    return {
        word_of(int(token))
        for token, value in bias.items()
        if str(token).isdigit() and isinstance(value, int | float) and value <= BANNED_BIAS
    }


def penalised(body: Mapping[str, Any]) -> bool:
    return any(_number(body, name) > 0 for name in ("presence_penalty", "frequency_penalty"))


def sampled_word(body: Mapping[str, Any], allowed: list[str]) -> str:
    seed = body.get("seed")
    if not isinstance(seed, int) or not samples(body):
        return allowed[0]
    return allowed[seed % len(allowed)]


def samples(body: Mapping[str, Any]) -> bool:
    """Whether a request samples at all: a temperature above 0 and no filter that keeps only
    the likeliest token."""
    greedy = (
        body.get("top_k") == 1
        or _number(body, "min_p") >= 1
        or 0 < _number(body, "top_p", 1.0) < GREEDY_TOP_P
    )
    return _number(body, "temperature", 1.0) > 0 and not greedy


def _number(body: Mapping[str, Any], name: str, default: float = 0.0) -> float:
    value = body.get(name)
    return float(value) if isinstance(value, int | float) else default
