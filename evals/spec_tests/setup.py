"""Before any check: the model name the server answers to, and whether it takes our token
(llama-server keeps /v1/models public, so one 1-token completion asks too)."""

from __future__ import annotations

from benchmarking.server_api import bearer_headers, credentials_error, served_model
from evals.spec_tests.cli import Arguments
from evals.spec_tests.client import CONNECTION_ERRORS, Client
from evals.spec_tests.suite import COMPLETIONS, Suite

REFUSED = (401, 403)


def connect(args: Arguments, engine: str, token: str | None) -> Suite:
    """The suite; CredentialsError when the server wants a token we lack or refuses ours."""
    spec = args.runtime["model_spec"]
    headers = bearer_headers(token)
    model = served_model(args.server_url, headers, spec["hf_repo"])
    client = Client(args.server_url, model, headers)
    status = probe_status(client)
    if status in REFUSED:
        raise credentials_error(args.server_url, status, bool(token))
    return Suite(client, engine, int(spec["max_context"]), int(spec["max_concurrency"]), token)


def probe_status(client: Client) -> int | None:
    """The status of a 1-token completion; None if the connection broke (the checks say more)."""
    try:
        return client.send(
            COMPLETIONS, client.encoded({"prompt": "Hi", "max_tokens": 1})
        ).status_code
    except CONNECTION_ERRORS:
        return None
