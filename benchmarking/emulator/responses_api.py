"""`POST /v1/responses`, OpenAI's Responses API, answered at once: a response object (one
message of output_text, usage in input/output tokens), or its stream of typed events
(response.created, response.output_text.delta per token, then response.completed, or
response.incomplete as here (the emulated model never stops), with usage)."""

from __future__ import annotations

from typing import Any

import orjson

from benchmarking.emulator.http import Response
from benchmarking.emulator.openai_fields import TOKEN_TEXT
from benchmarking.emulator.timing import count_tokens

Json = dict[str, Any]
DEFAULT_OUTPUT_TOKENS = 16


def answer_responses(response: Response, raw: bytes, model: str, request_id: str) -> None:
    try:
        body = orjson.loads(raw or b"{}")
    except orjson.JSONDecodeError as error:
        return response.json(400, _error(f"invalid JSON: {error}"))
    if not isinstance(body, dict) or "input" not in body:
        return response.json(400, _error("'input' is required"))
    tokens = int(body.get("max_output_tokens") or DEFAULT_OUTPUT_TOKENS)
    done = finished(body, model, request_id, tokens)
    if not body.get("stream"):
        return response.json(200, done)
    response.start_stream()
    for event in events(done, tokens):
        response.event(orjson.dumps(event))
    response.end_stream()


def finished(body: Json, model: str, request_id: str, tokens: int) -> Json:
    """The whole response object: stopped by max_output_tokens, so `incomplete`."""
    prompt = _input_text(body.get("input"))
    text = TOKEN_TEXT * tokens
    item: Json = {"type": "message", "id": "msg_0", "role": "assistant", "status": "incomplete"}
    item["content"] = [{"type": "output_text", "text": text, "annotations": []}]
    usage = {"input_tokens": count_tokens(prompt), "output_tokens": tokens}
    usage["total_tokens"] = usage["input_tokens"] + tokens
    return {
        "id": f"resp_{request_id}",
        "object": "response",
        "model": model,
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [item],
        "usage": usage,
    }


def events(done: Json, tokens: int) -> list[Json]:
    started = {**done, "status": "in_progress", "output": [], "usage": None}
    deltas = [
        {"type": "response.output_text.delta", "item_id": "msg_0", "delta": TOKEN_TEXT}
        for _ in range(tokens)
    ]
    text = done["output"][0]["content"][0]["text"]
    return [
        {"type": "response.created", "response": started},
        *deltas,
        {"type": "response.output_text.done", "item_id": "msg_0", "text": text},
        {"type": f"response.{done['status']}", "response": done},
    ]


def _input_text(given: object) -> str:
    if isinstance(given, str):
        return given
    items = given if isinstance(given, list) else []
    return " ".join(str(item.get("content", "")) for item in items if isinstance(item, dict))


def _error(message: str) -> Json:
    return {"error": {"message": message, "type": "invalid_request_error", "code": 400}}
