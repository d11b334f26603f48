"""One server interface: start, wait until ready, base URL, auth headers, stop, log path."""

from __future__ import annotations

import logging
import signal
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workflows import interrupts
from workflows.auth import Auth
from workflows.errors import ExitCode, ServerError, SetupError

if TYPE_CHECKING:
    from workflows.servers.image_origin import ImageUsed

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5
PROBE_SECONDS = 2.0  # one readiness probe, its answer read whole
TAIL_LINES = 20


class Server(ABC):
    serves_on_start = True  # False: started for a person to work in (`-it` shell), no HTTP wait
    image_used: ImageUsed | None = None  # the image a container runs, once it is created

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

    def death_notice(self) -> str | None:
        """None while the server runs; once it has ended, a line saying how."""
        code = self.exit_code()
        return None if code is None else f"the server exited with {describe_exit(code)}"

    def log_tail(self) -> tuple[str, ...]:
        return tail(self.log_path, TAIL_LINES) if self.log_path else ()

    def management_lines(self, relative: Callable[[Path], str]) -> list[str]:
        """How to follow and stop this server, for the `server` workflow's help."""
        del relative
        return ["  (this server was already running; the runner did not start it)"]

    def interact(self, console: Any) -> ExitCode:
        """`-it`: the server in the foreground (or a shell beside it) until it ends."""
        del console
        raise SetupError("-it needs a server the runner starts (--local-server or --docker-server)")

    def wait_ready(
        self, timeout: float, why: str = "", on_wait: Callable[[float], None] | None = None
    ) -> float:
        """Poll /health until 200; returns seconds waited; `on_wait` is told the seconds waited
        at each poll that found it not ready. Errors show the server log's tail and say `why`
        the wait was that long."""
        started = time.monotonic()
        deadline = started + timeout
        last_problem = "no answer yet"
        while time.monotonic() < deadline:
            interrupts.check()
            code = self.exit_code()
            if code is not None:
                exited = f"the server exited with code {code} before it was ready"
                raise self._failure(self.port_conflict() or exited)
            ready, last_problem = probe_health(self.base_url, self.headers())
            if ready:
                self._refuse_a_stranger()
                return time.monotonic() - started
            if on_wait is not None:
                on_wait(time.monotonic() - started)
            time.sleep(POLL_SECONDS)
        chosen_by = f"; the wait was {why}" if why else ""
        raise self._failure(
            f"the server at {self.base_url} was not ready after {timeout:g}s ({last_problem})"
            f"{chosen_by}; raise it with --workflow-args ready_timeout=SECONDS"
        )

    def port_conflict(self) -> str | None:
        """A line saying that another process than this server holds its port; None when none
        does, or when that cannot be known (a server the runner did not start)."""
        return None

    def _refuse_a_stranger(self) -> None:
        """What answered must be this server, not another that holds its port."""
        conflict = self.port_conflict()
        if conflict is not None:
            raise self._failure(conflict)

    def _failure(self, message: str) -> ServerError:
        if self.log_path is None:
            return ServerError(message)
        return ServerError(f"{message}; server log: {self.log_path}", details=self.log_tail())


def describe_exit(code: int) -> str:
    """'code 1', 'signal SIGKILL', 'code 137 (SIGKILL)': a process's or container's end."""
    if code < 0:
        return f"signal {_signal_name(-code)}"
    if code > 128 and _signal_name(code - 128) != str(code - 128):
        return f"code {code} ({_signal_name(code - 128)})"
    return f"code {code}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def check_credentials(server: Server, get: Callable[..., Any] | None = None) -> None:
    """A server that wants a token we lack (or refuses ours) is one line saying how to pass one,
    before any workflow sends it a request."""
    import requests

    from benchmarking import deadline_requests
    from benchmarking.deadline import DeadlineExceeded

    get = get or deadline_requests.get
    try:
        response = get(f"{server.base_url}/v1/models", headers=server.headers(), timeout=10)
    except (requests.RequestException, DeadlineExceeded):
        return  # it answered /health a moment ago; the workflow will report what it meets
    if response.status_code not in (401, 403):
        return
    status = f"HTTP {response.status_code} on /v1/models"
    if not server.auth.enabled:
        raise SetupError(
            f"the server at {server.base_url} requires a token ({status}); set API_KEY "
            "(the key itself) or JWT_SECRET (to mint its JWT) in the environment or .env"
        )
    raise SetupError(
        f"the server at {server.base_url} refused the token from {server.auth.source} "
        f"({status}); check API_KEY / JWT_SECRET in the environment or .env"
    )


def probe_health(
    base_url: str, headers: dict[str, str], get: Callable[..., Any] | None = None
) -> tuple[bool, str]:
    """(ready, what was seen): /health first, /v1/models for servers that lack it. A server
    that refuses our credentials is up: the credentials check then says how to pass a token,
    at once rather than after the whole ready timeout."""
    import requests  # imported when first needed: it costs ~90 ms of start-up

    from benchmarking import deadline_requests
    from benchmarking.deadline import DeadlineExceeded

    get = get or deadline_requests.get  # the answer read whole within the timeout
    for path in ("/health", "/v1/models"):
        try:
            response = get(f"{base_url}{path}", headers=headers, timeout=PROBE_SECONDS)
        except DeadlineExceeded:
            return False, f"no complete answer on {path} within {PROBE_SECONDS:g}s"
        except requests.RequestException as error:
            return False, f"{type(error).__name__} on {path}"
        if response.status_code == 200:
            return True, "ready"
        if response.status_code in (401, 403):
            return True, f"{path} refused our credentials (HTTP {response.status_code})"
        if response.status_code != 404:
            return False, f"{path} answered HTTP {response.status_code}"
    return False, "neither /health nor /v1/models answered 200"


# (path, JSON field, engine): vLLM's GET /version, then llama.cpp's build in GET /props
VERSION_ENDPOINTS = (("/version", "version", "vllm"), ("/props", "build_info", "llama.cpp"))


def reported_version(
    base_url: str, headers: dict[str, str], get: Callable[..., Any] | None = None
) -> str | None:
    """What a running server says of its engine: vLLM's GET /version, or llama.cpp's build in
    GET /props; None when it says neither (the record then keeps the image or spec pins)."""
    import requests

    from benchmarking import deadline_requests
    from benchmarking.deadline import DeadlineExceeded

    get = get or deadline_requests.get
    for path, field, name in VERSION_ENDPOINTS:
        try:
            response = get(f"{base_url}{path}", headers=headers, timeout=5)
            value = response.json().get(field) if response.status_code == 200 else None
        except (requests.RequestException, DeadlineExceeded, ValueError, AttributeError):
            continue
        if isinstance(value, str) and value:
            return f"{name} {value} (GET {path})"
    return None


def tail(path: Path, lines: int) -> tuple[str, ...]:
    try:
        content = path.read_text(errors="replace").splitlines()
    except OSError:
        return ()
    return tuple(content[-lines:])
