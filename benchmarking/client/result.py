"""Per-request results, computed from parsed events: TTFT, per-token ITL, E2EL, token counts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from benchmarking.client.connection import RawResponse
from benchmarking.client.parse import MalformedResponse, parse_response

TokenCounter = Callable[[str], int]


@dataclass
class RequestResult:
    index: int
    success: bool
    error: str | None
    scheduled_ns: int
    sent_ns: int
    prompt_tokens: int
    server_prompt_tokens: int | None = None
    server_output_tokens: int | None = None
    cached_tokens: int | None = None  # prompt tokens the server took from its prompt cache
    client_output_tokens: int = 0
    ttft_ms: float | None = None
    first_chunk_ms: float | None = None
    itl_ms: list[float] = field(default_factory=list)
    e2el_ms: float | None = None
    token_ns: list[int] = field(default_factory=list)
    response_model: str | None = None  # the `model` the stream's first chunk named

    @property
    def output_tokens(self) -> int:
        """Server-reported count when the server reports one, else the client's."""
        if self.server_output_tokens is not None:
            return self.server_output_tokens
        return self.client_output_tokens

    @property
    def queue_ms(self) -> float:
        return max(self.sent_ns - self.scheduled_ns, 0) / 1e6

    @property
    def tpot_ms(self) -> float | None:
        if self.ttft_ms is None or self.e2el_ms is None or self.output_tokens <= 1:
            return None
        return (self.e2el_ms - self.ttft_ms) / (self.output_tokens - 1)


def build_result(
    index: int,
    raw: RawResponse,
    scheduled_ns: int,
    prompt_tokens: int,
    count: TokenCounter,
    model: str | None = None,
) -> RequestResult:
    """Never raises: whatever the server sent, or failed to send, becomes a result; one that is
    not a complete, well-formed answer is a failed one, with the reason, as is one whose first
    chunk names another model than `model` (the served one; None: not checked)."""
    result = RequestResult(index, False, raw.error, scheduled_ns, raw.sent_ns, prompt_tokens)
    if raw.unframed:
        return result
    try:
        _read(result, raw, count)
        _check_model(result, model)
    except MalformedResponse as error:
        result.error = result.error or f"malformed response: {error}"
    except Exception as error:  # anything unforeseen in a response is still data, not a crash
        result.error = result.error or f"unreadable response: {type(error).__name__}: {error}"
    result.success = result.success and result.error is None
    return result


def _read(result: RequestResult, raw: RawResponse, count: TokenCounter) -> None:
    parsed = parse_response(raw)
    if parsed.status == 0:
        result.error = result.error or "no response: the connection closed before the headers"
    elif parsed.status != 200:
        result.error = f"HTTP {parsed.status}: {_message(parsed.body) or '(empty body)'}"
    elif not parsed.events:  # every request asks for a stream: anything else is no answer
        result.error = result.error or f"HTTP 200 without a stream: {_excerpt(parsed.body)}"
    else:
        _read_stream(result, parsed.events, count)


def _read_stream(
    result: RequestResult, events: list[tuple[int, bytes]], count: TokenCounter
) -> None:
    finished = _apply_events(result, events, count)
    if result.error is not None:
        return
    if result.ttft_ms is None:
        result.error = "the stream ended without a token"
    elif not finished:
        result.error = "the stream ended without [DONE]"
    result.success = result.error is None


def _check_model(result: RequestResult, model: str | None) -> None:
    """A stream whose first chunk names another model was answered by another model (or a proxy
    routed it to one): not the evidence asked for, so a failed request. A chunk without `model`
    is not judged (the spec tests' response_model check is)."""
    named = result.response_model
    if model is not None and named is not None and named != model and result.error is None:
        result.error = f"answered as {named}, not {model}"


def _excerpt(body: bytes, most: int = 120) -> str:
    """The body's first characters, on one line, marked where it was cut."""
    text = " ".join(body.decode(errors="replace").split())
    if not text:
        return "(empty body)"
    return text if len(text) <= most else text[:most] + "..."


