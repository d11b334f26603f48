"""The one way a workflow writes a result file: the schema version, the common envelope, the
per-request row, and an atomic write. Standard library only: the runner and every workflow
environment (the load generator's, the tool drivers') import it."""

from __future__ import annotations

import errno
import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from reports.redaction import redact_data

SCHEMA_VERSION = "2"
REQUEST_ROW_KEYS = (
    "index",
    "success",
    "error",
    "sent_ns",  # CLOCK_MONOTONIC: comparable with the server's own stamps
    "start_ms",
    "queue_ms",
    "prompt_tokens",
    "server_prompt_tokens",
    "cached_tokens",  # prompt tokens the server answered from its prompt cache
    "output_tokens",
    "server_output_tokens",
    "client_output_tokens",
    "ttft_ms",
    "first_chunk_ms",
    "response_model",  # the `model` the stream's first chunk named (our generator's rows)
    "tpot_ms",
    "e2el_ms",
    "itl_ms",
    "conversation",  # dataset=conversations: the conversation's line in the file
    "turn",  # ... and the turn's number in it (1: the first)
    "trimmed",  # a timed point's warmup or cooldown request, left out of its statistics
    "repeat",  # which measurement of a point measured several times it belongs to; null: once
)


@dataclass(frozen=True)
class Identity:
    """Which run, model and device a result belongs to, and the model name the server gave."""

    run_id: str
    model_id: str
    model: str
    device: str
    served_model: str

    @classmethod
    def from_runtime_spec(cls, runtime: Mapping[str, Any], served_model: str) -> Identity:
        spec = runtime["model_spec"]
        return cls(
            runtime["run_id"], runtime["model_id"], spec["hf_repo"], spec["device"], served_model
        )

    def fields(self) -> dict[str, str]:
        return {
            "run_id": self.run_id,
            "model_id": self.model_id,
            "model": self.model,
            "device": self.device,
            "served_model": self.served_model,
        }


def document(kind: str, identity: Identity, body: Mapping[str, object]) -> dict[str, object]:
    """A result document: the envelope every kind shares, then the kind's own fields."""
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        **identity.fields(),
        "date": datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S"),
        **body,
    }


def request_row(**values: object) -> dict[str, object]:
    """One `_requests.jsonl` row in the fixed key order; what was not measured is null."""
    unknown = sorted(set(values) - set(REQUEST_ROW_KEYS))
    if unknown:
        raise ValueError(f"not request row fields: {', '.join(unknown)}")
    return {key: values.get(key) for key in REQUEST_ROW_KEYS}


class WriteError(OSError):
    """A file that could not be written (a full disk, a quota, a read-only folder): the message
    names the file and the reason; the file is as it was (atomic write), no temp file is left."""

    def __init__(self, path: Path, error: OSError) -> None:
        super().__init__(error.errno, error.strerror)
        self.path = path
        self.reason = error.strerror or str(error)

    def __str__(self) -> str:
        hint = FULL_DISK_HINTS.get(self.errno or 0, "")
        return f"cannot write {self.path}: {self.reason}{hint}"


FULL_DISK_HINTS = {
    errno.ENOSPC: " (the disk is full: free some space and run again)",
    errno.EDQUOT: " (over the disk quota: free some space and run again)",
}


def write_atomic(path: Path, text: str, mode: int | None = None) -> None:
    """Write to a temp file of its own in the same folder, then rename: readers never see half
    a file, two writers never share a temp file, and a failed write leaves nothing behind (and
    raises a WriteError naming the file)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_then_rename(path, text, mode)
    except OSError as error:
        raise WriteError(path, error) from error


def write_all_atomic(texts: Mapping[Path, str]) -> None:
    """Write a set of files (a report's md, html, json...) all or none: each to a temp file
    first, and only when every one was written, each renamed into place. A failed write (a full
    disk) leaves the earlier set as it was and no temp file, and names the file it could not
    write."""
    written: dict[Path, str] = {}
    try:
        for path, text in texts.items():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                written[path] = _written_temp(path, text)
            except OSError as error:
                raise WriteError(path, error) from error
        for path, temp in written.items():
            os.replace(temp, path)
    finally:
        for temp in written.values():
            Path(temp).unlink(missing_ok=True)


def _written_temp(path: Path, text: str) -> str:
    fd, temp = _new_temp_file(path, None)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return temp


def _write_then_rename(path: Path, text: str, mode: int | None) -> None:
    fd, temp = _new_temp_file(path, mode)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _new_temp_file(path: Path, mode: int | None) -> tuple[int, str]:
    """A new file beside `path`, created with the umask's mode as any other file of the run
    folder (mkstemp's files are 0600 whatever the umask), or with `mode` from the start."""
    for _ in range(100):
        temp = str(path.parent / f".{path.name}.{secrets.token_hex(6)}")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            return os.open(temp, flags, 0o666 if mode is None else mode), temp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


def write_json(path: Path, payload: Mapping[str, object]) -> Path:
    """A result document, every secret the process knows masked (a server may echo one)."""
    write_atomic(path, json.dumps(redact_data(payload), indent=2) + "\n")
    return path


def write_jsonl(path: Path, rows: Iterable[Mapping[str, object]]) -> Path:
    write_atomic(path, "".join(json.dumps(redact_data(row)) + "\n" for row in rows))
    return path
