"""The statuses a check's result can have: one enum that every writer and reader shares.

A status nobody wrote (a typo, a file from another tool) cannot be read as one: `read_status`
raises, and acceptance counts the result as a blocker. Only PASS and FAIL are judgements;
SKIPPED, NOT_COMPARABLE and ERROR say the check could not be judged.
"""

from __future__ import annotations

from enum import Enum


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIPPED = "SKIPPED"  # the check did not run: an engine's lack, a setting, a mode
    NOT_COMPARABLE = "NOT_COMPARABLE"  # it ran, but there is nothing to hold it against
    ERROR = "ERROR"  # it could not run to its end

    def __str__(self) -> str:
        return self.value

    @property
    def judged(self) -> bool:
        return self in (Status.PASS, Status.FAIL)


class UnknownStatus(ValueError):
    """A result file names a status this runner never writes."""


def read_status(value: object, where: str) -> Status:
    """The status in a result file; anything else is refused, naming where it was found."""
    try:
        return Status(value)
    except ValueError:
        known = ", ".join(status.value for status in Status)
        raise UnknownStatus(f"{where}: unknown status {value!r} (known: {known})") from None
