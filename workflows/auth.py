"""Who may talk to the server: a JWT minted from JWT_SECRET, an API_KEY as is, or none.

Secrets come from the environment or the repo's `.env` (the environment wins). Every secret is
registered for redaction the moment it is read.
"""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import jwt
from dotenv import dotenv_values

from workflows.redact import SECRET_ENV_VARS, register_secret

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
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def mint_jwt(secret: str) -> str:
    """HS256 token with fixed claims and no expiry: server and clients derive the same string.

    PyJWT warns about short secrets on stderr; the secret is the user's choice, so not here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.encode(JWT_CLAIMS, secret, algorithm="HS256")


def load_secrets(environ: Mapping[str, str], dotenv_path: Path) -> dict[str, str]:
    """Secret variables from `.env`, overridden by the environment; all registered for redaction."""
    found: dict[str, str] = {}
    if dotenv_path.is_file():
        found.update({k: v for k, v in dotenv_values(dotenv_path).items() if v})
    found.update({k: v for k, v in environ.items() if k in SECRET_ENV_VARS and v})
    for value in found.values():
        register_secret(value)
    return found


def resolve_auth(found: Mapping[str, str], no_auth: bool, generate: bool) -> Auth:
    """JWT_SECRET beats API_KEY; with neither, a server we start gets a fresh random key."""
    if no_auth:
        return Auth(None, "disabled (--no-auth)")
    if found.get("JWT_SECRET"):
        token = mint_jwt(found["JWT_SECRET"])
        register_secret(token)
        return Auth(token, "JWT_SECRET")
    if found.get("API_KEY"):
        return Auth(found["API_KEY"], "API_KEY")
    if generate:
        token = secrets.token_urlsafe(32)
        register_secret(token)
        return Auth(token, "generated for this run")
    return Auth(None, "none (set JWT_SECRET or API_KEY if the server requires auth)")
