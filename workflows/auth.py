"""Who may talk to the server: a JWT minted from JWT_SECRET, an API_KEY as is, or none.

Secrets come from `workflows.secrets` (the environment, then the repo's `.env`).
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass

from benchmarking.server_api import bearer_headers
from workflows.redact import register_secret
from workflows.secrets import Secrets

JWT_CLAIMS = {"team_id": "tenstorrent", "token_id": "debug-test"}


@dataclass(frozen=True)
class Auth:
    """The bearer token clients send (None: no auth) and where it came from."""

    token: str | None
    source: str

    @property
    def enabled(self) -> bool:
        return self.token is not None

    def headers(self) -> dict[str, str]:
        return bearer_headers(self.token)


def mint_jwt(secret: str) -> str:
    """HS256 token with fixed claims and no expiry: server and clients derive the same string.

    PyJWT warns about short secrets on stderr; the secret is the user's choice, so not here.
    """
    import jwt  # imported when first needed: it costs ~40 ms of start-up

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(JWT_CLAIMS, secret, algorithm="HS256")


def register_derived_tokens(found: Secrets) -> None:
    """The token a server was given from JWT_SECRET, masked as the secret is (a report rebuilt
    later knows the secret, not the token)."""
    jwt_secret = found.get("JWT_SECRET")
    if jwt_secret:
        register_secret(mint_jwt(jwt_secret))


def resolve_auth(found: Secrets, no_auth: bool, generate: bool) -> Auth:
    """JWT_SECRET beats API_KEY; with neither, a server we start gets a fresh random key."""
    if no_auth:
        return Auth(None, "disabled (--no-auth)")
    jwt_secret, api_key = found.get("JWT_SECRET"), found.get("API_KEY")
    if jwt_secret:
        token = mint_jwt(jwt_secret)
        register_secret(token)
        return Auth(token, "JWT_SECRET")
    if api_key:
        return Auth(api_key, "API_KEY")
    if generate:
        token = secrets.token_urlsafe(32)
        register_secret(token)
        return Auth(token, "generated for this run")
    return Auth(None, "none (set JWT_SECRET or API_KEY if the server requires auth)")
