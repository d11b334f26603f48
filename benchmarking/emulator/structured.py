"""Chat answers with a shape asked for: `response_format` (json_object, json_schema) and `tools`
(a call of the named tool, or of the first with `tool_choice` auto or required; none with
"none"). The arguments and the JSON answer are the smallest instance of their schema; a stream
sends them at once, in pieces, as the API's deltas."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from benchmarking.emulator.http import Response
from benchmarking.emulator.openai_fields import TOKEN_TEXT

Json = dict[str, Any]
CALL_ID = "call_0"


def shaped(body: Mapping[str, Any]) -> bool:
    """Whether the request asks for JSON or may call a tool."""
    return tool_asked(body) is not None or json_schema(body) is not None


def tool_asked(body: Mapping[str, Any]) -> Json | None:
    """The function the answer calls, or None."""
    listed = [t.get("function") for t in body.get("tools") or [] if isinstance(t, dict)]
    tools = [tool for tool in listed if isinstance(tool, dict)]
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none":
        return None
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        return next((tool for tool in tools if tool.get("name") == name), None)
    return tools[0]


def json_schema(body: Mapping[str, Any]) -> Json | None:
    """The schema the answer follows ({} for any JSON object), or None: free text."""
    asked = body.get("response_format")
    if not isinstance(asked, dict):
        return None
    if asked.get("type") == "json_object":
        return {}
    if asked.get("type") == "json_schema":
        schema = (asked.get("json_schema") or {}).get("schema")
        return schema if isinstance(schema, dict) else {}
    return None


def instance_of(schema: Mapping[str, Any]) -> object:
    """The smallest value a (simple) JSON schema accepts: its first enum value, else by type."""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties") or {}
        return {name: instance_of(properties[name]) for name in schema.get("required") or []}
    defaults = {"string": TOKEN_TEXT.strip(), "integer": 1, "number": 1.0, "boolean": True}
    return defaults.get(kind, []) if isinstance(kind, str) else None


def message(body: Mapping[str, Any]) -> Json:
    """The assistant message: a tool call, or JSON content."""
    tool = tool_asked(body)
    if tool is not None:
        arguments = orjson.dumps(instance_of(tool.get("parameters") or {})).decode()
        call = {"id": CALL_ID, "type": "function", "function": {}}
        call["function"] = {"name": tool.get("name"), "arguments": arguments}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    content = orjson.dumps(instance_of(json_schema(body) or {})).decode()
    return {"role": "assistant", "content": content}


def shaped_choices(body: Mapping[str, Any], chat: bool, made: list[Json]) -> list[Json]:
    """Chat choices with the message a request for JSON or a tool call gets."""
    if not (chat and shaped(body)):
        return made
    said = message(body)
    return [{**choice, "message": said, "finish_reason": finish_reason(said)} for choice in made]


def finish_reason(said: Json) -> str:
    return "tool_calls" if said.get("tool_calls") else "stop"


def stream(response: Response, head: Json, said: Json) -> None:
    """The message as chat chunks: the role, then the content or the call in two halves."""
    response.start_stream()
    for delta in [{"role": "assistant", "content": ""}, *_deltas(said)]:
        response.event(orjson.dumps({**head, "choices": [_chunk_choice(delta, None)]}))
    last = _chunk_choice({}, finish_reason(said))
    response.event(orjson.dumps({**head, "choices": [last]}))
    response.end_stream()


def _deltas(said: Json) -> list[Json]:
    if not said.get("tool_calls"):
        text = said["content"]
        return [{"content": part} for part in _halves(text)]
    call = said["tool_calls"][0]
    name = {"index": 0, "id": call["id"], "type": "function", "function": {}}
    name["function"] = {"name": call["function"]["name"], "arguments": ""}
    pieces = [
        {"index": 0, "function": {"arguments": part}}
        for part in _halves(call["function"]["arguments"])
    ]
    return [{"tool_calls": [piece]} for piece in (name, *pieces)]


def _halves(text: str) -> tuple[str, str]:
    middle = len(text) // 2
    return text[:middle], text[middle:]


def _chunk_choice(delta: Json, finish: str | None) -> Json:
    return {"index": 0, "delta": delta, "finish_reason": finish}
