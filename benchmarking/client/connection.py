"""One keep-alive HTTP/1.1 connection that records every read with its arrival time.

`data_received` does the least work possible (a clock read and an append) so that a busy event
loop never delays the timestamp of another stream; the response is parsed after the run. A head
it cannot frame a body by (a Content-Length that is no number) ends the response with the reason
and closes the connection: never an exception out of the protocol (the event loop would print
its traceback on the console).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HEAD_END = b"\r\n\r\n"
CHUNKED_END = b"0\r\n\r\n"
CONTENT_LENGTH = b"content-length:"


class MalformedHead(ValueError):
    """The response head cannot say where the body ends; the message says why."""


@dataclass
class RawResponse:
    """Everything read for one request: (perf_counter_ns, bytes) pairs, in order."""

    sent_ns: int = 0
    reads: list[tuple[int, bytes]] = field(default_factory=list)
    error: str | None = None
    unframed: bool = False  # the head could not say where the body ends: nothing of it counts


class StreamingConnection(asyncio.Protocol):
    def __init__(self, on_read: Callable[[bytes], None] | None = None) -> None:
        self.on_read = on_read  # told of each read (a progress display counts its events)
        self.transport: asyncio.Transport | None = None
        self.current: RawResponse | None = None
        self.done: asyncio.Future[RawResponse] | None = None
        self.head_seen = False
        self.chunked = False
        self.remaining = -1
        self.until_close = False
        self.body_tail = b""
        self.keep_alive = True
        self.closed = asyncio.get_event_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.keep_alive = False
        if not self.closed.done():
            self.closed.set_result(None)
        if self.done is not None and not self.done.done() and self.current is not None:
            if not self.head_seen or self.chunked or self.remaining > 0:
                self.current.error = f"connection closed early: {exc or 'by the server'}"
            self.done.set_result(self.current)

    def request(self, payload: bytes) -> asyncio.Future[RawResponse]:
        assert self.transport is not None
        self.current = RawResponse()
        self.done = asyncio.get_event_loop().create_future()
        self.head_seen, self.chunked, self.remaining = False, False, -1
        self.until_close, self.body_tail = False, b""
        self.current.sent_ns = time.perf_counter_ns()
        self.transport.write(payload)
        return self.done

    def data_received(self, data: bytes) -> None:
        current = self.current
        if current is None:
            return
        current.reads.append((time.perf_counter_ns(), data))
        if self.on_read is not None:
            self.on_read(data)
        if not self.head_seen:
            try:
                self._read_head(current)
            except MalformedHead as error:
                current.unframed = True
                self._give_up(current, f"malformed response: {error}")
        elif self.chunked:
            self.body_tail = data[-5:] if len(data) >= 5 else (self.body_tail + data)[-5:]
            if self.body_tail == CHUNKED_END:
                self._finish(current)
        elif not self.until_close:
            self.remaining -= len(data)
            if self.remaining <= 0:
                self._finish(current)

    def _read_head(self, current: RawResponse) -> None:
        raw = b"".join(chunk for _, chunk in current.reads)
        end = raw.find(HEAD_END)
        if end < 0:
            return
        self.head_seen = True
        head = raw[:end].lower()
        body = raw[end + 4 :]
        self.chunked = b"transfer-encoding: chunked" in head
        self.keep_alive = b"connection: close" not in head
        if self.chunked:
            self.body_tail = body[-5:]
            if self.body_tail == CHUNKED_END:
                self._finish(current)
            return
        length = content_length(head)
        if length is None:  # the body ends when the server closes the connection
            self.until_close, self.keep_alive, self.remaining = True, False, 0
            return
        self.remaining = length - len(body)
        if self.remaining <= 0:
            self._finish(current)

    def abandon(self, reason: str) -> RawResponse:
        """Give up on the response in flight (it took too long): keep what was read, record
        why it ended, and close the connection."""
        current = self.current or RawResponse(sent_ns=time.perf_counter_ns())
        current.error = reason
        self.current, self.keep_alive = None, False
        if self.transport is not None:
            self.transport.close()
        return current

    def _give_up(self, current: RawResponse, reason: str) -> None:
        """End the response here, with `reason`; the connection cannot carry another."""
        current.error = reason
        self.keep_alive = False
        self._finish(current)
        if self.transport is not None:
            self.transport.close()

    def _finish(self, current: RawResponse) -> None:
        self.current = None
        if self.done is not None and not self.done.done():
            self.done.set_result(current)


def content_length(head: bytes) -> int | None:
    """The Content-Length of a lower-cased response head; None if it has none."""
    marker = head.find(CONTENT_LENGTH)
    if marker < 0:
        return None
    line_end = head.find(b"\r\n", marker)
    value = head[marker + len(CONTENT_LENGTH) : line_end if line_end >= 0 else None].strip()
    if not value.isdigit():
        shown = value[:20].decode(errors="replace")
        raise MalformedHead(f"the header Content-Length: {shown!r} is not a byte count")
    return int(value)
