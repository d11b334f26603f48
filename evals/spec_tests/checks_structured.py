"""Answers of a shape asked for: JSON (`response_format` json_object and json_schema) and tool
calls (`tools` with `tool_choice` auto, required and named), whole and streamed. The schemas are
small (an enum, a required string) so that a weak model's answer fits in few tokens."""

from __future__ import annotations

import json
from typing import Any

from evals.spec_tests.suite import CHAT, Suite, first_choice, text_of
from evals.spec_tests.verdict import CheckFailed, expect

Evidence = dict[str, object]
MAX_TOKENS = 48  # a JSON answer cut short does not parse: room for the object and its braces
COLOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"color": {"type": "string", "enum": ["red", "green", "blue"]}},
    "required": ["color"],
    "additionalProperties": False,
}
JSON_MESSAGES = [
    {
        "role": "user",
        "content": 'Answer in JSON with one key, "color", naming a primary color.',
    }
]
CITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": CITY_SCHEMA,
    },
}
TOOL_MESSAGES = [{"role": "user", "content": "What is the weather in Paris?"}]
NAMED_CHOICE = {"type": "function", "function": {"name": "get_weather"}}


def json_object(suite: Suite) -> Evidence:
    """`response_format: json_object`: the answer is a JSON object."""
    text = _json_answer(suite, {"type": "json_object"})
    value = parsed(text)
    expect(isinstance(value, dict), f"the answer is JSON but not an object: {text!r}")
    return {"text": text}


def json_schema(suite: Suite) -> Evidence:
    """`response_format: json_schema`: the answer parses and validates against the schema."""
    asked = {"name": "color", "schema": COLOR_SCHEMA, "strict": True}
    text = _json_answer(suite, {"type": "json_schema", "json_schema": asked})
    problems = schema_errors(parsed(text), COLOR_SCHEMA)
    expect(not problems, f"the answer does not follow the schema: {'; '.join(problems)}")
    return {"text": text, "schema": COLOR_SCHEMA}


def _json_answer(suite: Suite, response_format: dict[str, object]) -> str:
    body = {"messages": JSON_MESSAGES, "max_tokens": MAX_TOKENS, "temperature": 0}
    return text_of(suite.client.post(CHAT, {**body, "response_format": response_format}))


def parsed(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError as error:
        raise CheckFailed(f"the answer is not JSON ({error}): {text!r}", {"text": text}) from None


def schema_errors(value: object, schema: dict[str, Any], where: str = "$") -> list[str]:
    """What in `value` breaks `schema` (the subset the checks use: type object or string,
    properties, required, additionalProperties false, enum)."""
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where} is {value!r}, not one of {schema['enum']}"]
    if schema.get("type") == "string" and not isinstance(value, str):
        return [f"{where} is {value!r}, not a string"]
    if schema.get("type") != "object":
        return []
    if not isinstance(value, dict):
        return [f"{where} is {value!r}, not an object"]
    properties = schema.get("properties") or {}
    problems = [
        f"{where} lacks {key!r}" for key in schema.get("required") or [] if key not in value
    ]
    if schema.get("additionalProperties") is False:
        problems += [
            f"{where} has {key!r}, not in the schema" for key in value if key not in properties
        ]
    for key, item in value.items():
        if key in properties:
            problems += schema_errors(item, properties[key], f"{where}.{key}")
    return problems


def tool_calls(suite: Suite) -> Evidence:
    """`tool_choice` required and named: a call of get_weather whose arguments are a JSON object
    with a string `city`; auto: a call like that, or a text answer."""
    calls = {
        "required": _called(suite, "required"),
        "named": _called(suite, NAMED_CHOICE),
    }
    auto = _called(suite, "auto", optional=True)
    return {"calls": calls, "auto": auto or "answered in text"}


def _called(suite: Suite, choice: object, optional: bool = False) -> dict[str, object] | None:
    body = {"messages": TOOL_MESSAGES, "tools": [WEATHER_TOOL], "tool_choice": choice}
    answer = suite.client.post(CHAT, {**body, "max_tokens": MAX_TOKENS, "temperature": 0})
    message = first_choice(answer).get("message") or {}
    found = message.get("tool_calls") or []
    if optional and not found:
        expect(bool(text_of(answer)), "tool_choice auto: neither a tool call nor a text")
        return None
    expect(bool(found), f"tool_choice {choice!r}: no tool_calls in the answer", {"answer": answer})
    call = found[0]
    expect(
        call.get("type") == "function",
        f"tool_choice {choice!r}: a call of type {call.get('type')!r}",
    )
    return valid_call(call.get("function") or {}, f"tool_choice {choice!r}")


def valid_call(function: dict[str, Any], where: str) -> dict[str, object]:
    """The call names get_weather and its arguments are a JSON text of an object with a city."""
    name, arguments = function.get("name"), function.get("arguments")
    expect(name == "get_weather", f"{where}: the call names {name!r}, not 'get_weather'")
    expect(isinstance(arguments, str), f"{where}: arguments are {arguments!r}, not a JSON text")
    problems = schema_errors(parsed(str(arguments)), CITY_SCHEMA)
    expect(not problems, f"{where}: the arguments break the tool's schema: {'; '.join(problems)}")
    return {"name": name, "arguments": arguments}


def tool_calls_stream(suite: Suite) -> Evidence:
    """Streamed, tool_choice required: the deltas assemble into one call of get_weather whose
    arguments parse."""
    body = {"messages": TOOL_MESSAGES, "tools": [WEATHER_TOOL], "tool_choice": "required"}
    reply = suite.client.stream(CHAT, {**body, "max_tokens": MAX_TOKENS, "temperature": 0})
    found = {"events": reply.events, "tool_calls": reply.tool_calls, "text": reply.text}
    expect(bool(reply.tool_calls), "the stream carried no tool_calls deltas", found)
    call = reply.tool_calls[min(reply.tool_calls)]
    expect(bool(call.get("id")), "the streamed tool call has no id", found)
    return {**valid_call(call, "streamed"), "events": reply.events}
