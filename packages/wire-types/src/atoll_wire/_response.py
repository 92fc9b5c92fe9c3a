"""The neutral ``ChatResponse``: one finished (or cut-short) reply."""

from __future__ import annotations

from typing import Any

import msgspec

from ._events import StreamError
from ._parts import Message
from ._usage import FinishReason, Usage


class ChatResponse(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A provider-agnostic chat reply.

    Attributes:
        id: The provider's response id.
        model: The model that answered.
        message: The assistant message, parts in order.
        finish_reason: Normalised finish reason.
        raw_finish_reason: The provider's own finish reason.
        usage: Token usage (fields None when unknown).
        cost: Price of the call, filled by the client from the model registry (None if unknown).
        provider: The provider name.
        incomplete: True when the stream ended before the provider said the message was done.
        error: The error that ended the stream, if any.
    """

    message: Message
    id: str | None = None
    model: str | None = None
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    cost: Any = None
    provider: str | None = None
    incomplete: bool = False
    error: StreamError | None = None

    @property
    def text(self) -> str:
        """The message's text parts joined; ``""`` when there are none."""
        return self.message.text
