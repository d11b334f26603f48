"""Secrets never reach a log, a report or the console: the runner's name for the one registry of
secrets, `reports.redaction`, which the workflows' child processes share (standard library only)."""

from __future__ import annotations

from reports.redaction import (
    MASK,
    SECRET_ENV_VARS,
    RedactingFilter,
    forget_secrets,
    redact,
    redact_data,
    redacting_stream,
    register_secret,
    registered_secrets,
)

__all__ = [
    "MASK",
    "SECRET_ENV_VARS",
    "RedactingFilter",
    "forget_secrets",
    "redact",
    "redact_data",
    "redacting_stream",
    "register_secret",
    "registered_secrets",
]
