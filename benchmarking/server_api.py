"""What every load generator here needs from the server before it starts: the bearer token
(from OPENAI_API_KEY, never from argv) and the certainty that the server serves the model the run
is about. Standard library only: the tool drivers' environments have no `requests`."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from benchmarking.deadline import DeadlineExceeded, deadline, urlopen

API_KEY_ENV = "OPENAI_API_KEY"
SERVED_MODEL_ARG = "served_model"  # the workflow argument naming the model the server answers to
MODELS_SECONDS = 30.0  # GET /v1/models, its answer read whole


class CredentialsError(RuntimeError):
    """The server wants a token we lack, or refuses ours: a user's fix, said in one line."""


class ServedModelError(RuntimeError):
    """The server does not serve the model the run is about (or does not say what it serves):
    one line naming both, and the fix."""


def bearer_headers(token: str | None) -> dict[str, str]:
    """The one place the Authorization header is written: none without a token."""
    return {"Authorization": f"Bearer {token}"} if token else {}


def auth_headers(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    return bearer_headers(environ.get(API_KEY_ENV))


def expected_model(runtime: Mapping[str, Any], given: object = None) -> str:
    """The name the server must answer to: the one given (`served_model=`), else the one the
    runner checked and recorded in runtime_spec.json, else the spec's repo (the name every server
    the runner starts registers)."""
    for name in (given, runtime.get(SERVED_MODEL_ARG), runtime["model_spec"]["hf_repo"]):
        if name is not None and str(name):
            return str(name)
    raise ValueError("the runtime spec names no model (model_spec.hf_repo)")


def served_models(base_url: str, headers: Mapping[str, str]) -> list[str]:
    """The model ids GET /v1/models lists; CredentialsError when it refuses us."""
    request = urllib.request.Request(f"{base_url}/v1/models", headers=dict(headers))
    try:
        with deadline(MODELS_SECONDS, "GET /v1/models"), urlopen(request, MODELS_SECONDS) as reply:
            entries = json.loads(reply.read()).get("data") or []
    except urllib.error.HTTPError as error:
        if error.code in (401, 403):
            raise credentials_error(base_url, error.code, bool(headers)) from None
        raise ServedModelError(_unlisted(base_url, f"HTTP {error.code}")) from None
    except DeadlineExceeded as late:
        why = f"no complete answer within {late.seconds:g}s"
        raise ServedModelError(_unlisted(base_url, why)) from None
    except (urllib.error.URLError, OSError, ValueError, AttributeError) as error:
        raise ServedModelError(_unlisted(base_url, str(error))) from None
    return [str(entry.get("id")) for entry in entries if isinstance(entry, dict)]


def require_served_model(base_url: str, headers: Mapping[str, str], expected: str) -> str:
    """`expected`, once the server lists it; ServedModelError naming both when it does not."""
    listed = served_models(base_url, headers)
    if expected in listed:
        return expected
    serves = ", ".join(listed) if listed else "no model"
    raise ServedModelError(
        f"the server at {base_url} serves {serves}, not {expected}; point the run at a server "
        f"of {expected}, or pass --workflow-args {SERVED_MODEL_ARG}=NAME to use the name the "
        "server answers to"
    )


def _unlisted(base_url: str, why: str) -> str:
    return (
        f"the server at {base_url} does not say which model it serves (GET /v1/models: {why}); "
        "the run needs it to list the model it measures"
    )


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
