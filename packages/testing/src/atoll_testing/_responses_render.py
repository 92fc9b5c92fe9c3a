"""OpenAI Responses rendering of a scripted turn: a ``response`` body or its event stream.

Every body and event is an ``atoll_wire.responses`` struct encoded with msgspec. Text deltas,
the hot path of long streams, are a head, a middle and a tail encoded once per response around
each fragment and its sequence number; all three come from encoding the struct itself, so they
cannot drift from it.

A turn's ``thinking`` is a reasoning item: its summary (when the request asked for
``reasoning.summary``) and its encrypted content (when the request included
``reasoning.encrypted_content``; ``response.output_item.added`` carries only a prefix of it, as
the real API may). Its text is a message item (``phase`` set when the server labels phases),
its tool calls ``function_call`` items with an ``fc_`` item id apart from the ``call_`` id.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import msgspec
from atoll_wire import responses as wire

from ._inputs import ChatInput
from ._reply import JSON, SSE, Reply, split_fixed, usage_numbers
from ._script import Turn

_ENC = msgspec.json.Encoder()
_MARK = "\x00atoll-fragment\x00"
_MARK_JSON = _ENC.encode(_MARK)
_SEQ = 987_654_321  # a sequence number no real stream reaches: where the number goes
_SEQ_BYTES = str(_SEQ).encode()
MALFORMED = (
    b"event: response.output_text.delta\n"
    b'data: {"type":"response.output_text.delta","item_id":"msg_malformed","out\n\n'
)
_FAILED = "The model failed to generate a response."
ENCRYPTED = "reasoning.encrypted_content"

# Neutral (and raw) finish reasons -> the response's status and incomplete reason.
_INCOMPLETE = {
    "length": "max_output_tokens",
    "max_output_tokens": "max_output_tokens",
    "content_filter": "content_filter",
}


@dataclass(slots=True)
class Plan:
    """What a turn becomes, decided once for the whole and the streamed rendering.

    Attributes:
        rid: The response id.
        request: The decoded request.
        created: Unix time.
        reasoning: The reasoning item, if the turn thinks.
        message: The message item, if the turn has text.
        calls: The function call items.
        status: ``completed``, ``incomplete`` or ``failed``.
        incomplete: The incomplete reason.
    """

    rid: str
    request: wire.ResponsesRequest
    created: int
    reasoning: wire.Reasoning | None = None
    message: wire.Message | None = None
    calls: list[wire.FunctionCall] = field(default_factory=list[wire.FunctionCall])
    status: str = "completed"
    incomplete: str | None = None

    @property
    def output(self) -> list[wire.Item]:
        """The output items, in order."""
        items: list[wire.Item] = []
        if self.reasoning is not None:
            items.append(self.reasoning)
        if self.message is not None:
            items.append(self.message)
        items.extend(self.calls)
        return items


def plan(
    turn: Turn,
    request: wire.ResponsesRequest,
    rid: str,
    created: int,
    *,
    seal: Callable[[str, str], str],
    phases: bool,
) -> Plan:
    """Decide the items, ids and status of a turn's response.

    Args:
        turn: The scripted turn.
        request: The decoded request.
        rid: The response id.
        created: Unix time.
        seal: Makes a reasoning item's encrypted content from its id and text.
        phases: Label the message with a phase.
    """
    tag = rid.removeprefix("resp_")
    out = Plan(rid=rid, request=request, created=created)
    if turn.thinking is not None:
        item_id = f"rs_{tag}"
        summary = request.reasoning is not None and bool(
            request.reasoning.summary or request.reasoning.generate_summary
        )
        include = ENCRYPTED in (request.include or ())
        out.reasoning = wire.Reasoning(
            id=item_id,
            summary=[wire.SummaryText(text=turn.thinking)] if summary and turn.thinking else [],
            encrypted_content=seal(item_id, turn.thinking) if include else None,
            status="completed",
        )
    text = turn.full_text()
    if text or not (turn.tool_calls or turn.thinking is not None):
        phase = ("commentary" if turn.tool_calls else "final_answer") if phases else None
        out.message = wire.Message(
            role="assistant",
            id=f"msg_{tag}",
            status="completed",
            phase=phase,
            content=[wire.OutputText(text=text, annotations=[], logprobs=[])],
        )
    out.calls = [
        wire.FunctionCall(
            id=f"fc_{tag}_{i}",
            call_id=call.id if call.id is not None else f"call_{tag}_{i}",
            name=call.name,
            arguments=call.raw_arguments(),
            status="completed",
        )
        for i, call in enumerate(turn.tool_calls)
    ]
    finish = turn.finish_reason
    if finish == "failed":
        out.status = "failed"
    elif finish is not None and finish not in ("stop", "tool_calls"):
        out.status = "incomplete"
        out.incomplete = _INCOMPLETE.get(finish, finish)
    return out


def _usage(turn: Turn, chat: ChatInput) -> wire.Usage:
    inp, out, reasoning, cache_read, cache_write = usage_numbers(turn, chat)
    return wire.Usage(
        input_tokens=inp,
        input_tokens_details=wire.InputTokensDetails(
            cached_tokens=cache_read, cache_write_tokens=cache_write
        ),
        output_tokens=out,
        output_tokens_details=wire.OutputTokensDetails(reasoning_tokens=reasoning),
        total_tokens=inp + out,
    )


def response(p: Plan, turn: Turn, chat: ChatInput, *, done: bool = True) -> wire.Response:
    """The response object: finished (``done``), or as ``response.created`` shows it."""
    request = p.request
    reasoning = request.reasoning
    body = wire.Response(
        id=p.rid,
        created_at=p.created,
        status=p.status if done else "in_progress",
        instructions=request.instructions,
        model=request.model,
        output=p.output if done else [],
        parallel_tool_calls=request.parallel_tool_calls is not False,
        previous_response_id=request.previous_response_id,
        reasoning=wire.ReasoningConfig(
            effort=reasoning.effort if reasoning else None,
            summary=reasoning.summary if reasoning else None,
        ),
        store=request.store is not False,
        temperature=request.temperature if request.temperature is not None else 1.0,
        text=request.text or wire.TextConfig(format=wire.TextFormat(type="text")),
        tool_choice=request.tool_choice or "auto",
        tools=list(request.tools or ()),
        top_p=request.top_p if request.top_p is not None else 1.0,
        max_output_tokens=request.max_output_tokens,
        truncation=request.truncation or "disabled",
        usage=_usage(turn, chat) if done else None,
        metadata=request.metadata or {},
    )
    if done and p.status == "failed":
        body.error = wire.ResponseError(code="server_error", message=_FAILED)
        body.output = []
    if done and p.incomplete is not None:
        body.incomplete_details = wire.IncompleteDetails(reason=p.incomplete)
    return body


def whole(p: Plan, turn: Turn, chat: ChatInput) -> Reply:
    """A non-stream ``response`` body."""
    return Reply(200, JSON, _ENC.encode(response(p, turn, chat)))


def _event(event: wire.StreamEvent) -> bytes:
    name: str = type(event).__struct_config__.tag  # type: ignore[assignment]  # the event type
    return b"event: " + name.encode() + b"\ndata: " + _ENC.encode(event) + b"\n\n"


class _Events:
    """Numbers and frames events in order."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []

    @property
    def next(self) -> int:
        return len(self.frames)

    def add(self, event: wire.StreamEvent) -> None:
        event.sequence_number = self.next
        self.frames.append(_event(event))

    def fragments(self, template: wire.StreamEvent, pieces: list[str]) -> None:
        """One event per piece, ``template`` with the piece as its fragment (``_MARK``)."""
        template.sequence_number = _SEQ
        head, _, rest = _event(template).partition(_SEQ_BYTES)
        middle, _, tail = rest.partition(_MARK_JSON)
        frames = self.frames
        for piece in pieces:
            frames.append(head + str(len(frames)).encode() + middle + _ENC.encode(piece) + tail)


