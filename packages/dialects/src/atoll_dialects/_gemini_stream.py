"""Gemini stream (``:streamGenerateContent?alt=sse``) → neutral stream events.

Each ``data:`` is a whole ``GenerateContentResponse`` holding only the new parts; there is no
``[DONE]``. Positions are the dialect's own: consecutive unsigned text parts continue one text
part (likewise thought parts); a part that carries a ``thoughtSignature`` is one neutral part
on its own, so a signature is never merged with other text or moved; an empty text part that
only holds a signature (a stream's last chunk often is one) stays such a part. Each
``functionCall`` is a call of its own, ordered by arrival (parallel calls may come one per
chunk, with no index). ``usageMetadata`` is cumulative: each one replaces the last, never
summed, and some models send it only at the end. A ``finishReason`` means the message is
complete; the ``MessageEnd`` goes out when the body ends, after any usage that trails it. A
mid-stream error arrives as ``data: {"error": {...}}``; a blocked prompt as ``promptFeedback``
with a ``blockReason`` and no candidates. Without ``alt=sse`` the same chunks arrive as the
elements of one JSON array; the decoder tells the two framings apart by the body's first byte.
"""

from __future__ import annotations

import msgspec
from atoll_wire import (
    MessageEnd,
    MessageStart,
    ServerSentEvent,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    UsageUpdate,
)
from atoll_wire import gemini as wire

from ._dialect import StreamDecoder
from ._gemini_response import arguments_text, call_id, finish_reason, normalise_usage

__all__ = ["GeminiStreamDecoder", "blocked_message", "error_event"]

_decoder = msgspec.json.Decoder(wire.GenerateContentResponse)


def blocked_message(feedback: wire.PromptFeedback) -> str:
    """The words for a blocked prompt."""
    reason = feedback.block_reason or "unspecified"
    extra = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
    return f"the prompt was blocked ({reason}){extra}"


def error_event(status: wire.Status, raw: object) -> StreamError:
    """A mid-stream ``{"error": {...}}`` as a neutral error event."""
    return StreamError(
        type=status.status or "error",
        message=status.message or "the provider reported an error",
        status=status.code,
        code=status.status,
        raw=raw,
    )


class GeminiStreamDecoder(StreamDecoder):
    """One Gemini stream's state: open text/thought part, call count, finish reason, usage."""

    __slots__ = (
        "_calls",
        "_done",
        "_finish",
        "_kind",
        "_next",
        "_open",
        "_response_id",
        "_started",
    )

    def __init__(self) -> None:
        self._open = -1  # index of the text or thought part that unsigned text continues
        self._kind = ""  # "text" or "thinking": the kind of that part
        self._next = 0
        self._calls = 0
        self._started = False
        self._response_id: str | None = None
        self._finish: str | None = None
        self._done = False
        self._framing = ""  # "sse" or "array", from the body's first byte
        self._array: wire.JSONArrayDecoder | None = None

    def feed_bytes(self, chunk: bytes) -> list[StreamEvent]:
        """The next body bytes: SSE (``alt=sse``), or one JSON array (without it)."""
        if self._framing == "sse":
            return super().feed_bytes(chunk)
        if not self._framing:
            start = chunk.lstrip()[:1]
            if not start:
                return []  # leading whitespace: the framing is not known yet
            self._framing = "array" if start == b"[" else "sse"
            if self._framing == "sse":
                return super().feed_bytes(chunk.lstrip())
            self._array = wire.JSONArrayDecoder()
        assert self._array is not None
        out: list[StreamEvent] = []
        for item in self._array.feed(chunk):
            out.extend(self._data(item))
        return out

    @property
    def done(self) -> bool:
        """Whether a ``finishReason`` has arrived."""
        return self._finish is not None

    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        """Translate one server-sent event (a whole response chunk)."""
        return self._data(event.data)

    def _data(self, data: str | bytes) -> list[StreamEvent]:
        if self._done or not data.strip():
            return []
        try:
            chunk = _decoder.decode(data)
        except msgspec.DecodeError as exc:
            return [
                StreamError(type="invalid_event", message=f"undecodable event: {exc}", raw=data)
            ]
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            self._response_id = chunk.response_id
            out.append(MessageStart(id=chunk.response_id, model=chunk.model_version))
        if chunk.error is not None:
            out.append(error_event(chunk.error, msgspec.json.decode(data)))
            self._done = True
            return out
        if chunk.candidates:
            self._candidate(chunk.candidates[0], out)
        elif chunk.prompt_feedback is not None and chunk.prompt_feedback.block_reason:
            feedback = chunk.prompt_feedback
            out.append(
                StreamError(
                    type="content_filter",
                    message=blocked_message(feedback),
                    code=feedback.block_reason,
                    raw=msgspec.json.decode(data),
                )
            )
            self._done = True
        if chunk.usage_metadata is not None:
            out.append(UsageUpdate(usage=normalise_usage(chunk.usage_metadata)))
        return out

    def _candidate(self, candidate: wire.Candidate, out: list[StreamEvent]) -> None:
        content = candidate.content
        for part in content.parts if content is not None else ():
            signature = part.thought_signature or None
            call = part.function_call
            if call is not None:
                index = self._new()
                self._open = -1
                out.append(
                    ToolCallStart(
                        index=index,
                        id=call_id(call, self._response_id, self._calls),
                        name=call.name,
                        signature=signature,
                    )
                )
                out.append(ToolCallDelta(index=index, arguments=arguments_text(call)))
                out.append(ToolCallEnd(index=index))
                self._calls += 1
            elif part.text is not None:
                kind = "thinking" if part.thought else "text"
                if signature is not None or self._open < 0 or self._kind != kind:
                    index = self._new()
                    # A signed part is whole: nothing continues it.
                    self._open, self._kind = (-1, "") if signature else (index, kind)
                else:
                    index = self._open
                if kind == "thinking":
                    out.append(ThinkingDelta(index=index, text=part.text, signature=signature))
                elif part.text or signature is not None:
                    out.append(TextDelta(index=index, text=part.text, signature=signature))
        if candidate.finish_reason is not None:
            self._finish = candidate.finish_reason

    def _new(self) -> int:
        index = self._next
        self._next += 1
        return index

    def finish(self) -> list[StreamEvent]:
        """End of body: a ``MessageEnd`` when a finish reason came, else nothing (incomplete)."""
        if self._done or self._finish is None:
            self._done = True
            return []
        self._done = True
        return [
            MessageEnd(
                finish_reason=finish_reason(self._finish, called=self._calls > 0),
                raw_finish_reason=self._finish,
            )
        ]
