"""A broken server's answers to a streamed request (`--stream-reply`): HTTP 200 without the
stream that was asked for, a head whose Content-Length is no number, a stream without a token."""

from __future__ import annotations

import asyncio

import orjson

from benchmarking.emulator.http import Response
from benchmarking.emulator.openai_fields import TOKEN_TEXT

ERROR_BODY = {"error": {"message": "the model is not loaded", "type": "server_error", "code": 503}}


def answer_broken(kind: str, response: Response, model: str) -> None:
    """Answer a streamed request the `kind` of wrong way (one of timing.STREAM_REPLIES)."""
    if kind == "empty-json":
        response.json(200, {})
    elif kind == "error-json":
        response.json(200, ERROR_BODY)
    elif kind == "bad-length":
        response.transport.write(bad_length_response(model))
    elif kind == "no-tokens":
        tokenless_stream(response, model)
    else:
        raise ValueError(f"no broken reply {kind!r}")


def echo_auth_error(response: Response, status: int, authorization: str) -> None:
    """An error (HTTP 401, say) whose message quotes the Authorization header it got."""
    message = f"bad token {authorization or '(none)'}"
    response.json(status, {"error": {"message": message, "type": "auth_error", "code": status}})


def drip_forever(response: Response, bytes_per_s: float) -> None:
    """A head promising a large body, then the body a byte at a time, `bytes_per_s` a second,
    until the client hangs up: every socket read gets a byte in time, the answer never ends."""
    response.transport.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n"
    )
    _drip_one(response, 1.0 / bytes_per_s)


def _drip_one(response: Response, interval_s: float) -> None:
    if response.closed:
        return
    response.transport.write(b" ")
    asyncio.get_running_loop().call_later(interval_s, _drip_one, response, interval_s)


def bad_length_response(model: str) -> bytes:
    """A whole token stream, under a head whose Content-Length is not a number."""
    events = [_event(model, TOKEN_TEXT, None), _event(model, TOKEN_TEXT, "length"), b"[DONE]"]
    body = b"".join(b"data: " + event + b"\n\n" for event in events)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: abc\r\n\r\n"
    return head + body


def tokenless_stream(response: Response, model: str) -> None:
    """A well-formed stream that finishes at once: an empty text, usage of 0 tokens, [DONE]."""
    response.start_stream()
    response.event(_event(model, "", "stop"))
    usage = {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1}
    response.event(orjson.dumps({"model": model, "choices": [], "usage": usage}))
    response.end_stream()


def _event(model: str, text: str, finish_reason: str | None) -> bytes:
    choice = {"index": 0, "text": text, "finish_reason": finish_reason}
    return orjson.dumps({"object": "text_completion", "model": model, "choices": [choice]})
