"""Opening the store: an engine for its URL, the schema brought to the newest migration on
first use (inside one transaction, one process at a time), and the errors a person can act on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from reports.store.url import StoreUrl

MIGRATIONS = Path(__file__).with_name("migrations")
CONNECT_TIMEOUT_S = 10  # a PostgreSQL server that does not answer is said, not waited for
SQLITE_BUSY_TIMEOUT_S = 60.0  # a writer waits this long for another one to commit
ADVISORY_LOCK = 0x5245_4144  # "READ": PostgreSQL's lock key while migrations run


class StoreError(Exception):
    """The store could not be reached or written; the message names it (password masked)."""


def open_store(url: StoreUrl) -> Engine:
    """An engine on the store, its schema migrated to the newest revision."""
    engine = _engine(url)
    try:
        with engine.begin() as connection:
            migrate(connection)
    except sa.exc.SQLAlchemyError as error:
        engine.dispose()
        raise StoreError(f"results store {url.shown}: {_reason(error)}") from None
    return engine


def _engine(url: StoreUrl) -> Engine:
    if not url.is_sqlite:
        return sa.create_engine(url.url, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    path = url.url.split(":///", 1)[1] if ":///" in url.url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _sqlite_connected)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connected(dbapi_connection: Any, _record: Any) -> None:
    """The driver's own transaction handling off: the store begins each transaction itself."""
    dbapi_connection.isolation_level = None
    dbapi_connection.execute("PRAGMA foreign_keys = ON")


def _sqlite_begin(connection: Connection) -> None:
    """A write lock from the start: two ingests queue instead of failing on a lock upgrade."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def migrate(connection: Connection) -> None:
    """The schema to the newest migration, inside the caller's transaction; on PostgreSQL one
    process at a time (SQLite's BEGIN IMMEDIATE already serialises them)."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines are not the user's
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


@contextmanager
def transaction(engine: Engine, url: StoreUrl) -> Iterator[Connection]:
    """One transaction: all of it lands, or (an error, a kill) none of it."""
    try:
        with engine.begin() as connection:
            yield connection
    except sa.exc.SQLAlchemyError as error:
        raise StoreError(f"results store {url.shown}: {_reason(error)}") from None


def _reason(error: sa.exc.SQLAlchemyError) -> str:
    """The driver's message, first line, without SQLAlchemy's SQL echo and help links."""
    original = getattr(error, "orig", None) or error
    return str(original).strip().splitlines()[0] if str(original).strip() else type(error).__name__
