"""Per-request results, computed from parsed events: TTFT, per-token ITL, E2EL, token counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import orjson

from benchmarking.client.connection import RawResponse
from benchmarking.client.parse import parse_response

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
    client_output_tokens: int = 0
    ttft_ms: float | None = None
    first_chunk_ms: float | None = None
    itl_ms: list[float] = field(default_factory=list)
    e2el_ms: float | None = None
    token_ns: list[int] = field(default_factory=list)

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
    index: int, raw: RawResponse, scheduled_ns: int, prompt_tokens: int, count: TokenCounter
) -> RequestResult:
    result = RequestResult(index, False, raw.error, scheduled_ns, raw.sent_ns, prompt_tokens)
    parsed = parse_response(raw)
    if parsed.status != 200:
        result.error = result.error or f"HTTP {parsed.status}: {_message(parsed.body)}"
        return result
    if not parsed.events:
        return _whole_body(result, parsed.body, raw, count)
    _apply_events(result, parsed.events, count)
    result.success = result.error is None and result.ttft_ms is not None
    if result.ttft_ms is None and result.error is None:
        result.error = "the stream carried no generated text"
    return result


def _apply_events(
    result: RequestResult, events: list[tuple[int, bytes]], count: TokenCounter
) -> None:
    previous_ns: int | None = None
    previous_usage = 0
    for stamp, payload in events:
        if payload == b"[DONE]":
            break
        event = orjson.loads(payload)
        if "error" in event:
            result.error = f"error in stream: {_message(payload)}"
            break
        usage = event.get("usage") or {}
        if usage:
            result.server_prompt_tokens = usage.get("prompt_tokens")
            result.server_output_tokens = usage.get("completion_tokens")
        text = _text(event)
        if text is None:
            continue
        if not text:
            if result.first_chunk_ms is None:
                result.first_chunk_ms = (stamp - result.sent_ns) / 1e6
            continue
        reported = usage.get("completion_tokens") if usage else None
        tokens = max((reported - previous_usage) if reported else count(text), 1)
        previous_usage = reported or previous_usage + tokens
        _add_tokens(result, stamp, previous_ns, tokens)
        previous_ns = stamp


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


def _text(event: dict[str, object]) -> str | None:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices:
        return None
    choice = choices[0]
    if "delta" in choice:
        delta = choice["delta"] or {}
        return (delta.get("content") or "") + (delta.get("reasoning_content") or "")
    return choice.get("text") or ""


def _whole_body(
    result: RequestResult, body: bytes, raw: RawResponse, count: TokenCounter
) -> RequestResult:
    reply = orjson.loads(body)
    usage = reply.get("usage") or {}
    text = (
        _text(
            {
                "choices": [
                    {"text": c.get("text") or (c.get("message") or {}).get("content")}
                    for c in reply.get("choices", [])
                ]
            }
        )
        or ""
    )
    result.server_prompt_tokens = usage.get("prompt_tokens")
    result.server_output_tokens = usage.get("completion_tokens")
    result.client_output_tokens = count(text)
    last = raw.reads[-1][0]
    result.ttft_ms = result.e2el_ms = (last - raw.sent_ns) / 1e6
    result.success = True
    return result


def _message(payload: bytes) -> str:
    try:
        error = orjson.loads(payload).get("error", {})
    except (orjson.JSONDecodeError, AttributeError):
        return payload[:200].decode(errors="replace")
    if isinstance(error, dict):
        return str(error.get("message", error))[:200]
    return str(error)[:200]
