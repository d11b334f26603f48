"""Whole-request deadlines. The `timeout=` of requests or urllib bounds each socket read, so a
server that sends a byte a second holds a request forever.

Within `deadline(seconds, what)`, every connection the block opens through `urlopen` here (or
`deadline_requests.session()`) is watched: when the deadline passes, a timer shuts its socket
down, whatever the request is doing (connecting, waiting for the head, reading the body), and
the block ends with DeadlineExceeded, whose message says what did not finish and within what.
Standard library only: the telemetry scraper runs in environments without requests.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class DeadlineExceeded(TimeoutError):
    """A request that did not finish within its whole-request deadline."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(f"{what}: no complete answer within {seconds:g}s (whole-request deadline)")
        self.what = what
        self.seconds = seconds


class Alarm(Protocol):
    def start(self) -> None: ...

    def cancel(self) -> None: ...


AlarmFactory = Callable[[float, Callable[[], None]], Alarm]


def timer(seconds: float, fire: Callable[[], None]) -> Alarm:
    """The alarm every deadline sets: a daemon thread that calls `fire` after `seconds`."""
    alarm = threading.Timer(seconds, fire)
    alarm.daemon = True
    return alarm


ALARM: AlarmFactory = timer  # tests swap in alarms that go off when they say


class _Watch:
    """The sockets of one deadline (and of the deadlines inside it); `fire` cuts them all."""

    def __init__(self, outer: _Watch | None) -> None:
        self.outer = outer
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            fired = self.fired
        if fired:
            _cut(sock)
        if self.outer is not None:
            self.outer.add(sock)

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _cut(sock)


def _cut(sock: socket.socket) -> None:
    """Wake any read on `sock` with end-of-stream (close alone would not, on Linux)."""
    with contextlib.suppress(OSError):  # closed already: nothing reads it
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


def watch_socket(sock: socket.socket | None) -> None:
    """Put a connection's socket under the deadline this thread is in, if any."""
    watch: _Watch | None = getattr(_current, "watch", None)
    if watch is not None and sock is not None:
        watch.add(sock)


@contextmanager
def deadline(seconds: float, what: str) -> Iterator[None]:
    """The block's requests end by `seconds` from now, or the block raises DeadlineExceeded."""
    outer: _Watch | None = getattr(_current, "watch", None)
    watch = _current.watch = _Watch(outer)
    alarm = ALARM(seconds, watch.fire)
    alarm.start()
    try:
        yield
    except Exception:
        if watch.fired:
            raise DeadlineExceeded(what, seconds) from None
        raise
    finally:
        alarm.cancel()
        _current.watch = outer
    if watch.fired:  # it may have cut a body short that then read as complete
        raise DeadlineExceeded(what, seconds)


class _WatchedHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        watch_socket(self.sock)


class _WatchedHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        watch_socket(self.sock)


class _WatchedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPConnection, req)


class _WatchedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_WatchedHTTPSConnection, req)


def urlopen(request: urllib.request.Request | str, timeout: float) -> Any:
    """urllib's urlopen, its connection watched by the deadline the caller is in."""
    opener = urllib.request.build_opener(_WatchedHTTPHandler, _WatchedHTTPSHandler)
    return opener.open(request, timeout=timeout)
