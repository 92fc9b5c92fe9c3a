"""Read a GGUF file's header metadata without loading the model.

Loading checks the file before llama.cpp sees it: is it GGUF at all, what architecture, what
context length it was trained for. Only the key/value section is read; arrays (the vocabulary)
are skipped by seeking, so a multi-gigabyte model costs a few milliseconds.
"""

from __future__ import annotations

import struct
from typing import Any, BinaryIO

MAGIC = b"GGUF"

# GGUF value types: id -> struct format of one element (strings and arrays handled apart).
_SCALARS: dict[int, str] = {
    0: "<B",  # uint8
    1: "<b",  # int8
    2: "<H",  # uint16
    3: "<h",  # int16
    4: "<I",  # uint32
    5: "<i",  # int32
    6: "<f",  # float32
    7: "<?",  # bool
    10: "<Q",  # uint64
    11: "<q",  # int64
    12: "<d",  # float64
}
_STRING = 8
_ARRAY = 9
_MAX_STRING = 64 * 1024 * 1024  # a chat template is KBs; anything larger is a corrupt file


class GGUFFormatError(ValueError):
    """The bytes are not a readable GGUF header (raised as ModelLoadError by the caller)."""


def read_metadata(path: str) -> dict[str, object]:
    """The scalar and string metadata of a GGUF file; arrays are skipped (absent from the result).

    Raises:
        GGUFFormatError: Not GGUF, an unknown version or value type, or a truncated header.
    """
    with open(path, "rb") as f:
        if f.read(4) != MAGIC:
            raise GGUFFormatError("the file does not start with the GGUF magic bytes")
        (version,) = _unpack(f, "<I")
        if version not in (2, 3):
            raise GGUFFormatError(f"GGUF version {version} is not supported (2 and 3 are)")
        _tensor_count, kv_count = _unpack(f, "<QQ")
        out: dict[str, object] = {}
        for _ in range(kv_count):
            key = _string(f)
            (kind,) = _unpack(f, "<I")
            if kind == _ARRAY:
                _skip_array(f)
                continue
            out[key] = _value(f, kind)
        return out


def _unpack(f: BinaryIO, fmt: str) -> tuple[Any, ...]:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise GGUFFormatError("the GGUF header is truncated")
    return struct.unpack(fmt, data)


def _string(f: BinaryIO) -> str:
    (length,) = _unpack(f, "<Q")
    assert isinstance(length, int)
    if length > _MAX_STRING:
        raise GGUFFormatError(f"a metadata string claims {length} bytes")
    data = f.read(length)
    if len(data) != length:
        raise GGUFFormatError("the GGUF header is truncated")
    return data.decode("utf-8", errors="replace")


def _value(f: BinaryIO, kind: int) -> object:
    if kind == _STRING:
        return _string(f)
    fmt = _SCALARS.get(kind)
    if fmt is None:
        raise GGUFFormatError(f"unknown GGUF value type {kind}")
    return _unpack(f, fmt)[0]


def _skip_array(f: BinaryIO) -> None:
    kind, count = _unpack(f, "<IQ")
    assert isinstance(kind, int) and isinstance(count, int)
    if kind == _STRING:
        for _ in range(count):
            (length,) = _unpack(f, "<Q")
            assert isinstance(length, int)
            f.seek(length, 1)
    elif kind == _ARRAY:
        for _ in range(count):
            _skip_array(f)
    else:
        fmt = _SCALARS.get(kind)
        if fmt is None:
            raise GGUFFormatError(f"unknown GGUF array element type {kind}")
        f.seek(struct.calcsize(fmt) * count, 1)


def context_length(metadata: dict[str, object]) -> int | None:
    """The trained context length (``<architecture>.context_length``), when present."""
    arch = metadata.get("general.architecture")
    value = metadata.get(f"{arch}.context_length") if isinstance(arch, str) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
