"""The request fields the emulator honours beyond max_tokens and stream, for API conformance
tests: request validation, the context limit, `n`, `stop` and `logprobs`. The emulated model
says TOKEN_TEXT over and over; given a stop list, it would say the first stop string halfway."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson

TOKEN_TEXT = " tok"
LOGPROB = -0.1
ALTERNATIVES = ((TOKEN_TEXT, LOGPROB), (" tik", -2.5), (" tak", -3.0), (" tuk", -3.5))
LOADED_TOKEN_TEXT = " tak"  # what --answers-vary-with-load says when requests share a batch


def parsed_body(raw: bytes, chat: bool) -> tuple[dict[str, Any] | None, str]:
    """The request's JSON body, or None and why it is a client error (a 400)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return None, f"invalid JSON: {error}"
    if not isinstance(body, dict):
        return None, "the body is not a JSON object"
    if chat and not isinstance(body.get("messages"), list):
        return None, "'messages' is required"
    if not chat and "prompt" not in body:
        return None, "'prompt' is required"
    return body, ""


@dataclass(frozen=True)
class Answer:
    """One choice's text, token count and finish reason."""

    text: str
    tokens: int
    finish_reason: str
    token: str = TOKEN_TEXT  # the word the text repeats


def under_load(said: Answer) -> Answer:
    """The answer of a server whose batched decoding goes wrong: another word throughout."""
    text = said.text.replace(TOKEN_TEXT, LOADED_TOKEN_TEXT)
    return replace(said, text=text, token=LOADED_TOKEN_TEXT)


def answer(body: dict[str, Any], max_tokens: int, ignore_stop: bool) -> Answer:
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    if not stops or max_tokens < 2:
        return Answer(TOKEN_TEXT * max_tokens, max_tokens, "length")
    halfway = max_tokens // 2
    if not ignore_stop:
        return Answer(TOKEN_TEXT * halfway, halfway, "stop")
    rest = TOKEN_TEXT * (max_tokens - halfway - 1)
    return Answer(TOKEN_TEXT * halfway + stops[0] + rest, max_tokens, "length")


def choices(body: dict[str, Any], chat: bool, said: Answer) -> list[dict[str, Any]]:
    """`n` choices (default 1), each with logprobs when asked for."""
    made = []
    for index in range(max(int(body.get("n") or 1), 1)):
        choice: dict[str, Any] = {"index": index, "finish_reason": said.finish_reason}
        if chat:
            choice["message"] = {"role": "assistant", "content": said.text}
        else:
            choice["text"] = said.text
        if body.get("logprobs"):
            choice["logprobs"] = logprobs(body, chat, said.tokens, said.token)
        made.append(choice)
    return made


def logprobs(
    body: dict[str, Any], chat: bool, tokens: int, token: str = TOKEN_TEXT
) -> dict[str, Any]:
    """Chat's shape (content[] with top_logprobs[]) or completions' (OpenAI's legacy lists)."""
    if chat:
        top = [
            {"token": t, "logprob": p}
            for t, p in ALTERNATIVES[: int(body.get("top_logprobs") or 0)]
        ]
        entry = {"token": token, "logprob": LOGPROB, "top_logprobs": top}
        return {"content": [entry] * tokens}
    alternatives = dict(ALTERNATIVES[: int(body["logprobs"])])
    return {
        "tokens": [token] * tokens,
        "token_logprobs": [LOGPROB] * tokens,
        "top_logprobs": [alternatives] * tokens,
        "text_offset": [len(TOKEN_TEXT) * i for i in range(tokens)],
    }
