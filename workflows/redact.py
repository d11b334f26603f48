"""Secrets never reach a log, a report or the console: every value registered here is masked."""

from __future__ import annotations

import logging

MASK = "***"
SECRET_ENV_VARS = (
    "HF_TOKEN",
    "JWT_SECRET",
    "API_KEY",
    "OPENAI_API_KEY",
    "VLLM_API_KEY",
    "LLAMA_API_KEY",
)
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    if value and len(value) >= 4:
        _secrets.add(value)


def forget_secrets() -> None:
    _secrets.clear()


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


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
