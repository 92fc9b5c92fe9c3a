"""OpenAI Responses stream → neutral stream events.

Neutral indexes are content positions in output order: each output item's parts get the next
free index when they first appear (a reasoning item and a function call when added, text and
summary parts at their first fragment), so the accumulated parts come out in the order of
``response.output``, as ``parse`` builds them.

Items are finished from ``response.output_item.done``, never from ``added``: a reasoning
item's ``encrypted_content`` (a ``RedactedThinkingDelta`` carrying the item id) is taken from
``done``, since in ``added`` it can be incomplete; text, summaries and arguments a server sent
only in ``done`` are emitted then; a message's ``phase`` and id land on its text parts. The
stream ends with ``response.completed`` or ``response.incomplete`` (usage, then the finish
reason); ``response.failed`` and ``error`` become a ``StreamError``. Built-in tool items and
events this dialect does not use produce nothing.
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
    UsageUpdate,
)
from atoll_wire.responses import (
    ErrorEvent,
    FunctionCall,
    FunctionCallArgumentsDeltaEvent,
    Message,
    OutputItemAddedEvent,
    OutputItemDoneEvent,
    OutputText,
    OutputTextDeltaEvent,
    Reasoning,
    ReasoningSummaryTextDeltaEvent,
    ReasoningTextDeltaEvent,
    Refusal,
    RefusalDeltaEvent,
    Response,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFailedEvent,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseQueuedEvent,
    decode_event,
)

from ._dialect import StreamDecoder
from ._responses_parse import failure_type, finish_of, normalise_usage

_raw = msgspec.json.Decoder()
_STARTS = (ResponseCreatedEvent, ResponseInProgressEvent, ResponseQueuedEvent)


@dataclass(slots=True)
class _Item:
    kind: str
    """``reasoning``, ``message``, ``call``, ``output`` (forced-tool JSON) or ``skip``."""
    id: str | None = None
    phase: str | None = None
    anchor: int = -1
    """A reasoning item's or a call's own index."""
    arguments: bool = False
    open: bool = True


class ResponsesStreamDecoder(StreamDecoder):
    """One Responses stream's state: item kinds, part positions, open calls."""

    def __init__(self, output_tool: str | None = None) -> None:
        self._output_tool = output_tool
        self._slots: dict[tuple[str, int, int], int] = {}
        self._items: dict[int, _Item] = {}
        self._next = 0
        self._started = False
        self._calls = False
        self._done = False
        self._finished = False

    @property
    def done(self) -> bool:
        """Whether ``response.completed`` or ``response.incomplete`` has arrived."""
        return self._done

    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        """Translate one server-sent event (see the module docstring)."""
        data = event.data
        if self._done or not data:
            return []
        try:
            body = decode_event(data)
        except msgspec.DecodeError as exc:
            return [
                StreamError(type="invalid_event", message=f"undecodable event: {exc}", raw=data)
            ]
        kind = type(body)
        if kind is OutputTextDeltaEvent or kind is RefusalDeltaEvent:
            assert isinstance(body, OutputTextDeltaEvent | RefusalDeltaEvent)
            return self._text(body.output_index, body.content_index, body.delta)
        if kind is FunctionCallArgumentsDeltaEvent:
            assert isinstance(body, FunctionCallArgumentsDeltaEvent)
            return self._arguments(body.output_index, body.delta)
        if kind is ReasoningSummaryTextDeltaEvent:
            assert isinstance(body, ReasoningSummaryTextDeltaEvent)
            key = ("s", body.output_index, body.summary_index)
            return [ThinkingDelta(index=self._slot(key), text=body.delta, id=body.item_id)]
        if kind is ReasoningTextDeltaEvent:
            assert isinstance(body, ReasoningTextDeltaEvent)
            key = ("c", body.output_index, body.content_index)
            return [ThinkingDelta(index=self._slot(key), text=body.delta, id=body.item_id)]
        if isinstance(body, OutputItemAddedEvent):
            return self._added(body.output_index, body.item)
        if isinstance(body, OutputItemDoneEvent):
            return self._item_done(body.output_index, body.item)
        return self._lifecycle(body, data)

    def finish(self) -> list[StreamEvent]:
        """End of body: without ``response.completed`` no MessageEnd is sent (incomplete)."""
        if self._done or self._finished:
            return []
        self._finished = True
        return self._close_calls()

    # ------------------------------------------------------------------ positions

    def _slot(self, key: tuple[str, int, int]) -> int:
        index = self._slots.get(key)
        if index is None:
            index = self._slots[key] = self._next
            self._next += 1
        return index

    def _item(self, output_index: int, kind: str, item_id: str | None) -> _Item:
        item = self._items.get(output_index)
        if item is None:
            item = self._items[output_index] = _Item(kind, item_id)
            if kind in ("reasoning", "call"):
                item.anchor = self._slot(("i", output_index, 0))
        return item

    # ------------------------------------------------------------------ deltas

    def _text(self, output_index: int, content_index: int, text: str) -> list[StreamEvent]:
        key = ("t", output_index, content_index)
        index = self._slots.get(key)
        if index is not None:
            return [TextDelta(index=index, text=text)]
        item = self._items.get(output_index)
        index = self._slot(key)
        if item is None or item.kind == "output":
            return [TextDelta(index=index, text=text)]
        return [TextDelta(index=index, text=text, id=item.id, phase=item.phase)]

    def _arguments(self, output_index: int, fragment: str) -> list[StreamEvent]:
        item = self._items.get(output_index)
        if item is None or not fragment:
            return []
        if item.kind == "output":
            return self._text(output_index, 0, fragment)
        if item.kind != "call":
            return []
        item.arguments = True
        return [ToolCallDelta(index=item.anchor, arguments=fragment)]

    # ------------------------------------------------------------------ items

    def _added(self, output_index: int, wire: Any) -> list[StreamEvent]:
        if isinstance(wire, Reasoning):
            self._item(output_index, "reasoning", wire.id)
        elif isinstance(wire, Message):
            self._item(output_index, "message", wire.id).phase = wire.phase
        elif isinstance(wire, FunctionCall):
            return self._call_start(output_index, wire)
        else:
            self._items.setdefault(output_index, _Item("skip"))
        return []

    def _call_start(self, output_index: int, call: FunctionCall) -> list[StreamEvent]:
        if self._output_tool is not None and call.name == self._output_tool:
            self._items[output_index] = _Item("output", call.id)
            return self._arguments(output_index, call.arguments)
        item = self._item(output_index, "call", call.id)
        self._calls = True
        out: list[StreamEvent] = [
            ToolCallStart(index=item.anchor, id=call.call_id, name=call.name, item_id=call.id)
        ]
        return out + self._arguments(output_index, call.arguments)

    def _item_done(self, output_index: int, wire: Any) -> list[StreamEvent]:
        if isinstance(wire, Reasoning):
            return self._reasoning_done(output_index, wire)
        if isinstance(wire, Message):
            return self._message_done(output_index, wire)
        if isinstance(wire, FunctionCall):
            out: list[StreamEvent] = []
            item = self._items.get(output_index)
            if item is None:
                out.extend(self._call_start(output_index, wire))
                item = self._items[output_index]
            elif not item.arguments and ("t", output_index, 0) not in self._slots:
                out.extend(self._arguments(output_index, wire.arguments))
            if item.kind == "call" and item.open:
                item.open = False
                out.append(ToolCallEnd(index=item.anchor))
            return out
        return []

    def _reasoning_done(self, output_index: int, wire: Reasoning) -> list[StreamEvent]:
        item = self._item(output_index, "reasoning", wire.id)
        out: list[StreamEvent] = []
        shown = False
        for tag, texts in (("s", wire.summary or ()), ("c", wire.content or ())):
            for position, piece in enumerate(texts):
                key = (tag, output_index, position)
                if key in self._slots:
                    shown = True
                elif piece.text:
                    shown = True
                    out.append(ThinkingDelta(index=self._slot(key), text=piece.text, id=wire.id))
        if wire.encrypted_content:
            out.append(
                RedactedThinkingDelta(index=item.anchor, data=wire.encrypted_content, id=wire.id)
            )
        elif not shown:
            # Nothing readable and nothing encrypted: the id alone goes back (stored responses).
            out.append(ThinkingDelta(index=item.anchor, id=wire.id))
        return out

    def _message_done(self, output_index: int, wire: Message) -> list[StreamEvent]:
        item = self._item(output_index, "message", wire.id)
        content = wire.content
        texts: list[str] = []
        if isinstance(content, str):
            texts.append(content)
        else:
            for piece in content:
                if isinstance(piece, OutputText):
                    texts.append(piece.text)
                elif isinstance(piece, Refusal):
                    texts.append(piece.refusal)
        out: list[StreamEvent] = []
        for position, text in enumerate(texts or [""]):
            key = ("t", output_index, position)
            if key not in self._slots:
                index = self._slot(key)
                out.append(TextDelta(index=index, text=text, id=wire.id, phase=wire.phase))
            elif (item.id, item.phase) != (wire.id, wire.phase):
                # The item told its id or phase late: fill them in on the part.
                index = self._slots[key]
                out.append(TextDelta(index=index, text="", id=wire.id, phase=wire.phase))
        item.id, item.phase = wire.id, wire.phase
        return out

    def _close_calls(self) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for item in self._items.values():
            if item.kind == "call" and item.open:
                item.open = False
                out.append(ToolCallEnd(index=item.anchor))
        return out

    # ------------------------------------------------------------------ lifecycle

    def _lifecycle(self, body: object, data: str) -> list[StreamEvent]:
        if isinstance(body, _STARTS):
            return self._start(body.response)
        if isinstance(body, ResponseCompletedEvent | ResponseIncompleteEvent):
            return self._end(body.response)
        if isinstance(body, ResponseFailedEvent):
            error = body.response.error
            code = error.code if error is not None else None
            message = (error.message if error is not None else "") or "the response failed"
            return [*self._start(body.response), self._error(code, message, data)]
        if isinstance(body, ErrorEvent):
            return [self._error(body.code, body.message or "the provider reported an error", data)]
        return []

    def _start(self, response: Response) -> list[StreamEvent]:
        if self._started:
            return []
        self._started = True
        return [MessageStart(id=response.id or None, model=response.model or None)]

    def _end(self, response: Response) -> list[StreamEvent]:
        out = self._start(response)
        out.extend(self._close_calls())
        if response.usage is not None:
            out.append(UsageUpdate(usage=normalise_usage(response.usage)))
        calls = self._calls or any(
            isinstance(i, FunctionCall) and i.name != self._output_tool for i in response.output
        )
        finish, raw = finish_of(response, calls=calls)
        out.append(MessageEnd(finish_reason=finish, raw_finish_reason=raw))
        self._done = self._finished = True
        return out

    def _error(self, code: str | None, message: str, data: str) -> StreamError:
        try:
            raw: object = _raw.decode(data)
        except msgspec.DecodeError:
            raw = data
        return StreamError(type=failure_type(code), message=message, code=code, raw=raw)
