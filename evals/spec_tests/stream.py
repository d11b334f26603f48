"""A server-sent event stream read into one reply: text, chunks, logprob tokens, usage, and
whether it ended as the API says ([DONE], no error event)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from evals.spec_tests.verdict import CheckFailed


@dataclass
class StreamReply:
    text: str = ""
    content_chunks: int = 0  # chunks that carried text
    logprob_tokens: int = 0  # entries of choices[0].logprobs.content over all chunks
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    events: int = 0
    done: bool = False
    errors: list[str] = field(default_factory=list)
    # tool calls by their index, assembled from the deltas: id, name, arguments (a JSON text)
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    models: list[object] = field(default_factory=list)  # each distinct `model` the chunks named

    def add(self, event: dict[str, Any]) -> None:
        self.events += 1
        if "model" in event and event["model"] not in self.models:
            self.models.append(event["model"])
        if "error" in event:
            self.errors.append(str(event["error"].get("message", event["error"])))
        self.usage = event.get("usage") or self.usage
        for choice in event.get("choices") or []:
            self._add_choice(choice)

    def _add_choice(self, choice: dict[str, Any]) -> None:
        piece = choice.get("text")
        if piece is None:
            piece = (choice.get("delta") or {}).get("content")
        if piece:
            self.text += piece
            self.content_chunks += 1
        self.logprob_tokens += len((choice.get("logprobs") or {}).get("content") or [])
        self.finish_reason = choice.get("finish_reason") or self.finish_reason
        for piece in (choice.get("delta") or {}).get("tool_calls") or []:
            self._add_tool_call(piece)

    def _add_tool_call(self, piece: dict[str, Any]) -> None:
        """A delta of a tool call: its id and name come once, its arguments in pieces."""
        call = self.tool_calls.setdefault(int(piece.get("index") or 0), {"arguments": ""})
        function = piece.get("function") or {}
        for key, value in (("id", piece.get("id")), ("name", function.get("name"))):
            if value:
                call[key] = str(value)
        call["arguments"] += function.get("arguments") or ""


def read_stream(lines: Iterable[bytes]) -> StreamReply:
    reply = StreamReply()
    for line in lines:
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            reply.done = True
            break
        reply.add(json.loads(data))
    return checked(reply)


def checked(reply: StreamReply) -> StreamReply:
    """A stream that reported an error or ended without [DONE] was dropped: the check fails."""
    evidence = {"events": reply.events, "text": reply.text}
    if reply.errors:
        raise CheckFailed(f"the stream sent an error event: {reply.errors[0]}", evidence)
    if not reply.done:
        raise CheckFailed(f"the stream ended without [DONE] after {reply.events} events", evidence)
    return reply


def read_events(lines: Iterable[bytes]) -> list[dict[str, Any]]:
    """Each `data:` line's JSON, as the Responses API streams typed events (a [DONE] ends it,
    though that API sends none)."""
    events = []
    for line in lines:
        data = line[5:].strip() if line.startswith(b"data:") else b""
        if data == b"[DONE]":
            break
        if data:
            events.append(json.loads(data))
    return events
