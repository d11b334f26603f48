"""The one place secrets are read: the process environment first, then the repo's `.env`.

Every value is registered for redaction the moment it is read, and every user of a secret (auth,
weight downloads, container environments) takes it from the `Secrets` this returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from reports.store.url import ENV_VAR as STORE_URL_VAR
from reports.store.url import register_url_secret
from workflows.redact import SECRET_ENV_VARS, register_secret


@dataclass(frozen=True)
class Secrets:
    values: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    origins: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def get(self, name: str) -> str | None:
        return self.values.get(name) or None

    def origin(self, name: str) -> str:
        """'environment' or '.env': where a secret came from (never its value)."""
        return self.origins.get(name, "nowhere")


def load_secrets(environ: Mapping[str, str], dotenv_path: Path) -> Secrets:
    """Secret variables from the environment, else from `.env`; all registered for redaction."""
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    for name, value in _dotenv(dotenv_path).items():
        if name in SECRET_ENV_VARS and value:
            values[name], origins[name] = value, ".env"
    for name in SECRET_ENV_VARS:
        if environ.get(name):
            values[name], origins[name] = environ[name], "environment"
    for value in values.values():
        register_secret(value)
    register_url_secret(environ.get(STORE_URL_VAR))  # the results store's password
    return Secrets(MappingProxyType(values), MappingProxyType(origins))


def _dotenv(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value}