def _reasoning_events(events: _Events, out: int, item: wire.Reasoning) -> None:
    started = msgspec.structs.replace(item, summary=[], status="in_progress")
    if item.encrypted_content:  # the API may send an incomplete one here: take it from done
        started.encrypted_content = item.encrypted_content[: len(item.encrypted_content) // 2]
    events.add(wire.OutputItemAddedEvent(output_index=out, item=started))
    for index, part in enumerate(item.summary or ()):
        empty = wire.SummaryText(text="")
        events.add(
            wire.ReasoningSummaryPartAddedEvent(
                item_id=item.id, output_index=out, summary_index=index, part=empty
            )
        )
        template = wire.ReasoningSummaryTextDeltaEvent(
            item_id=item.id, output_index=out, summary_index=index, delta=_MARK
        )
        events.fragments(template, split_fixed(part.text, 24))
        events.add(
            wire.ReasoningSummaryTextDoneEvent(
                item_id=item.id, output_index=out, summary_index=index, text=part.text
            )
        )
        events.add(
            wire.ReasoningSummaryPartDoneEvent(
                item_id=item.id, output_index=out, summary_index=index, part=part
            )
        )
    events.add(wire.OutputItemDoneEvent(output_index=out, item=item))


def _message_events(events: _Events, out: int, item: wire.Message, chunks: list[str]) -> None:
    item_id = item.id or ""
    started = msgspec.structs.replace(item, content=[], status="in_progress")
    events.add(wire.OutputItemAddedEvent(output_index=out, item=started))
    empty = wire.OutputText(text="", annotations=[], logprobs=[])
    events.add(
        wire.ContentPartAddedEvent(item_id=item_id, output_index=out, content_index=0, part=empty)
    )
    template = wire.OutputTextDeltaEvent(
        item_id=item_id, output_index=out, content_index=0, delta=_MARK
    )
    events.fragments(template, chunks)
    text = "".join(chunks)
    events.add(
        wire.OutputTextDoneEvent(item_id=item_id, output_index=out, content_index=0, text=text)
    )
    part = wire.OutputText(text=text, annotations=[], logprobs=[])
    events.add(
        wire.ContentPartDoneEvent(item_id=item_id, output_index=out, content_index=0, part=part)
    )
    events.add(wire.OutputItemDoneEvent(output_index=out, item=item))


def _call_events(events: _Events, out: int, item: wire.FunctionCall) -> None:
    item_id = item.id or ""
    started = msgspec.structs.replace(item, arguments="", status="in_progress")
    events.add(wire.OutputItemAddedEvent(output_index=out, item=started))
    template = wire.FunctionCallArgumentsDeltaEvent(item_id=item_id, output_index=out, delta=_MARK)
    events.fragments(template, split_fixed(item.arguments, 16))
    events.add(
        wire.FunctionCallArgumentsDoneEvent(
            item_id=item_id, output_index=out, arguments=item.arguments, name=item.name
        )
    )
    events.add(wire.OutputItemDoneEvent(output_index=out, item=item))


def stream(p: Plan, turn: Turn, chat: ChatInput) -> Reply:
    """The event stream: created, in_progress, each item's events, then the final event."""
    events = _Events()
    started = response(p, turn, chat, done=False)
    events.add(wire.ResponseCreatedEvent(response=started))
    events.add(wire.ResponseInProgressEvent(response=started))
    if p.status != "failed":
        out = 0
        if p.reasoning is not None:
            _reasoning_events(events, out, p.reasoning)
            out += 1
        if p.message is not None:
            _message_events(events, out, p.message, turn.text_chunks() or [turn.full_text()])
            out += 1
        for call in p.calls:
            _call_events(events, out, call)
            out += 1
    final = response(p, turn, chat)
    last: wire.StreamEvent
    if p.status == "failed":
        last = wire.ResponseFailedEvent(response=final)
    elif p.status == "incomplete":
        last = wire.ResponseIncompleteEvent(response=final)
    else:
        last = wire.ResponseCompletedEvent(response=final)
    last.sequence_number = events.next
    return Reply(
        200,
        SSE,
        events=events.frames,
        terminal=[_event(last)],
        error_event=error_event(
            "The server had an error while processing your request.", number=events.next
        ),
        malformed_event=MALFORMED,
    )


def error_event(message: str, error_type: str | None = None, *, number: int = 0) -> bytes:
    """An ``error`` stream event (``code`` is the error type; default ``server_error``)."""
    return _event(
        wire.ErrorEvent(code=error_type or "server_error", message=message, sequence_number=number)
    )
