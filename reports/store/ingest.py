"""Writing a run's record into the store: the run's row and everything tied to it in one
transaction, so a run is in the store whole or not at all. A run already there is left as it
is (ingesting twice is a no-op), also when two processes ingest it at once."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from reports.store import schema
from reports.store.run_record import RunRecord


def ingest(connection: Connection, record: RunRecord) -> bool:
    """True if the run was written, False if the store already had it."""
    if _stored_id(connection, record.run_id) is not None:
        return False
    try:
        with connection.begin_nested():  # a savepoint: a lost race undoes only this run
            run_key = connection.execute(
                sa.insert(schema.runs).values(**record.run).returning(schema.runs.c.id)
            ).scalar_one()
            _insert_rows(connection, run_key, record)
    except sa.exc.IntegrityError:
        if _stored_id(connection, record.run_id) is None:
            raise  # not the run id: a real error
        return False  # another process stored it first
    return True


def _insert_rows(connection: Connection, run_key: int, record: RunRecord) -> None:
    for table, rows in (
        (schema.benchmark_points, record.points),
        (schema.eval_scores, record.evals),
        (schema.spec_checks, record.spec_checks),
        (schema.verdict_checks, record.verdict_checks),
    ):
        if rows:
            connection.execute(sa.insert(table), [{**row, "run": run_key} for row in rows])


def _stored_id(connection: Connection, run_id: str) -> int | None:
    query = sa.select(schema.runs.c.id).where(schema.runs.c.run_id == run_id)
    found = connection.execute(query).scalar_one_or_none()
    return None if found is None else int(found)
