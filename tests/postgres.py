"""A throwaway PostgreSQL cluster for the store's tests: Debian's `postgresql` binaries, a data
folder in a temp dir, a free loopback port, run as an unprivileged user (`postgres` when the
tests run as root, as CI does). None of it outlives the test session."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import free_port

USER = "readiness"  # the cluster's superuser, trusted on loopback: tests pass any password


def postgres_bin() -> Path | None:
    """The newest installed server's bin folder (Debian puts it under /usr/lib/postgresql)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _as_owner(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the package's `postgres` user."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@contextmanager
def cluster(bindir: Path) -> Iterator[str]:
    """A running cluster; yields its URL (with a password, which trust auth ignores)."""
    folder = Path(tempfile.mkdtemp(prefix="readiness-pg-"))
    data, port = folder / "data", free_port()
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")

    def run(*argv: str) -> None:
        subprocess.run(
            _as_owner([str(bindir / argv[0]), *argv[1:]]),
            check=True, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    try:
        run("initdb", "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        run("pg_ctl", "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start")
        try:
            yield f"postgresql://{USER}:pg-s3cret-pass@127.0.0.1:{port}/postgres"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
