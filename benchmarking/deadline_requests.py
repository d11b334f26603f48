"""`requests` under a whole-request deadline (benchmarking/deadline.py). `get` and `post` are
requests' own, except that `timeout` bounds the whole request, its answer read whole
(DeadlineExceeded past it); `session()` is for a block that reads a stream under `deadline(...)`
itself."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from benchmarking.deadline import deadline, watch_socket


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        watch_socket(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch_socket(self.sock)  # a kept-alive connection, reused under a new deadline
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        watch_socket(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        watch_socket(self.sock)
        super().request(*args, **kwargs)


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = WATCHED_POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        """Through an HTTP proxy (HTTP_PROXY) too; a SOCKS proxy keeps its own connections."""
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):
            manager.pool_classes_by_scheme = WATCHED_POOLS
        return manager


def session() -> requests.Session:
    """A session whose connections the deadline they are used under watches."""
    watched = requests.Session()
    watched.mount("http://", _WatchedAdapter())
    watched.mount("https://", _WatchedAdapter())
    return watched


def get(url: str, *, timeout: float, **kwargs: Any) -> requests.Response:
    return _whole("GET", url, timeout, **kwargs)


def post(url: str, *, timeout: float, **kwargs: Any) -> requests.Response:
    return _whole("POST", url, timeout, **kwargs)


def _whole(method: str, url: str, seconds: float, **kwargs: Any) -> requests.Response:
    """The answer, read whole within `seconds`; DeadlineExceeded names the method and path."""
    with deadline(seconds, f"{method} {urlsplit(url).path or '/'}"), session() as watched:
        return watched.request(method, url, timeout=seconds, stream=False, **kwargs)
