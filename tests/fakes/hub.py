"""A tiny stand-in for the Hugging Face Hub's HTTP API, on localhost, for download tests.

It serves one public repo (its files given at construction), answers gated repos with the
hub's 401 + X-Error-Code: GatedRepo, and accepts only the token it was given for them.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHA = "0123456789abcdef0123456789abcdef01234567"


class FakeHub:
    def __init__(self, repos: dict[str, dict[str, bytes]], gated: set[str], token: str) -> None:
        self.repos = repos
        self.gated = gated
        self.token = token
        self.requests: list[str] = []

    def allowed(self, repo: str, authorization: str | None) -> bool:
        return repo not in self.gated or authorization == f"Bearer {self.token}"


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            hub.requests.append(format % args)

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _route(self) -> None:
            parts = self.path.split("?")[0].strip("/").split("/")
            if parts[:2] == ["api", "models"]:
                repo = "/".join(parts[2:4])
                return self._tree(repo) if parts[4:5] == ["tree"] else self._api(repo)
            if len(parts) >= 5 and parts[2] == "resolve":
                return self._file("/".join(parts[:2]), "/".join(parts[4:]))
            return self._reply(404, b"{}", {"X-Error-Code": "EntryNotFound"})

        def _denied(self, repo: str) -> bool:
            if hub.allowed(repo, self.headers.get("Authorization")):
                return False
            self._reply(
                401,
                b'{"error": "gated"}',
                {"X-Error-Code": "GatedRepo", "X-Error-Message": "gated repo"},
            )
            return True

        def _api(self, repo: str) -> None:
            if repo not in hub.repos:
                return self._reply(401, b"{}", {"X-Error-Code": "RepoNotFound"})
            if self._denied(repo):
                return None
            siblings = [{"rfilename": name} for name in hub.repos[repo]]
            body = json.dumps({"id": repo, "sha": SHA, "siblings": siblings}).encode()
            return self._reply(200, body, {"Content-Type": "application/json"})

        def _tree(self, repo: str) -> None:
            if repo not in hub.repos:
                return self._reply(401, b"{}", {"X-Error-Code": "RepoNotFound"})
            if self._denied(repo):
                return None
            entries = [
                {
                    "type": "file",
                    "path": name,
                    "size": len(content),
                    "oid": hashlib.sha1(content).hexdigest(),
                }
                for name, content in hub.repos[repo].items()
            ]
            return self._reply(
                200, json.dumps(entries).encode(), {"Content-Type": "application/json"}
            )

        def _file(self, repo: str, name: str) -> None:
            if repo not in hub.repos or name not in hub.repos[repo]:
                return self._reply(404, b"", {"X-Error-Code": "EntryNotFound"})
            if self._denied(repo):
                return None
            content = hub.repos[repo][name]
            etag = hashlib.sha1(content).hexdigest()
            return self._reply(200, content, {"ETag": f'"{etag}"', "X-Repo-Commit": SHA})

        do_GET = _route
        do_HEAD = _route

    return Handler


@contextmanager
def running_hub(hub: FakeHub) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
