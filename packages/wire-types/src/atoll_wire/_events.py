"""Neutral stream events: what a dialect's stream decoder yields, whatever the provider.

``index`` is the dialect's own content position (Anthropic's block index, OpenAI's tool call
index); the accumulator never guesses it from arrival order. Events are a tagged union on
``type`` so they can be recorded and replayed as JSON lines.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from ._usage import FinishReason, Usage


class _Event(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type"):
    """Shared configuration of every stream event."""


class MessageStart(_Event, tag="message_start", kw_only=True):
    """The provider started a message.

    Attributes:
        id: The provider's response id.
        model: The model that answers (may differ from the one asked for).
    """

    id: str | None = None
    model: str | None = None


class TextDelta(_Event, tag="text_delta", kw_only=True):
    """A fragment of text.

    Attributes:
        index: Content position.
        text: The fragment.
        id: The provider's id of the item holding the text (see ``TextPart.id``); set on
            one delta of the part, usually the first.
        phase: The item's phase label (see ``TextPart.phase``), like ``id``.
        signature: Gemini's ``thoughtSignature`` of the part at ``index`` (the whole part is
            one signed piece: a dialect gives a signed part an index of its own).
    """

    index: int
    text: str
    id: str | None = None
    phase: str | None = None
    signature: str | None = None


class ThinkingDelta(_Event, tag="thinking_delta", kw_only=True):
    """A fragment of reasoning text and/or its signature.

    Attributes:
        index: Content position.
        text: The reasoning fragment (``""`` when only the signature arrives).
        signature: The block's signature, when this event carries it.
        id: The provider's reasoning item id (see ``ThinkingPart.id``), when this event
            carries it.
    """

    index: int
    text: str = ""
    signature: str | None = None
    id: str | None = None


class RedactedThinkingDelta(_Event, tag="redacted_thinking_delta", kw_only=True):
    """Encrypted reasoning arrived for a block.

    Attributes:
        index: Content position.
        data: The opaque payload (fragments are joined).
        id: The provider's reasoning item id (see ``RedactedThinkingPart.id``).
    """

    index: int
    data: str
    id: str | None = None


class ToolCallStart(_Event, tag="tool_call_start", kw_only=True):
    """A tool call began.

    Attributes:
        index: Content position (for OpenAI, the tool call's own ``index``).
        id: The call id.
        name: The tool name.
        item_id: The provider's id of the item holding the call (see ``ToolCallPart.item_id``).
        signature: Gemini's ``thoughtSignature`` on this call's part.
    """

    index: int
    id: str
    name: str
    item_id: str | None = None
    signature: str | None = None


class ToolCallDelta(_Event, tag="tool_call_delta", kw_only=True):
    """A fragment of a tool call's argument JSON.

    Attributes:
        index: Content position of the call.
        arguments: The raw fragment; fragments are joined and parsed at the end.
    """

    index: int
    arguments: str


class ToolCallEnd(_Event, tag="tool_call_end", kw_only=True):
    """A tool call's arguments are complete.

    Attributes:
        index: Content position of the call.
    """

    index: int


class UsageUpdate(_Event, tag="usage", kw_only=True):
    """A cumulative usage snapshot. It replaces earlier ones field by field; never summed.

    Attributes:
        usage: Usage so far; fields left None keep the earlier snapshot's value.
    """

    usage: Usage


class MessageEnd(_Event, tag="message_end", kw_only=True):
    """The provider finished the message.

    Attributes:
        finish_reason: Normalised reason, or None when the provider sent none.
        raw_finish_reason: The provider's own value.
    """

    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None


class StreamError(_Event, tag="error", rename={"type": "error_type"}, kw_only=True):
    """An error reported inside a stream (or raised while reading it).

    ``type`` is the error's kind; on the JSON wire it is stored as ``error_type`` because ``type``
    is the union's tag.

    Attributes:
        type: The provider's error type, e.g. ``overloaded_error`` or ``server_error``.
        message: Human-readable description.
        status: An HTTP-like status the provider attached, if any.
        code: The provider's error code, if any.
        raw: The decoded error payload as sent.
    """

    type: str
    message: str
    status: int | None = None
    code: str | None = None
    raw: Any = None


StreamEvent: TypeAlias = (
    MessageStart
    | TextDelta
    | ThinkingDelta
    | RedactedThinkingDelta
    | ToolCallStart
    | ToolCallDelta
    | ToolCallEnd
    | UsageUpdate
    | MessageEnd
    | StreamError
)
"""A neutral stream event, as a dialect's stream decoder yields it and
``StreamAccumulator.add`` takes it."""
