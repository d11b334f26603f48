"""Alembic's entry: the store opens a connection, begins its transaction and hands it over in
`config.attributes["connection"]`; the migrations run inside that transaction (PostgreSQL and
SQLite both roll DDL back), so a migration cut short leaves the schema as it was."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

connection = context.config.attributes["connection"]
assert isinstance(connection, Connection), "the store passes its own connection"
context.configure(connection=connection, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
