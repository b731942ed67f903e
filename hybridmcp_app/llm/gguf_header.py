"""A fast reader of a GGUF file's header: metadata values and tensor extents, no weights.

``gguf.GGUFReader`` builds a numpy view per token string: about 8 s for a 262k vocabulary on
this machine. Here arrays are skipped (only their length is kept), which takes milliseconds.
Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
"""

from __future__ import annotations

import hashlib
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
            11: "<q", 12: "<d"}  # fmt: skip
_STRING, _ARRAY = 8, 9
DEFAULT_ALIGNMENT = 32


class GGUFHeaderError(ValueError):
    """The header is malformed or the file ends before its tensors do."""


@dataclass
class GGUFHeader:
    """Scalar metadata by key, array lengths by key, and what the tensors need."""

    version: int
    metadata: dict[str, Any] = field(default_factory=dict)
    array_lengths: dict[str, int] = field(default_factory=dict)
    tensor_count: int = 0
    parameter_count: int = 0
    array_digests: dict[str, str] = field(default_factory=dict)


class _Cursor:
    def __init__(self, data: mmap.mmap) -> None:
        self.data, self.pos = data, 0

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise GGUFHeaderError("the file ends inside its header")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        if self.pos + length > len(self.data):
            raise GGUFHeaderError("the file ends inside a string of its header")
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        return raw.decode("utf-8", "replace")

    def skip(self, size: int) -> None:
        if self.pos + size > len(self.data):
            raise GGUFHeaderError("the file ends inside an array of its header")
        self.pos += size


def _value(
    cursor: _Cursor, kind: int, key: str, header: GGUFHeader, digest: frozenset[str] = frozenset()
) -> Any:
    if kind in _SCALARS:
        return cursor.unpack(_SCALARS[kind])
    if kind == _STRING:
        return cursor.string()
    if kind != _ARRAY:
        raise GGUFHeaderError(f"unknown value type {kind} for {key}")
    item_kind, count = cursor.unpack("<I"), cursor.unpack("<Q")
    header.array_lengths[key] = count
    start = cursor.pos
    if item_kind in _SCALARS:
        cursor.skip(struct.calcsize(_SCALARS[item_kind]) * count)
    elif item_kind == _STRING:
        for _ in range(count):
            cursor.skip(cursor.unpack("<Q"))
    else:
        for _ in range(count):
            _value(cursor, item_kind, key, header)
    if key in digest:
        raw = hashlib.sha256(cursor.data[start : cursor.pos]).hexdigest()
        header.array_digests[key] = f"{item_kind}:{count}:{raw}"
    return None


def read_gguf_header(path: Path, *, digest: frozenset[str] = frozenset()) -> GGUFHeader:
    """Parse the header; raises ``GGUFHeaderError`` if it is malformed or the data is cut short.

    ``digest``: array keys whose raw contents are hashed into ``array_digests`` (SHA-256)."""
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        cursor = _Cursor(data)
        if data[:4] != b"GGUF":
            raise GGUFHeaderError("not a GGUF file")
        cursor.pos = 4
        header = GGUFHeader(version=cursor.unpack("<I"))
        if header.version < 2:
            raise GGUFHeaderError(f"GGUF version {header.version} is too old")
        header.tensor_count, kv_count = cursor.unpack("<Q"), cursor.unpack("<Q")
        for _ in range(kv_count):
            key = cursor.string()
            value = _value(cursor, cursor.unpack("<I"), key, header, digest)
            if value is not None:
                header.metadata[key] = value
        last_offset = 0
        for _ in range(header.tensor_count):
            cursor.string()
            dims = [cursor.unpack("<Q") for _ in range(cursor.unpack("<I"))]
            cursor.unpack("<I")  # tensor type
            last_offset = max(last_offset, cursor.unpack("<Q"))
            count = 1
            for dim in dims:
                count *= dim
            header.parameter_count += count
        alignment = int(header.metadata.get("general.alignment", DEFAULT_ALIGNMENT)) or 1
        data_start = -(-cursor.pos // alignment) * alignment
        if header.tensor_count and data_start + last_offset >= len(data):
            raise GGUFHeaderError("the file ends before its last tensor starts")
        return header
