"""The metadata of a GGUF file (llama.cpp's model format), read with the standard library.

Layout (little-endian): b"GGUF", uint32 version (2 or 3), uint64 tensor count, uint64 key/value
count, then each key/value: a string key, a uint32 value type and the value. Strings are a uint64
byte length and UTF-8 bytes; arrays are a uint32 element type, a uint64 count and the elements.
Only the metadata is read: the tensors that follow it are never touched.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
STRING, ARRAY = 8, 9
SCALARS = {  # value type -> struct format
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
Value = int | float | bool | str | list["Value"]


class GGUFError(ValueError):
    """A file that is not GGUF, or a GGUF this reader does not understand; the message says why."""


def read_metadata(path: Path) -> dict[str, Value]:
    """Every metadata key of the GGUF file at `path` with its value."""
    with path.open("rb") as handle:
        try:
            return _Reader(handle, path).metadata()
        except struct.error:
            raise GGUFError(f"{path}: the GGUF metadata ends early (truncated file?)") from None


class _Reader:
    def __init__(self, handle: BinaryIO, path: Path) -> None:
        self.handle = handle
        self.path = path

    def metadata(self) -> dict[str, Value]:
        if self.handle.read(4) != MAGIC:
            raise GGUFError(f"{self.path} is not a GGUF file (no GGUF magic)")
        version = self._unpack("<I")
        if version not in SUPPORTED_VERSIONS:
            raise GGUFError(
                f"{self.path}: GGUF version {version} is not supported "
                "(only 2 and 3, little-endian)"
            )
        self._unpack("<Q")  # tensor count
        count = self._unpack("<Q")
        return dict(self._pair() for _ in range(int(count)))

    def _pair(self) -> tuple[str, Value]:
        key = self._string()
        return key, self._value(int(self._unpack("<I")))

    def _value(self, kind: int) -> Value:
        if kind == STRING:
            return self._string()
        if kind == ARRAY:
            element = int(self._unpack("<I"))
            count = int(self._unpack("<Q"))
            return self._array(element, count)
        if kind in SCALARS:
            return self._unpack(SCALARS[kind])
        raise GGUFError(f"{self.path}: unknown GGUF value type {kind}")

    def _array(self, element: int, count: int) -> list[Value]:
        if element in SCALARS:  # one read for the whole array
            fmt = SCALARS[element]
            size = struct.calcsize(fmt)
            values = struct.unpack(f"<{count}{fmt[1]}", self._exactly(size * count))
            return list(values)
        read: Callable[[], Value] = (
            self._string if element == STRING else lambda: self._value(element)
        )
        return [read() for _ in range(count)]

    def _string(self) -> str:
        length = int(self._unpack("<Q"))
        return self._exactly(length).decode("utf-8", errors="replace")

    def _unpack(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self._exactly(struct.calcsize(fmt)))[0]
        return value

    def _exactly(self, size: int) -> bytes:
        data = self.handle.read(size)
        if len(data) != size:
            raise GGUFError(f"{self.path}: the GGUF metadata ends early (truncated file?)")
        return data
