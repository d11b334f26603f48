"""Read-only views of nested JSON-like data, and the way back to plain data for JSON."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

FrozenMap = Mapping[str, Any]
EMPTY: FrozenMap = MappingProxyType({})


def freeze(value: Any) -> Any:
    """Dicts become read-only mappings and lists become tuples, all the way down."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain JSON-serialisable data from frozen mappings, tuples, enums and dataclasses."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: thaw(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): thaw(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def merge_override(base: Mapping[str, Any], override: Mapping[str, Any]) -> FrozenMap:
    """Shallow merge where a `None` value deletes the key (JSON `null` on the command line)."""
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return freeze(merged)  # type: ignore[no-any-return]
