"""Prompts of an exact length in the server's own tokens: one token's id repeated, the id from
the server's /tokenize; without /tokenize, words (about one token each, under the target)."""

from __future__ import annotations

import requests

from benchmarking.deadline import DeadlineExceeded
from evals.spec_tests.client import Client

WORD = " hello"
WORDS_SHARE = 0.8  # without a tokenizer, stay well under the target: words may be >1 token


def long_prompt(client: Client, tokens: int, at_most: bool) -> tuple[str | list[int], bool]:
    """A completions prompt of `tokens` tokens; and whether the count is exact. Inexact: with
    `at_most`, surely no more tokens (fewer words), else surely no fewer (a word each)."""
    token = one_token_id(client)
    if token is None:
        words = int(tokens * WORDS_SHARE) if at_most else tokens
        return (WORD * words).strip(), False
    return [token] * tokens, True


def one_token_id(client: Client) -> int | None:
    """The id of WORD's last token (a BOS the server adds comes first), or None."""
    try:
        reply = client.send("/tokenize", client.encoded({"content": WORD, "prompt": WORD}))
    except (requests.RequestException, DeadlineExceeded):
        return None
    if not reply.ok:
        return None
    tokens = reply.json().get("tokens") or []
    return tokens[-1] if tokens and isinstance(tokens[-1], int) else None
