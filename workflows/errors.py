"""Named exit codes and the one error type a user is meant to read."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    WORKFLOW_FAILED = 1
    USAGE = 2
    SETUP = 3
    SERVER = 4
    NOT_ACCEPTED = 5  # release and reports: the run completed, a target was missed
    PARTIAL = 6  # release and reports: not a whole release (narrowed, or no release): no verdict
    REGRESSED = 7  # --compare-to baseline: a figure worse than the baseline beyond its interval
    INTERRUPTED = 130


class ReadinessError(Exception):
    """A failure the user can act on: one line saying what went wrong and what to do.

    `details` are extra lines (a log tail, say) shown under the message; the traceback only goes
    to the run log.
    """

    def __init__(
        self,
        message: str,
        exit_code: ExitCode = ExitCode.USAGE,
        details: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.details = details


class Interrupted(ReadinessError):
    """Ctrl-C or SIGTERM: whatever the run started has been stopped by the time this is raised."""

    def __init__(self) -> None:
        super().__init__(
            "interrupted; everything the runner started was stopped", ExitCode.INTERRUPTED
        )


class UsageError(ReadinessError):
    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.USAGE)


class SetupError(ReadinessError):
    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message, ExitCode.SETUP, details)


class ServerError(ReadinessError):
    def __init__(self, message: str, details: tuple[str, ...] = ()) -> None:
        super().__init__(message, ExitCode.SERVER, details)
