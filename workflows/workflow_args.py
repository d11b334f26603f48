"""`--workflow-args "k=v k2=v2"`: a typed mapping, and the check a workflow makes of its keys."""

from __future__ import annotations

import difflib
import math
import shlex
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from workflows.errors import UsageError

WorkflowArgValue = bool | int | float | str
WorkflowArgs = Mapping[str, WorkflowArgValue]


def parse_workflow_args(text: str | None) -> WorkflowArgs:
    """'max-concurrency=4 smoke=true' -> {'max_concurrency': 4, 'smoke': True}."""
    parsed: dict[str, WorkflowArgValue] = {}
    try:
        tokens = shlex.split(text or "")
    except ValueError as error:
        raise UsageError(f"--workflow-args: {error}; quote values that contain spaces") from None
    for token in tokens:
        key, sep, value = token.partition("=")
        if not sep or not key:
            raise UsageError(
                f"--workflow-args: '{token}' is not key=value; write e.g. \"ready_timeout=600\""
            )
        parsed[key.strip().replace("-", "_")] = _typed(value.strip())
    return MappingProxyType(parsed)


def _typed(value: str) -> WorkflowArgValue:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def reject_unknown_keys(workflow: str, args: WorkflowArgs, known: Iterable[str]) -> None:
    """Keys the workflow does not take, each with the nearest it does; the whole list of
    what it accepts, the runner's own keys among them."""
    accepted = sorted({*known, *RUNNER_KEYS})
    unknown = sorted(set(args) - set(accepted))
    if unknown:
        named = ", ".join(key + did_you_mean(key, accepted) for key in unknown)
        raise UsageError(
            f"--workflow-args: the {workflow} workflow does not take {named}; "
            f"it accepts: {', '.join(accepted)}"
        )


def did_you_mean(key: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, sorted(set(known)), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


RUNNER_KEYS = ("ready_timeout", "served_model")  # read by the runner itself, whatever the workflow


def workflow_only(args: WorkflowArgs) -> dict[str, WorkflowArgValue]:
    """The arguments meant for the workflow, without the runner's own keys."""
    return {key: value for key, value in args.items() if key not in RUNNER_KEYS}


def number_arg(args: WorkflowArgs, key: str, default: float) -> float:
    """A number of seconds (a timeout, say): finite and above 0."""
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise UsageError(
            f"--workflow-args: {key} must be a positive number (finite, above 0), got {value!r}"
        )
    return float(value)


def check_runner_args(args: WorkflowArgs) -> None:
    """The runner's own keys, whatever the workflow: checked before the run starts."""
    number_arg(args, "ready_timeout", 1.0)
    name_arg(args, "served_model")


def name_arg(args: WorkflowArgs, key: str) -> str | None:
    """A name (a model's, say): given as text, or not given at all."""
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not str(value).strip():
        raise UsageError(
            f"--workflow-args: {key} takes a name, e.g. {key}=org/Model, not {value!r}"
        )
    return str(value).strip()
