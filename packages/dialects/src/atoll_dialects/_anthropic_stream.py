"""Anthropic Messages stream → neutral stream events.

Block indexes are Anthropic's own. Server-side tool blocks (``server_tool_use``, their results,
``mcp_tool_use``) run at the provider and are not client tool calls, so they produce no events.
A ``tool_use`` block whose ``input_json_delta`` fragments were all empty takes its arguments from
``content_block_start.input``. A tool block left open when the message stops (``max_tokens``)
is closed so its truncated argument text is kept, not dropped. Usage in ``message_delta`` is a
cumulative snapshot; cache counts are carried over from ``message_start`` when it omits them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from atoll_wire import (
    MessageEnd,
    MessageStart,
    RedactedThinkingDelta,
    ServerSentEvent,
    StreamError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallStart,
    Usage,
    UsageUpdate,
)
from atoll_wire import anthropic as wire

from ._anthropic_quirks import AnthropicQuirks
from ._dialect import StreamDecoder
from ._encode import dumps, finish_reason


def normalise_usage(usage: wire.Usage, quirks: AnthropicQuirks) -> Usage:
    """Anthropic usage → neutral usage: input includes cache reads and writes."""
    cache_read = usage.cache_read_input_tokens
    cache_write = usage.cache_creation_input_tokens
    input_tokens = usage.input_tokens
    if input_tokens is not None and not quirks.cache_tokens_in_input:
        input_tokens += (cache_read or 0) + (cache_write or 0)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def start_input_text(value: Any) -> str:
    """``content_block_start.input`` as argument text; ``{}`` and absent give ``""``."""
    if value is None or value == {}:
        return ""
    return dumps(value).decode()


def _newer(new: int | None, old: int | None) -> int | None:
    return old if new is None else new


@dataclass(slots=True)
class _Block:
    kind: str
    """``text``, ``thinking``, ``redacted``, ``tool``, ``output`` (forced-tool JSON) or ``skip``."""
    start_input: str = ""
    fragments: bool = False
    open: bool = True


class AnthropicStreamDecoder(StreamDecoder):
    """One Messages stream's state: block kinds, open tool blocks, stop reason and usage."""

    def __init__(self, quirks: AnthropicQuirks, output_tool: str | None = None) -> None:
        self._quirks = quirks
        self._output_tool = output_tool
        self._blocks: dict[int, _Block] = {}
        self._usage = wire.Usage()
        self._raw_finish: str | None = None
        self._done = False
        self._finished = False

    @property
    def done(self) -> bool:
        """Whether ``message_stop`` has arrived."""
        return self._done

    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        """Translate one server-sent event; ``ping`` and unknown events give nothing."""
        if self._done or not event.data.strip():
            return []
        try:
            body = wire.decode_event(event.data)
        except msgspec.DecodeError as exc:
            message = f"undecodable event: {exc}"
            return [StreamError(type="invalid_event", message=message, raw=event.data)]
        if isinstance(body, wire.ContentBlockDeltaEvent):  # the hot path first
            return self._delta(body)
        if isinstance(body, wire.MessageStartEvent):
            return self._message_start(body)
        if isinstance(body, wire.ContentBlockStartEvent):
            return self._block_start(body)
        if isinstance(body, wire.ContentBlockStopEvent):
            block = self._blocks.get(body.index)
            return self._block_stop(body.index, block) if block is not None else []
        if isinstance(body, wire.MessageDeltaEvent):
            return self._message_delta(body)
        if isinstance(body, wire.MessageStopEvent):
            return self._close(complete=True)
        if isinstance(body, wire.ErrorEvent):
            return [self._error(body, event.data)]
        return []  # ping, and event types this library does not know

    def finish(self) -> list[StreamEvent]:
        """End of body: without ``message_stop`` no MessageEnd is sent (incomplete)."""
        if self._done or self._finished:
            return []
        return self._close(complete=False)

    # ------------------------------------------------------------------ internals

    def _usage_update(self, usage: wire.Usage) -> UsageUpdate:
        current = self._usage
        # message_delta may repeat only some fields; the rest keep message_start's values.
        self._usage = wire.Usage(
            input_tokens=_newer(usage.input_tokens, current.input_tokens),
            output_tokens=_newer(usage.output_tokens, current.output_tokens),
            cache_read_input_tokens=_newer(
                usage.cache_read_input_tokens, current.cache_read_input_tokens
            ),
            cache_creation_input_tokens=_newer(
                usage.cache_creation_input_tokens, current.cache_creation_input_tokens
            ),
        )
        return UsageUpdate(usage=normalise_usage(self._usage, self._quirks))

    def _message_start(self, body: wire.MessageStartEvent) -> list[StreamEvent]:
        message = body.message
        return [
            MessageStart(id=message.id or None, model=message.model or None),
            self._usage_update(message.usage),
        ]

    def _block_start(self, body: wire.ContentBlockStartEvent) -> list[StreamEvent]:
        index = body.index
        block = body.content_block
        if isinstance(block, wire.TextBlock):
            self._blocks[index] = _Block("text")
            return [TextDelta(index=index, text=block.text)] if block.text else []
        if isinstance(block, wire.ThinkingBlock):
            self._blocks[index] = _Block("thinking")
            # Emitted even when empty so the part exists to receive its signature.
            return [ThinkingDelta(index=index, text=block.thinking, signature=block.signature)]
        if isinstance(block, wire.RedactedThinkingBlock):
            self._blocks[index] = _Block("redacted")
            return [RedactedThinkingDelta(index=index, data=block.data)]
        if isinstance(block, wire.ToolUseBlock):
            start = start_input_text(block.input)
            if self._output_tool is not None and block.name == self._output_tool:
                self._blocks[index] = _Block("output", start_input=start)
                return []
            self._blocks[index] = _Block("tool", start_input=start)
            return [ToolCallStart(index=index, id=block.id, name=block.name)]
        self._blocks[index] = _Block("skip")  # server tools and their results run remotely
        return []

    def _delta(self, body: wire.ContentBlockDeltaEvent) -> list[StreamEvent]:
        index = body.index
        block = self._blocks.get(index)
        if block is None or block.kind == "skip":
            return []
        delta = body.delta
        if isinstance(delta, wire.TextDelta):
            return [TextDelta(index=index, text=delta.text)] if delta.text else []
        if isinstance(delta, wire.ThinkingDelta):
            return [ThinkingDelta(index=index, text=delta.thinking)] if delta.thinking else []
        if isinstance(delta, wire.SignatureDelta):
            return (
                [ThinkingDelta(index=index, signature=delta.signature)] if delta.signature else []
            )
        if isinstance(delta, wire.InputJsonDelta) and delta.partial_json:
            block.fragments = True
            if block.kind == "output":
                return [TextDelta(index=index, text=delta.partial_json)]
            return [ToolCallDelta(index=index, arguments=delta.partial_json)]
        return []  # citations and future delta types carry nothing we represent

    def _block_stop(self, index: int | None, block: _Block) -> list[StreamEvent]:
        if not block.open or index is None:
            return []
        block.open = False
        out: list[StreamEvent] = []
        if block.kind in ("tool", "output") and not block.fragments and block.start_input:
            if block.kind == "tool":
                out.append(ToolCallDelta(index=index, arguments=block.start_input))
            else:
                out.append(TextDelta(index=index, text=block.start_input))
        if block.kind == "tool":
            out.append(ToolCallEnd(index=index))
        return out

    def _message_delta(self, body: wire.MessageDeltaEvent) -> list[StreamEvent]:
        if body.delta.stop_reason:
            self._raw_finish = body.delta.stop_reason
        return [self._usage_update(body.usage)]

    def _error(self, body: wire.ErrorEvent, raw_text: str) -> StreamError:
        error = body.error
        try:
            raw: object = msgspec.json.decode(raw_text)
        except msgspec.DecodeError:
            raw = raw_text
        return StreamError(
            type=error.type or "error",
            message=error.message or "the provider reported an error",
            raw=raw,
        )

    def _close(self, *, complete: bool) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for index, block in self._blocks.items():
            out.extend(self._block_stop(index, block))
        self._finished = True
        if complete:
            self._done = True
            out.append(
                MessageEnd(
                    finish_reason=finish_reason(self._raw_finish),
                    raw_finish_reason=self._raw_finish,
                )
            )
        return out
