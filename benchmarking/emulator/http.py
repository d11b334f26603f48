"""A minimal HTTP/1.1 server protocol: enough for JSON and chunked SSE, and fast."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import orjson

HEAD_END = b"\r\n\r\n"
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    413: "Payload Too Large",
    500: "Internal Server Error",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Response:
    """Writes one response to the connection's transport: a whole JSON body or an SSE stream."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    @property
    def closed(self) -> bool:
        return self.transport.is_closing()

    def json(self, status: int, payload: object) -> None:
        body = orjson.dumps(payload)
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.transport.write(head.encode() + body)

    def text(self, status: int, body: str, content_type: str) -> None:
        data = body.encode()
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}\r\n"
            f"Content-Type: {content_type}\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        self.transport.write(head.encode() + data)

    def cut_after_headers(self, stream: bool) -> None:
        """Send the head of a response (SSE, or JSON with a body promised), then hang up."""
        if stream:
            self.start_stream()
        else:
            self.transport.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\n\r\n"
            )
        self.transport.close()

    def start_stream(self) -> None:
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
        )

    def event(self, payload: bytes) -> None:
        data = b"data: " + payload + b"\n\n"
        self.transport.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_stream(self) -> None:
        self.event(b"[DONE]")
        self.transport.write(b"0\r\n\r\n")


Handler = Callable[[Request, Response], None]


class HttpProtocol(asyncio.Protocol):
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            request = self._next_request()
            if request is None:
                return
            self.handler(request, Response(self.transport))

    def _next_request(self) -> Request | None:
        end = self.buffer.find(HEAD_END)
        if end < 0:
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        return Request(method, path.split("?", 1)[0], headers, body)
