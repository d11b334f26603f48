"""The results store from the command line: `reports --ingest RUN_DIR...`, `--history`,
`--baseline`, and the run that stores itself when a store is configured. SQLAlchemy is imported
here only inside the functions that open the store."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from reports.store.url import ENV_VAR, StoreUrl, StoreUrlError, store_url
from workflows.errors import ExitCode, SetupError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from reports.store.run_record import RunRecord


def the_store(flag: str | None, environ: Mapping[str, str], logs_root: Path) -> StoreUrl:
    try:
        return store_url(flag, environ, logs_root)
    except StoreUrlError as error:
        raise UsageError(str(error)) from None


@contextmanager
def store_transaction(url: StoreUrl) -> Iterator[Connection]:
    """The store, migrated, in one transaction; a store that cannot be reached is exit 3."""
    from reports.store.database import StoreError, open_store, transaction

    try:
        engine = open_store(url)
        try:
            with transaction(engine, url) as connection:
                yield connection
        finally:
            engine.dispose()
    except StoreError as error:
        raise SetupError(str(error)) from None


def store_exists(url: StoreUrl) -> bool:
    """A SQLite store that was never written is not made just to find it empty."""
    if not url.is_sqlite:
        return True
    return Path(url.url.split(":///", 1)[-1]).is_file()


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_records(folders: Sequence[Path]) -> list[RunRecord]:
    """Every folder's record, before anything is written: one that is not a complete run
    stops them all, naming it and why."""
    from reports.shapes import ReportError
    from reports.store.run_record import read_record

    stamp, records = now_utc(), []
    for folder in folders:
        try:
            records.append(read_record(folder, stamp))
        except ReportError as error:
            raise UsageError(f"--ingest: {error}") from None
    return records


def run_ingest(folders: Sequence[Path], url: StoreUrl, console: Console) -> ExitCode:
    from reports.store.ingest import ingest

    records = read_records(folders)
    with store_transaction(url) as connection:
        written = [ingest(connection, record) for record in records]
    for record, new in zip(records, written, strict=True):
        state = "stored" if new else "already in the store, unchanged"
        _say(console, f"{record.run_id}: {state} ({record.run['verdict']})")
        if record.note and new:
            _say(console, f"  note: {record.note}")
    _say(console, f"results store {url.shown}: {sum(written)} of {len(records)} run(s) stored")
    return ExitCode.OK


def record_run(folder: Path, url: StoreUrl, console: Console) -> None:
    """A finished run stores itself; a run the store cannot take is said, never a failure."""
    from reports.shapes import ReportError
    from reports.store.ingest import ingest
    from reports.store.run_record import read_record

    try:
        record = read_record(folder, now_utc())
    except ReportError as error:
        _say(console, f"results store: not stored: {error}")
        return
    try:
        with store_transaction(url) as connection:
            new = ingest(connection, record)
    except SetupError as error:
        _say(console, f"results store: not stored: {error.message}")
        return
    _say(console, f"results store {url.shown}: {'stored' if new else 'already had'} this run")
    if record.note and new:
        _say(console, f"  note: {record.note}")


def configured_store(flag: str | None, environ: Mapping[str, str], logs_root: Path) -> StoreUrl:
    """The store a run writes itself into: only one given by --db or READINESS_DB_URL."""
    url = the_store(flag, environ, logs_root)
    return url if url.configured else StoreUrl("", configured=False)


def _say(console: Console, line: str) -> None:
    console.print(line, markup=False, highlight=False)


def as_json(console: Console, value: object) -> None:
    console.out(json.dumps(value, indent=2, default=str), highlight=False)


def store_env(environ: Mapping[str, str], flag: str | None) -> dict[str, str]:
    """The run's environment with --db as READINESS_DB_URL: the workflows read the store there."""
    return {**environ, ENV_VAR: flag} if flag else dict(environ)


def parse_point(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    parts = text.replace(" ", "").split(",")
    if len(parts) != 3 or not all(part.isdigit() and int(part) > 0 for part in parts):
        raise UsageError(
            f"--point {text}: expected ISL,OSL,CONCURRENCY as three whole numbers, e.g. 128,128,8"
        )
    isl, osl, concurrency = (int(part) for part in parts)
    return (isl, osl, concurrency)


def parse_metric(text: str | None) -> str:
    from reports.store.queries import METRICS

    name = (text or "ttft").strip().lower()
    if name not in METRICS:
        raise UsageError(f"--metric {text}: one of {', '.join(METRICS)}")
    return name


def _ensure(options: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if not options.get(name):
            raise UsageError(
                f"--{name} is needed: the store keeps runs per (model, device), e.g. "
                "--model SmolLM2-135M-Instruct --device cpu"
            )


def model_and_device(options: Mapping[str, Any]) -> tuple[str, str]:
    _ensure(options, "model", "device")
    return str(options["model"]), str(options["device"])
