"""One scrape of a server's `/metrics`, with a deadline: its reading, or why there is none."""

from __future__ import annotations

import http.client
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping

from benchmarking.deadline import deadline, urlopen
from benchmarking.telemetry.families import NotMetrics, Reading, read_metrics

GIVE_UP_STATUSES = frozenset({401, 403, 404, 405, 501})  # the answer will not change by asking


class ScrapeError(RuntimeError):
    """A scrape without a reading; the message says why, in one line."""

    def __init__(self, message: str, final: bool = False) -> None:
        super().__init__(message)
        self.final = final  # the server answered that it has no metrics for us


def scrape(base_url: str, headers: Mapping[str, str], timeout_s: float) -> Reading:
    request = urllib.request.Request(f"{base_url}/metrics", headers=dict(headers))
    try:
        with deadline(timeout_s, "GET /metrics"), urlopen(request, timeout_s) as reply:
            body = reply.read()
    except urllib.error.HTTPError as error:
        final = error.code in GIVE_UP_STATUSES
        raise ScrapeError(f"GET /metrics answered HTTP {error.code}", final) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise ScrapeError(f"GET /metrics failed: {_why(error, timeout_s)}") from None
    try:
        return read_metrics(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise ScrapeError("GET /metrics answered bytes that are not UTF-8 text", True) from None
    except NotMetrics as error:
        raise ScrapeError(f"GET /metrics: {error}", True) from None


def _why(error: Exception, timeout_s: float) -> str:
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout_s:g} s"
    return str(getattr(reason, "strerror", None) or reason or type(reason).__name__)
