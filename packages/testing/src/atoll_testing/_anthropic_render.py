"""Anthropic Messages rendering of a scripted turn, in atoll_wire's Anthropic structs.

Every body and event is an ``atoll_wire.anthropic`` struct encoded with msgspec. Text deltas,
the hot path of long streams, are a head and tail encoded once per block around each
fragment; both come from encoding the struct itself, so they cannot drift from it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from atoll_wire import anthropic as wire

from ._inputs import ChatInput
from ._reply import JSON, SSE, Reply, split_fixed, usage_numbers
from ._script import Turn

_ENC = msgspec.json.Encoder()
_MARK = "\x00atoll-fragment\x00"
_MARK_JSON = _ENC.encode(_MARK)
STOP = b"event: message_stop\ndata: " + _ENC.encode(wire.MessageStopEvent()) + b"\n\n"
_PING = b"event: ping\ndata: " + _ENC.encode(wire.PingEvent()) + b"\n\n"
MALFORMED = (
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"ty\n\n'
)
_FINISH = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}

# status -> error type, as documented at docs.anthropic.com/en/api/errors.
_ERRORS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def error_type_for(status: int) -> str:
    """The Anthropic error type for an HTTP status."""
    return _ERRORS.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error_body(
    status: int, message: str, error_type: str | None = None, request_id: str = ""
) -> bytes:
    """``{"type": "error", "error": {...}, "request_id": ...}``."""
    detail = wire.ErrorDetail(type=error_type or error_type_for(status), message=message)
    return _ENC.encode(wire.ErrorResponse(error=detail, request_id=request_id or None))


def error_event(message: str, error_type: str | None = None) -> bytes:
    """A mid-stream ``event: error`` in Anthropic's shape."""
    detail = wire.ErrorDetail(type=error_type or "overloaded_error", message=message)
    return _event(wire.ErrorEvent(error=detail))


def _event(event: wire.StreamEvent) -> bytes:
    name: str = type(event).__struct_config__.tag  # type: ignore[assignment]  # the event type
    return b"event: " + name.encode() + b"\ndata: " + _ENC.encode(event) + b"\n\n"


def _around(event: wire.StreamEvent) -> tuple[bytes, bytes]:
    """The framed event split around the marker fragment: ``(head, tail)``."""
    head, _, tail = _event(event).partition(_MARK_JSON)
    return head, tail


def _finish(turn: Turn) -> str:
    if turn.finish_reason is not None:
        return _FINISH.get(turn.finish_reason, turn.finish_reason)
    return "tool_use" if turn.tool_calls else "end_turn"


def _signature(turn: Turn) -> str:
    if turn.signature is not None:
        return turn.signature
    return "sig_" + hashlib.sha256((turn.thinking or "").encode()).hexdigest()[:32]


def _call_id(rid: str, index: int, given: str | None) -> str:
    return given if given is not None else f"toolu_{rid[-8:]}{index}"


def _usage(turn: Turn, request: ChatInput, output: int | None = None) -> wire.Usage:
    inp, out, _, cache_read, cache_write = usage_numbers(turn, request)
    # Anthropic's input_tokens leaves cache reads and writes out; ours includes them.
    return wire.Usage(
        input_tokens=max(inp - cache_read - cache_write, 0),
        cache_creation_input_tokens=cache_write,
        cache_read_input_tokens=cache_read,
        output_tokens=out if output is None else output,
    )


def _arguments(raw: str) -> dict[str, Any]:
    try:
        value: object = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return {}  # the non-stream shape needs an object; invalid text only exists in streams
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def message(turn: Turn, request: ChatInput, rid: str) -> Reply:
    """A non-stream ``message`` body."""
    content: list[wire.ContentBlock] = []
    if turn.thinking is not None:
        content.append(wire.ThinkingBlock(thinking=turn.thinking, signature=_signature(turn)))
    text = turn.full_text()
    if text or not (turn.tool_calls or turn.thinking):
        content.append(wire.TextBlock(text=text))
    content.extend(
        wire.ToolUseBlock(
            id=_call_id(rid, i, c.id), name=c.name, input=_arguments(c.raw_arguments())
        )
        for i, c in enumerate(turn.tool_calls)
    )
    body = wire.MessagesResponse(
        id=rid,
        model=request.model,
        content=content,
        stop_reason=_finish(turn),
        usage=_usage(turn, request),
    )
    return Reply(200, JSON, _ENC.encode(body))


def stream(turn: Turn, request: ChatInput, rid: str) -> Reply:
    """An SSE stream: message_start, blocks with deltas, ping, message_delta, message_stop."""
    start = wire.MessagesResponse(id=rid, model=request.model, usage=_usage(turn, request, 1))
    events = [_event(wire.MessageStartEvent(message=start))]
    index = 0
    if turn.thinking is not None:
        events.append(_start(index, wire.ThinkingBlock(thinking="", signature="")))
        events.append(_PING)
        events.extend(
            _delta(index, wire.ThinkingDelta(thinking=p)) for p in split_fixed(turn.thinking, 24)
        )
        events.append(_delta(index, wire.SignatureDelta(signature=_signature(turn))))
        events.append(_stop(index))
        index += 1
    chunks = turn.text_chunks()
    if chunks or not (turn.tool_calls or turn.thinking is not None):
        events.append(_start(index, wire.TextBlock(text="")))
        if index == 0:
            events.append(_PING)
        head, tail = _around(
            wire.ContentBlockDeltaEvent(index=index, delta=wire.TextDelta(text=_MARK))
        )
        events.extend(head + _ENC.encode(piece) + tail for piece in chunks)
        events.append(_stop(index))
        index += 1
    for i, call in enumerate(turn.tool_calls):
        block = wire.ToolUseBlock(id=_call_id(rid, i, call.id), name=call.name, input={})
        events.append(_start(index, block))
        if index == 0:
            events.append(_PING)
        events.extend(
            _delta(index, wire.InputJsonDelta(partial_json=piece))
            for piece in ["", *split_fixed(call.raw_arguments(), 16)]
        )
        events.append(_stop(index))
        index += 1
    _, out, _, _, _ = usage_numbers(turn, request)
    delta = wire.MessageDelta(stop_reason=_finish(turn))
    events.append(_event(wire.MessageDeltaEvent(delta=delta, usage=wire.Usage(output_tokens=out))))
    return Reply(
        200,
        SSE,
        events=events,
        terminal=[STOP],
        error_event=error_event("Overloaded"),
        malformed_event=MALFORMED,
    )


def _start(index: int, block: wire.ContentBlock) -> bytes:
    return _event(wire.ContentBlockStartEvent(index=index, content_block=block))


def _delta(index: int, delta: wire.Delta) -> bytes:
    return _event(wire.ContentBlockDeltaEvent(index=index, delta=delta))


def _stop(index: int) -> bytes:
    return _event(wire.ContentBlockStopEvent(index=index))
