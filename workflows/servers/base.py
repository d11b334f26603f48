"""One server interface: start, wait until ready, base URL, auth headers, stop, log path."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workflows import interrupts
from workflows.auth import Auth
from workflows.errors import ServerError

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
TAIL_LINES = 20


class Server(ABC):
    serves_on_start = True  # False: started for a person to work in (`-it` shell), no HTTP wait

    def __init__(self, base_url: str, auth: Auth, log_path: Path | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.log_path = log_path

    def headers(self) -> dict[str, str]:
        return self.auth.headers()

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    @abstractmethod
    def exit_code(self) -> int | None:
        """The process's exit code if it has ended, None while it runs (or if not ours)."""

    @property
    @abstractmethod
    def started_by_runner(self) -> bool: ...

    def wait_ready(self, timeout: float) -> float:
        """Poll /health until 200; returns seconds waited. Errors show the server log's tail."""
        started = time.monotonic()
        deadline = started + timeout
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            interrupts.check()
            code = self.exit_code()
            if code is not None:
                raise self._failure(f"the server exited with code {code} before it was ready")
            ready, last_problem = probe_health(self.base_url, self.headers())
            if ready:
                return time.monotonic() - started
            time.sleep(POLL_SECONDS)
        raise self._failure(
            f"the server at {self.base_url} was not ready after {timeout:g}s ({last_problem}); "
            "raise it with --workflow-args ready_timeout=SECONDS"
        )

    def _failure(self, message: str) -> ServerError:
        if self.log_path is None:
            return ServerError(message)
        return ServerError(
            f"{message}; server log: {self.log_path}", details=tail(self.log_path, TAIL_LINES)
        )


def probe_health(
    base_url: str, headers: dict[str, str], get: Callable[..., Any] | None = None
) -> tuple[bool, str]:
    """(ready, what was seen): /health first, /v1/models for servers that lack it."""
    import requests  # imported when first needed: it costs ~90 ms of start-up

    get = get or requests.get
    for path in ("/health", "/v1/models"):
        try:
            response = get(f"{base_url}{path}", headers=headers, timeout=2)
        except requests.RequestException as error:
            return False, f"{type(error).__name__} on {path}"
        if response.status_code == 200:
            return True, "ready"
        if response.status_code in (401, 403):
            return False, f"{path} refused our credentials (HTTP {response.status_code})"
        if response.status_code != 404:
            return False, f"{path} answered HTTP {response.status_code}"
    return False, "neither /health nor /v1/models answered 200"


def tail(path: Path, lines: int) -> tuple[str, ...]:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return ()
    return tuple(content[-lines:])
