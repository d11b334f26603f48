"""The request fields the emulator honours beyond max_tokens and stream, for API conformance
tests: request validation, the context limit, `n`, `stop`, `logprobs`, and completions' list
prompts and `echo` (with the prompt's logprobs). The emulated model says TOKEN_TEXT over and over
(or the words sampling.py picks); given a stop list, it would say the first stop string halfway."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

TOKEN_TEXT = " tok"
LOGPROB = -0.1
ALTERNATIVES = ((TOKEN_TEXT, LOGPROB), (" tik", -2.5), (" tak", -3.0), (" tuk", -3.5))
LOADED_TOKEN_TEXT = " tak"  # what --answers-vary-with-load says when requests share a batch
NUMBERS = ("temperature", "top_p", "min_p", "presence_penalty", "frequency_penalty")


def parsed_body(
    raw: bytes, chat: bool, ignored: frozenset[str] = frozenset()
) -> tuple[dict[str, Any] | None, str]:
    """The request's JSON body without the `ignored` fields, or None and why it is a client
    error (a 400)."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return None, f"invalid JSON: {error}"
    if not isinstance(body, dict):
        return None, "the body is not a JSON object"
    body = {name: value for name, value in body.items() if name not in ignored}
    if chat and not isinstance(body.get("messages"), list):
        return None, "'messages' is required"
    if not chat and "prompt" not in body:
        return None, "'prompt' is required"
    wrong = [name for name in NUMBERS if name in body and not _is_number(body[name])]
    if wrong:
        return None, f"'{wrong[0]}' must be a number, not {body[wrong[0]]!r}"
    return body, ""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Answer:
    """One choice's text, token count and finish reason."""

    text: str
    tokens: int
    finish_reason: str
    words: tuple[str, ...] = ()  # each token's text; () for TOKEN_TEXT throughout

    def word(self, index: int) -> str:
        return self.words[index] if index < len(self.words) else TOKEN_TEXT


def under_load(said: Answer) -> Answer:
    """The answer of a server whose batched decoding goes wrong: another word throughout."""
    text = said.text
    for word in set(said.words) or {TOKEN_TEXT}:
        text = text.replace(word, LOADED_TOKEN_TEXT)
    words = tuple(LOADED_TOKEN_TEXT for _ in range(said.tokens))
    return replace(said, text=text, words=words)


def answer(
    body: dict[str, Any], max_tokens: int, ignore_stop: bool, words: Sequence[str] = ()
) -> Answer:
    """The first `max_tokens` of `words` (TOKEN_TEXT each if none), cut halfway by a stop list."""
    said = tuple(words) or (TOKEN_TEXT,) * max_tokens
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else list(stop or [])
    if not stops or max_tokens < 2:
        return Answer("".join(said[:max_tokens]), max_tokens, "length", said)
    halfway = max_tokens // 2
    if not ignore_stop:
        return Answer("".join(said[:halfway]), halfway, "stop", said)
    rest = "".join(said[halfway + 1 : max_tokens])
    return Answer("".join(said[:halfway]) + stops[0] + rest, max_tokens, "length", said)


def choices(body: dict[str, Any], chat: bool, said: Answer) -> list[dict[str, Any]]:
    """`n` choices (default 1) for each prompt of a completions list, each with logprobs when
    asked for; completions with `echo` say the prompt first."""
    n = max(int(body.get("n") or 1), 1)
    prompts = [""] if chat else completion_prompts(body)
    asked = [prompt for prompt in prompts for _ in range(n)]
    return [_choice(body, chat, said, index, prompt) for index, prompt in enumerate(asked)]


def _choice(
    body: dict[str, Any], chat: bool, said: Answer, index: int, prompt: str
) -> dict[str, Any]:
    choice: dict[str, Any] = {"index": index, "finish_reason": said.finish_reason}
    echo = not chat and bool(body.get("echo"))
    if chat:
        choice["message"] = {"role": "assistant", "content": said.text}
    else:
        choice["text"] = prompt + said.text if echo else said.text
    if body.get("logprobs"):
        choice["logprobs"] = logprobs(body, chat, said)
        if echo:
            choice["logprobs"] = with_prompt(body, choice["logprobs"], prompt)
    return choice


def completion_prompts(body: dict[str, Any]) -> list[str]:
    """A completions request's prompts: a list of strings (or of token lists) is several."""
    prompt = body.get("prompt", "")
    if isinstance(prompt, list) and prompt and isinstance(prompt[0], str | list):
        return [_prompt_string(item) for item in prompt]
    return [_prompt_string(prompt)]


def _prompt_string(prompt: object) -> str:
    return prompt if isinstance(prompt, str) else " ".join(map(str, prompt))  # type: ignore[call-overload]


def with_prompt(body: dict[str, Any], legacy: dict[str, Any], prompt: str) -> dict[str, Any]:
    """Completions logprobs with the prompt's tokens first (a word each), the first of them
    without a logprob, as OpenAI's `echo` gives them."""
    words = prompt.split()
    tokens = words[:1] + [f" {word}" for word in words[1:]] + legacy["tokens"]
    offsets, at = [], 0
    for token in tokens:
        offsets.append(at)
        at += len(token)
    return {
        "tokens": tokens,
        "token_logprobs": [None] + [LOGPROB] * (len(tokens) - 1),
        "top_logprobs": [None] + [dict(ALTERNATIVES[: int(body["logprobs"])])] * (len(tokens) - 1),
        "text_offset": offsets,
    }


def logprobs(body: dict[str, Any], chat: bool, said: Answer) -> dict[str, Any]:
    """Chat's shape (content[] with top_logprobs[]) or completions' (OpenAI's legacy lists)."""
    tokens = [said.word(index) for index in range(said.tokens)]
    if chat:
        top = [
            {"token": t, "logprob": p}
            for t, p in ALTERNATIVES[: int(body.get("top_logprobs") or 0)]
        ]
        return {"content": [{"token": t, "logprob": LOGPROB, "top_logprobs": top} for t in tokens]}
    alternatives = dict(ALTERNATIVES[: int(body["logprobs"])])
    return {
        "tokens": tokens,
        "token_logprobs": [LOGPROB] * len(tokens),
        "top_logprobs": [alternatives] * len(tokens),
        "text_offset": [len(TOKEN_TEXT) * i for i in range(len(tokens))],
    }
