"""What every load generator here needs from the server before it starts: the bearer token
(from OPENAI_API_KEY, never from argv) and the model name the server answers to. Standard
library only: the tool drivers' environments have no `requests`."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Mapping

API_KEY_ENV = "OPENAI_API_KEY"


def auth_headers(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    token = environ.get(API_KEY_ENV)
    return {"Authorization": f"Bearer {token}"} if token else {}


def served_model(base_url: str, headers: Mapping[str, str], wanted: str) -> str:
    """`wanted` if the server lists it (or lists nothing), else the first model it serves."""
    request = urllib.request.Request(f"{base_url}/v1/models", headers=dict(headers))
    with urllib.request.urlopen(request, timeout=30) as reply:
        ids = [m.get("id") for m in json.loads(reply.read()).get("data", [])]
    return wanted if wanted in ids or not ids else str(ids[0])
