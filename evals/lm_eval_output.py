"""The files lm-eval writes itself (its results JSON, its samples JSONL, its log) rewritten with
the run's secrets masked once it has finished: a sample holds the server's answer word for word,
a key it echoed too. JSON stays JSON: a value is masked inside its string, never across it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from reports.redaction import redact, redact_data
from reports.results import write_atomic


def mask_output(paths: Iterable[Path]) -> None:
    """Every file under each of `paths` (a folder or a file), rewritten where it held a secret."""
    for path in paths:
        files = sorted(path.rglob("*")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                mask_file(file)


def mask_file(path: Path) -> None:
    """The file rewritten (atomically) if it held a secret, its times kept: the newest results
    file is the one lm-eval wrote last (lm_eval_command.results_files)."""
    text = path.read_text(errors="replace")
    if path.suffix == ".json":
        cleaned = _masked_json(text)
    elif path.suffix == ".jsonl":
        cleaned = "".join(_masked_json(line) for line in text.splitlines(keepends=True))
    else:
        cleaned = redact(text)
    if cleaned != text:
        times = path.stat()
        write_atomic(path, cleaned)
        os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))


def _masked_json(text: str) -> str:
    """A JSON document (or one JSONL line) with every string masked, laid out as lm-eval lays it
    (indent 2, non-ASCII as is); unchanged when nothing was masked, as text when it is not JSON."""
    try:
        document: Any = json.loads(text)
    except ValueError:
        return redact(text)
    masked = redact_data(document)
    if masked == document:
        return text
    ending = text[len(text.rstrip("\r\n")) :]
    indent = None if "\n" not in text.strip() else 2  # a JSONL line stays one line
    return json.dumps(masked, indent=indent, ensure_ascii=False) + ending
