"""Fold neutral stream events into a ``ChatResponse`` without losing anything.

Parts are keyed by (kind, index): a dialect may reuse an index across kinds (OpenAI's text and
its tool call 0). Parts are ordered by index, the dialect's content position, never by arrival;
parts of different kinds that share an index keep the order in which they first appeared.
Tool arguments are joined per call and parsed once at the end; text that is not a JSON object
is kept verbatim in ``raw_arguments`` with ``arguments_error`` set, never dropped. Provider item
ids and phases carried by events (OpenAI Responses) land on their parts; an empty text or
thinking part that has such an id is kept, since the id goes back on the next turn.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._events import (
    MessageEnd,
    MessageStart,
    RedactedThinkingDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
from ._parts import Message, Part, RedactedThinkingPart, TextPart, ThinkingPart, ToolCallPart
from ._response import ChatResponse
from ._usage import FinishReason, Usage

_json_decoder = msgspec.json.Decoder()


class _Builder:
    """Mutable state of one part while the stream is running."""

    __slots__ = ("chunks", "ended", "id", "item_id", "kind", "name", "phase", "signature")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.chunks: list[str] = []
        self.signature: str | None = None
        self.id = ""
        """A tool call's id; the provider's item id of a text or reasoning part."""
        self.item_id: str | None = None
        self.phase: str | None = None
        self.name = ""
        self.ended = False


def parse_tool_arguments(raw: str) -> tuple[dict[str, Any], str | None]:
    """Parse a tool call's argument text into ``(arguments, error)``.

    Empty text means no arguments. Text that is not a JSON object yields ``({}, reason)``.

    Args:
        raw: The argument JSON exactly as the model sent it.
    """
    if not raw.strip():
        return {}, None
    try:
        value = _json_decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return {}, f"invalid JSON: {exc}"
    if not isinstance(value, dict):
        return {}, f"arguments must be a JSON object, got {type(value).__name__}"
    return value, None  # pyright: ignore[reportUnknownVariableType]


class StreamAccumulator:
    """Fold a stream of neutral events into a ``ChatResponse``.

    Args:
        provider: Provider name to put on the response.

    Example:
        >>> acc = StreamAccumulator()
        >>> for ev in [TextDelta(index=0, text="Hel"), TextDelta(index=0, text="lo"),
        ...            MessageEnd(finish_reason="stop", raw_finish_reason="stop")]:
        ...     acc.add(ev)
        >>> acc.response().message.text
        'Hello'
    """

    def __init__(self, provider: str | None = None) -> None:
        self.provider = provider
        self._parts: dict[tuple[str, int], _Builder] = {}
        self._id: str | None = None
        self._model: str | None = None
        self._usage = Usage()
        self._ended = False
        self._finish: FinishReason | None = None
        self._raw_finish: str | None = None
        self._error: StreamError | None = None
        self.events = 0
        """How many events were added."""

    @property
    def ended(self) -> bool:
        """True once a ``MessageEnd`` arrived."""
        return self._ended

    @property
    def usage(self) -> Usage:
        """The usage snapshot so far."""
        return self._usage

    def _builder(self, kind: str, index: int) -> _Builder:
        key = (kind, index)
        builder = self._parts.get(key)
        if builder is None:
            builder = self._parts[key] = _Builder(kind)
        return builder

    def add(self, event: StreamEvent) -> None:
        """Fold one event in.

        Args:
            event: Any neutral stream event.

        Raises:
            TypeError: ``event`` is not a stream event.
        """
        self.events += 1
        if type(event) is TextDelta:
            builder = self._builder("text", event.index)
            builder.chunks.append(event.text)
            if event.id is not None or event.phase is not None:
                builder.id = event.id or builder.id
                builder.phase = event.phase or builder.phase
        elif type(event) is ToolCallDelta:
            self._builder("tool", event.index).chunks.append(event.arguments)
        elif type(event) is ThinkingDelta:
            self._thinking(event)
        elif type(event) is ToolCallStart:
            builder = self._builder("tool", event.index)
            # A repeated start (some providers resend id/name) only fills what is known.
            builder.id = event.id or builder.id
            builder.name = event.name or builder.name
            builder.item_id = event.item_id or builder.item_id
        elif type(event) is ToolCallEnd:
            self._builder("tool", event.index).ended = True
        elif type(event) is RedactedThinkingDelta:
            builder = self._builder("redacted", event.index)
            builder.chunks.append(event.data)
            builder.id = event.id or builder.id
        elif type(event) is UsageUpdate:
            self._usage = self._usage.merge(event.usage)
        elif type(event) is MessageStart:
            self._id = event.id if event.id is not None else self._id
            self._model = event.model if event.model is not None else self._model
        elif type(event) is MessageEnd:
            self._ended = True
            self._finish = event.finish_reason
            self._raw_finish = event.raw_finish_reason
        elif type(event) is StreamError:
            self._error = event
        else:
            self.events -= 1
            raise TypeError(f"not a stream event: {type(event).__name__}")

    def _thinking(self, event: ThinkingDelta) -> None:
        builder = self._builder("thinking", event.index)
        if event.text:
            builder.chunks.append(event.text)
        if event.signature is not None:
            builder.signature = event.signature
        builder.id = event.id or builder.id

    def _part(self, builder: _Builder) -> Part | None:
        text = "".join(builder.chunks)
        # A part with a provider item id is kept even when empty: the id goes back next turn.
        item = builder.id or None
        if builder.kind == "text":
            if not text and item is None:
                return None
            return TextPart(text=text, id=item, phase=builder.phase)
        if builder.kind == "thinking":
            if not text and builder.signature is None and item is None:
                return None
            return ThinkingPart(text=text, signature=builder.signature, id=item)
        if builder.kind == "redacted":
            return RedactedThinkingPart(data=text, id=item)
        arguments, error = parse_tool_arguments(text)
        return ToolCallPart(
            id=builder.id,
            name=builder.name,
            arguments=arguments,
            raw_arguments=text,
            arguments_error=error,
            item_id=builder.item_id,
        )

    def message(self) -> Message:
        """The assistant message built so far, parts ordered by index."""
        # sorted() is stable: within one index, first appearance decides.
        builders = sorted(self._parts.items(), key=lambda item: item[0][1])
        parts = [p for p in (self._part(b) for _, b in builders) if p is not None]
        return Message(role="assistant", parts=parts)

    def response(self) -> ChatResponse:
        """A ``ChatResponse`` snapshot; may be called at any time and more than once.

        ``incomplete`` is True when no ``MessageEnd`` arrived. When a ``StreamError`` arrived it
        is in ``error`` and, if the provider gave no finish reason, ``finish_reason`` is
        ``"error"``.
        """
        finish = self._finish
        if finish is None and self._error is not None:
            finish = "error"
        return ChatResponse(
            id=self._id,
            model=self._model,
            message=self.message(),
            finish_reason=finish,
            raw_finish_reason=self._raw_finish,
            usage=self._usage,
            provider=self.provider,
            incomplete=not self._ended,
            error=self._error,
        )
