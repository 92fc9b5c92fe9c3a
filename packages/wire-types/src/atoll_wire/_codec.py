"""JSON encoding shared by the dialect modules: one encoder, and a provider-extras merge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()


def encode_body(body: msgspec.Struct, extra: Mapping[str, Any] | None = None) -> bytes:
    """Encode a request struct as JSON bytes, merging provider-specific ``extra`` fields on top.

    Args:
        body: The request struct.
        extra: Top-level fields to add or override (``ChatRequest.extra``); None or empty for
            the fast path that encodes the struct directly.

    Returns:
        The JSON body.
    """
    if not extra:
        return _encoder.encode(body)
    merged: dict[str, Any] = msgspec.to_builtins(body)
    merged.update(extra)
    return _encoder.encode(merged)
