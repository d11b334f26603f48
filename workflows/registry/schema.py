"""Field-by-field validation of registry YAML, with errors that name the file, entry and field."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, NoReturn, TypeVar

from workflows.errors import ReadinessError

E = TypeVar("E", bound=Enum)


class RegistryError(ReadinessError):
    """The registry data is wrong; the message says where."""


class Entry:
    """One YAML mapping being validated, and where it sits, for error messages."""

    def __init__(self, raw: Any, where: str, known: Iterable[str]) -> None:
        self.where = where
        if not isinstance(raw, Mapping):
            raise RegistryError(f"{where}: expected a mapping, got {type(raw).__name__}")
        self.raw: Mapping[str, Any] = raw
        self._reject_unknown(set(known))

    def fail(self, key: str, problem: str) -> NoReturn:
        raise RegistryError(f"{self.where}: field '{key}': {problem}")

    def _reject_unknown(self, known: set[str]) -> None:
        for key in self.raw:
            if key not in known:
                close = difflib.get_close_matches(str(key), sorted(known), n=1) or [
                    name for name in sorted(known) if str(key).startswith(name)
                ]
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.fail(str(key), f"unknown field{hint}")

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def require(self, key: str) -> Any:
        if key not in self.raw or self.raw[key] is None:
            self.fail(key, "is required")
        return self.raw[key]

    def text(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        value = self.require(key) if required else self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(key, f"expected text, got {value!r}")
        return str(value)

    def positive_int(self, key: str, required: bool = True) -> int | None:
        value = self.require(key) if required else self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            self.fail(key, f"expected a positive integer, got {value!r}")
        return value

    def number(self, key: str) -> float | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            self.fail(key, f"expected a non-negative number, got {value!r}")
        return float(value)

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self.fail(key, f"expected true or false, got {value!r}")
        return value

    def mapping(self, key: str) -> Mapping[str, Any]:
        value = self.raw.get(key) or {}
        if not isinstance(value, Mapping):
            self.fail(key, f"expected a mapping, got {value!r}")
        return value

    def items(self, key: str, required: bool = False) -> list[Any]:
        value = self.require(key) if required else (self.raw.get(key) or [])
        if not isinstance(value, list) or (required and not value):
            self.fail(key, f"expected a non-empty list, got {value!r}")
        return value

    def texts(self, key: str, required: bool = False) -> tuple[str, ...]:
        values = self.items(key, required)
        if not all(isinstance(v, str) and v for v in values):
            self.fail(key, f"expected a list of names, got {values!r}")
        return tuple(values)

    def choice(self, key: str, enum_type: type[E]) -> E:
        value = self.require(key)
        try:
            return enum_type(str(value).lower())
        except ValueError:
            valid = ", ".join(member.value for member in enum_type)
            self.fail(key, f"'{value}' is not one of: {valid}")
