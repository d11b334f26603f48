"""OpenAI's Responses API, `POST /v1/responses`: a text answer with usage, whole and as its
stream of typed events."""

from __future__ import annotations

from typing import Any

from evals.spec_tests.suite import Suite
from evals.spec_tests.verdict import expect

Evidence = dict[str, object]
RESPONSES = "/v1/responses"
ASKED = {"input": "Name three primary colors.", "max_output_tokens": 16, "temperature": 0}
ENDED = ("completed", "incomplete")  # incomplete: stopped by max_output_tokens
FINAL_EVENTS = tuple(f"response.{status}" for status in ENDED)


def responses(suite: Suite) -> Evidence:
    """A response object whose output holds a message of output_text, with usage counted."""
    answer = suite.client.post(RESPONSES, ASKED)
    expect(answer.get("object") == "response", f"object is {answer.get('object')!r}")
    expect(answer.get("status") in ENDED, f"status is {answer.get('status')!r}", {"answer": answer})
    text = output_text(answer)
    expect(bool(text), "the response has no output_text", {"output": answer.get("output")})
    return {"text": text, "status": answer["status"], "usage": checked_usage(answer)}


def output_text(response: dict[str, Any]) -> str:
    """The text of every output_text part of every message in the response's output."""
    return "".join(
        part.get("text") or ""
        for item in response.get("output") or []
        if isinstance(item, dict) and item.get("type") == "message"
        for part in item.get("content") or []
        if isinstance(part, dict) and part.get("type") == "output_text"
    )


def checked_usage(response: dict[str, Any]) -> dict[str, int]:
    usage = response.get("usage")
    expect(isinstance(usage, dict), f"the response has no usage: {usage!r}")
    counts = {
        key: (usage or {}).get(key) for key in ("input_tokens", "output_tokens", "total_tokens")
    }
    expect(all(isinstance(n, int) and n > 0 for n in counts.values()), f"usage counts {counts}")
    expect(
        counts["total_tokens"] == counts["input_tokens"] + counts["output_tokens"],  # type: ignore[operator]
        f"usage total_tokens ≠ input + output: {counts}",
    )
    return counts  # type: ignore[return-value]


def responses_stream(suite: Suite) -> Evidence:
    """response.created first, output_text deltas, and a final response.completed (or
    .incomplete) whose response carries the streamed text and usage."""
    events = suite.client.events(RESPONSES, ASKED)
    types = [str(event.get("type")) for event in events]
    found = {"types": _distinct(types)}
    expect(
        bool(types) and types[0] == "response.created",
        f"the first event is not response.created: {types[:3]}",
        found,
    )
    expect(
        types[-1] in FINAL_EVENTS,
        f"the last event is {types[-1]!r}, not one of {FINAL_EVENTS}",
        found,
    )
    deltas = "".join(
        str(e.get("delta") or "") for e in events if e.get("type") == "response.output_text.delta"
    )
    expect(bool(deltas), "no response.output_text.delta carried text", found)
    final = events[-1].get("response") or {}
    expect(
        output_text(final) == deltas,
        "the streamed deltas differ from the final text",
        {"deltas": deltas, "final": output_text(final)},
    )
    return {**found, "text": deltas, "usage": checked_usage(final)}


def _distinct(types: list[str]) -> list[str]:
    """Event types in order of first appearance."""
    return list(dict.fromkeys(types))
