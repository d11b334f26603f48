"""Secrets never reach a console line or a file of the run folder: every value registered here
is masked, also when a server echoes it back, cut short or not. Standard library only: the
runner and every workflow environment import it (the runner registers what it reads; a child
registers what it was given in its environment)."""

from __future__ import annotations

import base64
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO, cast
from urllib.parse import quote, quote_plus

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
# every secret as a server could send it back, by the first characters that count as it
# (SHORTEST_CUT, or all of a shorter one), the longest forms first: computed once per secret
_forms: list[tuple[str, list[str]]] = []


def register_secret(value: str | None) -> None:
    if value and len(value) >= SHORTEST_SECRET and value not in _secrets:
        _secrets.add(value)
        _group_forms({form for secret in _secrets for form in encoded_forms(secret)})


def _group_forms(forms: set[str]) -> None:
    heads: dict[str, list[str]] = {}
    for form in sorted(forms, key=len, reverse=True):
        heads.setdefault(form[:SHORTEST_CUT], []).append(form)
    _forms[:] = sorted(heads.items(), key=lambda item: len(item[1][0]), reverse=True)


def encoded_forms(secret: str) -> set[str]:
    """The secret as a server may echo it: as is, URL-encoded (a query string), JSON-escaped (an
    error body quoted inside a string), and base64 (standard and URL-safe): of the secret alone
    and inside a longer text, such as basic auth's `user:secret`, whatever comes before it."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret)}
    escaped = _json_escaped(secret)
    forms |= escaped | {twice for once in escaped for twice in _json_escaped(once)}  # JSON in JSON
    for encoded in _base64_forms(secret.encode()):
        forms |= {encoded, encoded.replace("+", "-").replace("/", "_")}
    return forms


def _json_escaped(text: str) -> set[str]:
    return {json.dumps(text, ensure_ascii=ascii_only)[1:-1] for ascii_only in (True, False)}


def _base64_forms(data: bytes) -> list[str]:
    """base64 of the secret alone, and of the secret but its first 1 or 2 bytes: a longer text
    that puts the secret 1 or 2 bytes into a 3-byte group (basic auth's `user:secret`) encodes
    the rest the same from the next group on. Only forms whose first SHORTEST_CUT characters are
    the secret's alone (a few base64 characters would match by chance)."""
    forms = [base64.b64encode(data).decode()]
    for skip in (1, 2):  # the bytes that share a group with what comes before the secret
        body = data[skip:]
        if len(body) // 3 * 4 >= SHORTEST_CUT:  # the characters of whole groups
            forms.append(base64.b64encode(body).decode())
    return [form for form in forms if len(form) >= SHORTEST_CUT]


def register_environment_secrets(environ: Mapping[str, str]) -> None:
    """The secrets a child process was handed in its environment (the token, HF_TOKEN)."""
    for name in SECRET_ENV_VARS:
        register_secret(environ.get(name))


def registered_secrets() -> frozenset[str]:
    """What is masked (each in its encoded forms too): for a process that masks on the runner's
    behalf (workflows/guard.py, copying a server's output)."""
    return frozenset(_secrets)


def forget_secrets() -> None:
    _secrets.clear()
    _forms.clear()


def redact(text: str) -> str:
    """`text` with every registered secret masked, in each of its encoded forms too, also what
    is left of one where a message was cut (`body[:200]`, `line[:197] + '...'`)."""
    for head, forms in _forms:
        text = _mask(text, head, forms)
    return text


def _mask(text: str, head: str, forms: list[str]) -> str:
    """Each run of a form's first SHORTEST_CUT or more characters (all of them, or the part
    before a cut: the longest any form of this `head` shares) as MASK; a form shorter than
    SHORTEST_CUT only where it appears whole. A backslash escape is masked whole, never half
    (JSON text stays JSON)."""
    parts, start = [], 0
    while (found := text.find(head, start)) >= 0:
        end = found + max(_shared_length(text, found, form) for form in forms)
        if found > start and _escaped(text, found):
            found -= 1
        if end < len(text) and _escaped(text, end):
            end += 1
        parts += [text[start:found], MASK]
        start = end
    return "".join(parts) + text[start:] if parts else text


def _escaped(text: str, at: int) -> bool:
    """The character at `at` follows an odd number of backslashes: the second half of an escape."""
    count = 0
    while at - count > 0 and text[at - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _shared_length(text: str, at: int, secret: str) -> int:
    """How many of the secret's characters `text` holds from `at` on (its head is there)."""
    length = min(SHORTEST_CUT, len(secret))
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
