"""Turn timestamped raw reads into SSE events, each stamped with the arrival of its first byte."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from benchmarking.client.connection import HEAD_END, RawResponse


class MalformedResponse(ValueError):
    """What the server sent is not HTTP as this parser knows it; the message says where."""


@dataclass(frozen=True)
class Parsed:
    status: int  # 0: no complete response head arrived
    events: list[tuple[int, bytes]]  # (ns of the read holding the event's first byte, payload)
    body: bytes  # the whole (de-chunked) body
    streamed: bool = False  # an SSE response (text/event-stream)


def parse_response(raw: RawResponse) -> Parsed:
    data = b"".join(chunk for _, chunk in raw.reads)
    starts = _read_starts(raw)
    head_end = data.find(HEAD_END)
    if head_end < 0:
        return Parsed(0, [], b"")
    head = data[:head_end]
    status = _status(head)
    body_start = head_end + 4
    if b"transfer-encoding: chunked" in head.lower():
        body, segments = _dechunk(data, body_start)
    else:
        body, segments = data[body_start:], [(0, body_start)]
    if b"text/event-stream" not in head.lower():
        return Parsed(status, [], body)
    return Parsed(status, _events(body, segments, starts, raw), body, streamed=True)


def _status(head: bytes) -> int:
    parts = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise MalformedResponse(f"not an HTTP status line: {parts[0][:60]!r}")
    return int(parts[1])


def _read_starts(raw: RawResponse) -> list[int]:
    starts, offset = [], 0
    for _, chunk in raw.reads:
        starts.append(offset)
        offset += len(chunk)
    return starts


def _dechunk(data: bytes, pos: int) -> tuple[bytes, list[tuple[int, int]]]:
    """Body bytes, and (body offset, raw offset) where each chunk's data begins."""
    parts: list[bytes] = []
    segments: list[tuple[int, int]] = []
    length = 0
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            break
        size_text = data[pos:line_end].split(b";", 1)[0].strip() or b"0"
        try:
            size = int(size_text, 16)
        except ValueError:
            raise MalformedResponse(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            break
        start = line_end + 2
        segments.append((length, start))
        parts.append(data[start : start + size])
        length += size
        pos = start + size + 2
    return b"".join(parts), segments


def _events(
    body: bytes, segments: list[tuple[int, int]], starts: list[int], raw: RawResponse
) -> list[tuple[int, bytes]]:
    seg_body = [s[0] for s in segments]
    events: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(body):
        end = body.find(b"\n\n", pos)
        if end < 0:
            end = len(body)
        message = body[pos:end].strip()
        if message.startswith(b"data:"):
            index = bisect.bisect_right(seg_body, pos) - 1
            raw_offset = segments[index][1] + (pos - segments[index][0])
            read = bisect.bisect_right(starts, raw_offset) - 1
            events.append((raw.reads[read][0], message[5:].strip()))
        pos = end + 2
    return events
