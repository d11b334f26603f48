"""Before any check: the model name the requests carry (the one the server should answer to;
whether it does is the models_list check's to say), and whether the server takes our token
(llama-server keeps /v1/models public, so one 1-token completion asks)."""

from __future__ import annotations

import requests

from benchmarking.deadline import DeadlineExceeded
from benchmarking.server_api import bearer_headers, credentials_error, expected_model
from evals.spec_tests.cli import Arguments
from evals.spec_tests.client import CONNECTION_ERRORS, Client
from evals.spec_tests.suite import COMPLETIONS, Suite

REFUSED = (401, 403)


def connect(args: Arguments, engine: str, token: str | None) -> Suite:
    """The suite; CredentialsError when the server wants a token we lack or refuses ours."""
    spec = args.runtime["model_spec"]
    headers = bearer_headers(token)
    model = expected_model(args.runtime)
    client = Client(args.server_url, model, headers, timeout_s=args.request_timeout_s)
    status = probe_status(client)
    if status in REFUSED:
        raise credentials_error(args.server_url, status, bool(token))
    limits = int(spec["max_context"]), int(spec["max_concurrency"])
    min_share = float(spec.get("answers_under_load_min_share") or 1.0)
    return Suite(client, engine, *limits, token, min_share)


def probe_status(client: Client) -> int | None:
    """The status of a 1-token completion; None if the connection broke (the checks say more)."""
    try:
        return client.send(
            COMPLETIONS, client.encoded({"prompt": "Hi", "max_tokens": 1})
        ).status_code
    except CONNECTION_ERRORS:
        return None


def server_says(client: Client, where: str) -> object:
    """What the server says of itself at `where`, "PATH FIELD.SUB" (llama.cpp's GET /props
    describes its chat template's capabilities): the field's value, None if it says nothing."""
    path, field = where.split(" ", 1)
    try:
        reply = client.get(path)
        value: object = reply.json() if reply.ok else None
    except (requests.RequestException, DeadlineExceeded, ValueError):
        return None
    for key in field.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value
