"""What every load generator here needs from the server before it starts: the bearer token
(from OPENAI_API_KEY, never from argv) and the model name the server answers to. Standard
library only: the tool drivers' environments have no `requests`."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping

API_KEY_ENV = "OPENAI_API_KEY"


class CredentialsError(RuntimeError):
    """The server wants a token we lack, or refuses ours: a user's fix, said in one line."""


def bearer_headers(token: str | None) -> dict[str, str]:
    """The one place the Authorization header is written: none without a token."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def auth_headers(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    return bearer_headers(environ.get(API_KEY_ENV))


def served_model(base_url: str, headers: Mapping[str, str], wanted: str) -> str:
    """`wanted` if the server lists it (or lists nothing), else the first model it serves."""
    request = urllib.request.Request(f"{base_url}/v1/models", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            ids = [m.get("id") for m in json.loads(reply.read()).get("data", [])]
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise credentials_error(base_url, error.code, bool(headers)) from None
        raise
    return wanted if wanted in ids or not ids else str(ids[0])


def credentials_error(base_url: str, status: int, sent_token: bool) -> CredentialsError:
    if sent_token:
        return CredentialsError(
            f"the server at {base_url} refused our token (HTTP {status}); check the key in "
            f"{API_KEY_ENV} (the runner passes API_KEY / JWT_SECRET as it)"
        )
    return CredentialsError(
        f"the server at {base_url} requires a token (HTTP {status}); set {API_KEY_ENV}, or run "
        "through run.py with API_KEY or JWT_SECRET set"
    )
