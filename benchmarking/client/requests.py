"""HTTP request bytes for the OpenAI completion routes, built once before the run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

import orjson

from benchmarking.endpoints import CHAT, COMPLETIONS

__all__ = ["CHAT", "COMPLETIONS", "Prompt", "Target", "http_request", "request_body"]


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    base_path: str
    headers: Mapping[str, str]

    @classmethod
    def from_url(cls, base_url: str, headers: Mapping[str, str]) -> Target:
        parsed = urlparse(base_url)
        if parsed.scheme != "http":
            raise ValueError(f"{base_url}: only http:// is supported by the load generator")
        port = parsed.port or 80
        return cls(parsed.hostname or "127.0.0.1", port, parsed.path.rstrip("/"), dict(headers))


@dataclass(frozen=True)
class Prompt:
    text: str
    prompt_tokens: int
    output_tokens: int
    messages: tuple[tuple[str, str], ...] = ()  # a chat's (role, content); none: `text` as user


def request_body(
    model: str,
    prompt: Prompt,
    endpoint: str,
    ignore_eos: bool,
    extra: Mapping[str, object] | None = None,
) -> dict[str, object]:
    body: dict[str, object] = {
        "model": model,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0,
    }
    if endpoint == CHAT:
        messages = prompt.messages or (("user", prompt.text),)
        body["messages"] = [{"role": role, "content": content} for role, content in messages]
        body["max_completion_tokens"] = prompt.output_tokens
        body["max_tokens"] = prompt.output_tokens
    else:
        body["prompt"] = prompt.text
        body["max_tokens"] = prompt.output_tokens
    if ignore_eos:
        body["ignore_eos"] = True
    return body | dict(extra or {})


def http_request(
    target: Target, endpoint: str, body: Mapping[str, object], request_id: str
) -> bytes:
    payload = orjson.dumps(body)
    lines = [
        f"POST {target.base_path}{endpoint} HTTP/1.1",
        f"Host: {target.host}:{target.port}",
        "Content-Type: application/json",
        "Accept: text/event-stream",
        f"X-Request-Id: {request_id}",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in target.headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
