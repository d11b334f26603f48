"""Which database the store is, and how its URL may be shown. Standard library only: the runner
reads the URL (and registers its password as a secret) before anything else is imported."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from reports.redaction import MASK, register_secret

ENV_VAR = "READINESS_DB_URL"
DEFAULT_FILE = "results.db"  # under the logs root (workflow_logs/ or WORKFLOW_LOGS_DIR)
SCHEMES = ("sqlite", "postgresql")
BASELINE = "baseline"  # --compare-to baseline: the store's last accepted release


class StoreUrlError(ValueError):
    """A store URL the runner cannot use; the message says what to pass instead."""


@dataclass(frozen=True)
class StoreUrl:
    url: str  # as SQLAlchemy takes it, credentials included: never printed
    configured: bool  # given by --db or READINESS_DB_URL (else: the default SQLite file)

    @property
    def shown(self) -> str:
        """The URL as a person gave it, the password masked."""
        return masked(self.url).replace("postgresql+psycopg://", "postgresql://", 1)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


def is_baseline(compare_to: Path | str | None) -> bool:
    """`--compare-to baseline` (a folder of that name is passed by its absolute path)."""
    return compare_to is not None and str(compare_to) == BASELINE


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:{MASK}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def register_url_secret(url: str | None) -> None:
    """The password in a store URL is a secret from the moment the runner reads it."""
    if url:
        register_secret(urlsplit(url).password)


def store_url(flag: str | None, environ: Mapping[str, str], logs_root: Path) -> StoreUrl:
    """--db, else READINESS_DB_URL, else the SQLite file under the logs root."""
    given = flag or environ.get(ENV_VAR) or None
    if given is None:
        return StoreUrl(f"sqlite:///{(logs_root / DEFAULT_FILE).resolve()}", configured=False)
    register_url_secret(given)
    scheme = urlsplit(given).scheme.split("+")[0]
    if scheme not in SCHEMES:
        raise StoreUrlError(
            f"results store {masked(given)}: the scheme {scheme or '(none)'!r} is not one the "
            "store takes; pass sqlite:///path/results.db or postgresql://user@host/db"
        )
    return StoreUrl(_with_driver(given), configured=True)


def _with_driver(url: str) -> str:
    """postgresql:// means psycopg 3 (the driver the runner ships), not psycopg2."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url
