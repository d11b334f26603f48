"""One workflow argument's value, typed and range-checked: a number in its range (finite unless
the range says inf), a whole number, a list of numbers, true or false. A value out of range is a
SettingsError naming the key, the range it takes and the value given. Standard library only:
the runner checks every argument with these before anything starts, the children again."""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Iterable, Sequence

Accepts = Callable[[float], bool]


class SettingsError(ValueError):  # a ValueError: callers that check several parsers catch that
    """A workflow argument a workflow cannot use; the message says which and what it takes."""


def out_of_range(key: str, expected: str, value: object) -> SettingsError:
    return SettingsError(f"{key}: expected {expected}, got {value!r}")


def unknown_keys(workflow: str, given: Iterable[str], accepted: Sequence[str]) -> None:
    """A SettingsError for keys the workflow does not take, each with the nearest it does."""
    unknown = sorted(set(given) - set(accepted))
    if unknown:
        named = ", ".join(key + _nearest(key, accepted) for key in unknown)
        raise SettingsError(
            f"the {workflow} workflow does not take {named}; it accepts: {', '.join(accepted)}"
        )


def _nearest(key: str, accepted: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, accepted, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def _float(value: object) -> float:
    """The value as a number; anything else (text, true/false) as NaN, which no range holds."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(str(value))
    except ValueError:
        return math.nan


def number(value: object, key: str, accepts: Accepts, expected: str) -> float:
    """A number `accepts` holds for (NaN never does: every comparison with it is false)."""
    parsed = _float(value)
    if math.isnan(parsed) or not accepts(parsed):
        raise out_of_range(key, expected, value)
    return parsed


def positive(value: object, key: str, unit: str = "") -> float:
    """A finite number above 0."""
    expected = f"a positive number{unit and ' of ' + unit} (finite, above 0)"
    return number(value, key, lambda x: 0 < x < math.inf, expected)


def fraction(value: object, key: str) -> float:
    """A share from 0 to 1, both included."""
    return number(value, key, lambda x: 0 <= x <= 1, "a fraction from 0 to 1 (0.01: 1%)")


def whole(value: object, key: str, minimum: int) -> int:
    """A whole number of `minimum` or more (true/false and 1.5 are not)."""
    if not isinstance(value, bool):
        try:
            parsed = int(str(value))
        except ValueError:
            pass
        else:
            if parsed >= minimum:
                return parsed
    raise out_of_range(key, f"a whole number of {minimum} or more", value)


def wholes(value: object, key: str) -> tuple[int, ...] | None:
    """'128,1024' -> (128, 1024): positive whole numbers; None when not given."""
    if value is None:
        return None
    parts = [part for part in str(value).split(",") if part]
    expected = "positive whole numbers like 128,1024"
    if not parts or isinstance(value, bool):
        raise out_of_range(key, expected, value)
    try:
        numbers = tuple(whole(part, key, 1) for part in parts)
    except SettingsError:
        raise out_of_range(key, expected, value) from None
    return numbers


def numbers(value: object, key: str, accepts: Accepts, expected: str) -> tuple[float, ...]:
    """'50,90,99' -> (50.0, 90.0, 99.0), each in the range `accepts` holds for."""
    parts = [part for part in str(value).split(",") if part.strip()]
    if not parts or isinstance(value, bool):
        raise out_of_range(key, expected, value)
    try:
        return tuple(number(part, key, accepts, expected) for part in parts)
    except SettingsError:
        raise out_of_range(key, expected, value) from None


def flag(value: object, key: str) -> bool:
    """true or false (as JSON or as text), and nothing else: `smoke=yes` is a mistake, not true."""
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise out_of_range(key, "true or false", value)
