"""Secrets never reach a console line or a file of the run folder: every value registered here
is masked, also when a server echoes it back, cut short or not. Standard library only: the
runner and every workflow environment import it (the runner registers what it reads; a child
registers what it was given in its environment)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO, cast

MASK = "***"
SECRET_ENV_VARS = (
    "HF_TOKEN",
    "JWT_SECRET",
    "API_KEY",
    "OPENAI_API_KEY",
    "VLLM_API_KEY",
    "LLAMA_API_KEY",
)
SHORTEST_SECRET = 4  # anything shorter would mask ordinary words
SHORTEST_CUT = 8  # a secret's first characters that still count as it (a message cut short)
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    if value and len(value) >= SHORTEST_SECRET:
        _secrets.add(value)


def register_environment_secrets(environ: Mapping[str, str]) -> None:
    """The secrets a child process was handed in its environment (the token, HF_TOKEN)."""
    for name in SECRET_ENV_VARS:
        register_secret(environ.get(name))


def forget_secrets() -> None:
    _secrets.clear()


def redact(text: str) -> str:
    """`text` with every registered secret masked, also what is left of one where a message was
    cut (`body[:200]`, `line[:197] + '...'`)."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = _mask(text, secret)
    return text


def _mask(text: str, secret: str) -> str:
    """Each run of the secret's first SHORTEST_CUT or more characters (all of them, or the part
    before a cut) as MASK; a shorter secret only where it appears whole."""
    if len(secret) < SHORTEST_CUT:
        return text.replace(secret, MASK)
    head, parts, start = secret[:SHORTEST_CUT], [], 0
    while (found := text.find(head, start)) >= 0:
        parts += [text[start:found], MASK]
        start = found + _shared_length(text, found, secret)
    return "".join(parts) + text[start:] if parts else text


def _shared_length(text: str, at: int, secret: str) -> int:
    """How many of the secret's characters `text` holds from `at` on."""
    length = SHORTEST_CUT
    while length < len(secret) and at + length < len(text) and text[at + length] == secret[length]:
        length += 1
    return length


def redact_data(value: Any) -> Any:
    """A JSON-like value (dicts, lists, strings, numbers) with every string in it redacted,
    keys included (an error message can be a key: `error_counts`)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {redact_data(key): redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value


def redact_file(path: Path) -> None:
    """A file a third-party program wrote (a tool's log), rewritten with its secrets masked."""
    text = path.read_text(errors="replace")
    cleaned = redact(text)
    if cleaned != text:
        path.write_text(cleaned)


class RedactingStream:
    """sys.stdout or sys.stderr (looked up at each write, so a redirection still applies) with
    every write redacted: a console built on it never prints a registered secret."""

    def __init__(self, name: str = "stdout") -> None:
        self.name = name

    @property
    def target(self) -> TextIO:
        stream: TextIO = getattr(sys, self.name)
        return stream

    def write(self, text: str) -> int:
        self.target.write(redact(text))
        return len(text)

    def __getattr__(self, attribute: str) -> Any:  # isatty, fileno, flush, encoding, ...
        return getattr(self.target, attribute)


def redacting_stream(name: str = "stdout") -> TextIO:
    """sys.stdout or sys.stderr, redacted: what a console of the runner or a child writes to."""
    return cast(TextIO, RedactingStream(name))


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's final message, whatever path the value took to get there."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