def _apply_events(
    result: RequestResult, events: list[tuple[int, bytes]], count: TokenCounter
) -> bool:
    """Apply each event in turn; whether the stream ended with [DONE]. An error event or a
    malformed one ends the reading and is recorded."""
    previous_ns: int | None = None
    previous_usage = 0
    for stamp, payload in events:
        if payload == b"[DONE]":
            return True
        event = _event(payload)
        if event is None:
            result.error = result.error or f"malformed event in the stream: {payload[:80]!r}"
            return False
        if result.response_model is None:  # the first chunk naming one, then a field test
            result.response_model = _model(event)
        if "error" in event:
            result.error = f"error in stream: {_message(payload)}"
            return False
        reported = _usage(result, event)
        text = _text(event)
        if text is None:
            continue
        if not text:
            if result.first_chunk_ms is None:
                result.first_chunk_ms = (stamp - result.sent_ns) / 1e6
            continue
        # a chunk with text carries at least one token, however the counter splits it
        tokens = max((reported - previous_usage) if reported else count(text), 1)
        previous_usage = reported or previous_usage + tokens
        _add_tokens(result, stamp, previous_ns, tokens)
        previous_ns = stamp
    return False


def _event(payload: bytes) -> dict[str, Any] | None:
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def _usage(result: RequestResult, event: Mapping[str, Any]) -> int | None:
    """Token counts a chunk reports (OpenAI usage; llama.cpp's timings.cache_n for the cached
    prompt tokens when usage lacks them); the completion count it reports, if any."""
    usage = event.get("usage")
    timings = event.get("timings")
    if isinstance(timings, dict) and _count(timings.get("cache_n")) is not None:
        result.cached_tokens = _count(timings.get("cache_n"))
    if not isinstance(usage, dict) or not usage:
        return None
    result.server_prompt_tokens = _count(usage.get("prompt_tokens"))
    result.server_output_tokens = _count(usage.get("completion_tokens"))
    details = usage.get("prompt_tokens_details")
    if isinstance(details, dict) and _count(details.get("cached_tokens")) is not None:
        result.cached_tokens = _count(details.get("cached_tokens"))
    return result.server_output_tokens


def _model(event: Mapping[str, Any]) -> str | None:
    model = event.get("model")
    return model if isinstance(model, str) else None


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _add_tokens(result: RequestResult, stamp: int, previous_ns: int | None, tokens: int) -> None:
    """A chunk of `tokens` tokens: its gap since the previous chunk is split evenly among them.
    The tokens that came with the first one arrived with no gap: they get ITL 0, so every
    request has one ITL per token after the first, summing to E2EL - TTFT (as TPOT counts)."""
    if result.first_chunk_ms is None:
        result.first_chunk_ms = (stamp - result.sent_ns) / 1e6
    if previous_ns is None:
        result.ttft_ms = (stamp - result.sent_ns) / 1e6
        result.itl_ms.extend([0.0] * (tokens - 1))
    else:
        share = (stamp - previous_ns) / tokens / 1e6
        result.itl_ms.extend([share] * tokens)
    result.client_output_tokens += tokens
    result.token_ns.append(stamp)
    result.e2el_ms = (stamp - result.sent_ns) / 1e6


def _text(event: Mapping[str, Any]) -> str | None:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    choice = choices[0]
    if "delta" in choice:
        delta = choice["delta"] or {}
        return str(delta.get("content") or "") + str(delta.get("reasoning_content") or "")
    return str(choice.get("text") or "")


def _message(payload: bytes) -> str:
    """The error message of a JSON error body, else the body's first bytes as text."""
    try:
        error = orjson.loads(payload).get("error", {})
    except (orjson.JSONDecodeError, AttributeError):
        return payload[:200].decode(errors="replace").strip()
    if isinstance(error, dict):
        return str(error.get("message", error))[:200]
    return str(error)[:200]
