"""The slice of Anthropic Messages JSON the dialect reads, decoded leniently.

One loose struct per JSON shape: every event type shares ``StreamEventBody`` and every content
block ``Block``, with all fields optional, so a new block or delta type decodes instead of
failing (the stream decoder then skips what it does not know).
"""

from __future__ import annotations

from typing import Any

import msgspec


class WireUsage(msgspec.Struct):
    """``usage``: input excludes cache reads and writes, which come separately."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None


class Block(msgspec.Struct):
    """A content block (response content, or ``content_block_start.content_block``)."""

    type: str = ""
    text: str | None = None
    id: str | None = None
    name: str | None = None
    input: Any = None
    thinking: str | None = None
    signature: str | None = None
    data: str | None = None


class Delta(msgspec.Struct):
    """``content_block_delta.delta`` or ``message_delta.delta``."""

    type: str = ""
    text: str | None = None
    partial_json: str | None = None
    thinking: str | None = None
    signature: str | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None


class ErrorBody(msgspec.Struct):
    """``error`` of an ``event: error`` or an error response."""

    type: str | None = None
    message: str | None = None


class MessageBody(msgspec.Struct):
    """A full response, or ``message_start.message``."""

    id: str | None = None
    model: str | None = None
    content: list[Block] = []
    stop_reason: str | None = None
    usage: WireUsage | None = None


class StreamEventBody(msgspec.Struct):
    """The data of any stream event; ``type`` says which fields matter."""

    type: str = ""
    index: int | None = None
    message: MessageBody | None = None
    content_block: Block | None = None
    delta: Delta | None = None
    usage: WireUsage | None = None
    error: ErrorBody | None = None


class Envelope(msgspec.Struct):
    """A top-level response body: a message, or ``{"type": "error", "error": {...}}``."""

    type: str = ""
    error: ErrorBody | None = None


message_decoder = msgspec.json.Decoder(MessageBody)
event_decoder = msgspec.json.Decoder(StreamEventBody)
envelope_decoder = msgspec.json.Decoder(Envelope)
