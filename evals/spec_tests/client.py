"""The suite's HTTP side: the base URL, the auth header and the model in one client; every
request, its answer read whole (a stream too), within a deadline; a non-2xx answer where success
was expected is a CheckFailed."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import requests

from benchmarking import deadline_requests
from benchmarking.deadline import deadline
from evals.spec_tests.stream import StreamReply, read_events, read_stream
from evals.spec_tests.verdict import CheckFailed

REQUEST_TIMEOUT_S = 180.0  # whole request; a loaded 2-core host answered 60 tokens in 83 s
LONG_TIMEOUT_S = 600.0  # a prompt at max_context: prefill on a slow device takes minutes
CONNECTION_ERRORS = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
Json = dict[str, Any]
Read = TypeVar("Read")


class HttpStatusError(CheckFailed):
    """The server answered with an error status where the check expected success."""

    def __init__(self, path: str, status: int, body: str) -> None:
        super().__init__(f"POST {path} answered HTTP {status}: {body[:200]}", {"status": status})
        self.status = status


@dataclass(frozen=True)
class Client:
    base_url: str
    model: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = REQUEST_TIMEOUT_S  # each request's, unless it asks for longer

    def with_headers(self, headers: Mapping[str, str]) -> Client:
        return replace(self, headers=dict(headers))

    def get(self, path: str) -> requests.Response:
        url, headers = f"{self.base_url}{path}", dict(self.headers)
        return deadline_requests.get(url, headers=headers, timeout=self.timeout_s)

    def send(self, path: str, data: bytes, timeout: float | None = None) -> requests.Response:
        """POST raw bytes as JSON (also what a malformed request is made of), read whole."""
        url, headers = f"{self.base_url}{path}", self._json_headers()
        seconds = timeout or self.timeout_s
        return deadline_requests.post(url, data=data, headers=headers, timeout=seconds)

    def _json_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", **self.headers}

    def encoded(self, body: Mapping[str, object]) -> bytes:
        return json.dumps({"model": self.model, **body}).encode()

    def post(
        self, path: str, body: Mapping[str, object], timeout: float = REQUEST_TIMEOUT_S
    ) -> Json:
        reply = self.send(path, self.encoded(body), timeout)
        if not reply.ok:
            raise HttpStatusError(path, reply.status_code, reply.text)
        answer: Json = reply.json()
        return answer

    def stream(self, path: str, body: Mapping[str, object]) -> StreamReply:
        """The stream read to its end within the request's deadline."""
        return self._streamed(path, body, read_stream)

    def events(self, path: str, body: Mapping[str, object]) -> list[Json]:
        """A stream of typed events (the Responses API's), each event's JSON."""
        return self._streamed(path, body, read_events)

    def _streamed(
        self, path: str, body: Mapping[str, object], read: Callable[[Iterator[bytes]], Read]
    ) -> Read:
        payload, url = self.encoded({**body, "stream": True}), f"{self.base_url}{path}"
        with (
            deadline(self.timeout_s, f"POST {path} (stream)"),
            deadline_requests.session() as session,
            session.post(
                url, data=payload, headers=self._json_headers(), timeout=self.timeout_s, stream=True
            ) as reply,
        ):
            if not reply.ok:
                raise HttpStatusError(path, reply.status_code, reply.text)
            return read(reply.iter_lines())
