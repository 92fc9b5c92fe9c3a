"""Anthropic Messages rendering: JSON bodies, SSE events of every type and error shapes."""

from __future__ import annotations

import hashlib

import msgspec

from ._inputs import ChatInput
from ._reply import JSON, SSE, Reply, split_fixed, usage_numbers
from ._script import Turn

_ENC = msgspec.json.Encoder()
_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
_PING = b'event: ping\ndata: {"type":"ping"}\n\n'
_MALFORMED = (
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
    body = {
        "type": "error",
        "error": {"type": error_type or error_type_for(status), "message": message},
        "request_id": request_id or None,
    }
    return _ENC.encode(body)


def error_event(message: str, error_type: str | None = None) -> bytes:
    """A mid-stream ``event: error`` in Anthropic's shape."""
    data = {
        "type": "error",
        "error": {"type": error_type or "overloaded_error", "message": message},
    }
    return b"event: error\ndata: " + _ENC.encode(data) + b"\n\n"


def _event(name: bytes, data: object) -> bytes:
    return b"event: " + name + b"\ndata: " + _ENC.encode(data) + b"\n\n"


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


def _usage(turn: Turn, request: ChatInput, output: int | None = None) -> dict[str, object]:
    inp, out, _, cache_read, cache_write = usage_numbers(turn, request)
    # Anthropic's input_tokens leaves cache reads and writes out; ours includes them.
    return {
        "input_tokens": max(inp - cache_read - cache_write, 0),
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "output_tokens": out if output is None else output,
    }


def _arguments(raw: str) -> object:
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return {}  # the non-stream shape needs an object; invalid text only exists in streams


def message(turn: Turn, request: ChatInput, rid: str, created: int) -> Reply:
    """A non-stream ``message`` body."""
    content: list[dict[str, object]] = []
    if turn.thinking is not None:
        content.append(
            {"type": "thinking", "thinking": turn.thinking, "signature": _signature(turn)}
        )
    text = turn.full_text()
    if text or not (turn.tool_calls or turn.thinking):
        content.append({"type": "text", "text": text})
    content.extend(
        {
            "type": "tool_use",
            "id": _call_id(rid, i, c.id),
            "name": c.name,
            "input": _arguments(c.raw_arguments()),
        }
        for i, c in enumerate(turn.tool_calls)
    )
    body = {
        "id": rid,
        "type": "message",
        "role": "assistant",
        "model": request.model,
        "content": content,
        "stop_reason": _finish(turn),
        "stop_sequence": None,
        "usage": _usage(turn, request),
    }
    return Reply(200, JSON, _ENC.encode(body))


def stream(turn: Turn, request: ChatInput, rid: str, created: int) -> Reply:
    """An SSE stream: message_start, blocks with deltas, ping, message_delta, message_stop."""
    start: dict[str, object] = {
        "type": "message_start",
        "message": {
            "id": rid,
            "type": "message",
            "role": "assistant",
            "model": request.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": _usage(turn, request, output=1),
        },
    }
    events = [_event(b"message_start", start)]
    index = 0
    if turn.thinking is not None:
        events.append(_block_start(index, {"type": "thinking", "thinking": "", "signature": ""}))
        events.append(_PING)
        events.extend(
            _delta(index, b'{"type":"thinking_delta","thinking":' + _ENC.encode(p) + b"}")
            for p in split_fixed(turn.thinking, 24)
        )
        sig = b'{"type":"signature_delta","signature":' + _ENC.encode(_signature(turn)) + b"}"
        events.append(_delta(index, sig))
        events.append(_block_stop(index))
        index += 1
    chunks = turn.text_chunks()
    if chunks or not (turn.tool_calls or turn.thinking is not None):
        events.append(_block_start(index, {"type": "text", "text": ""}))
        if index == 0:
            events.append(_PING)
        # Text deltas share everything but the text: build the constant parts once.
        head = (
            b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
            + str(index).encode()
            + b',"delta":{"type":"text_delta","text":'
        )
        events.extend(head + _ENC.encode(piece) + b"}}\n\n" for piece in chunks)
        events.append(_block_stop(index))
        index += 1
    for i, call in enumerate(turn.tool_calls):
        block: dict[str, object] = {
            "type": "tool_use",
            "id": _call_id(rid, i, call.id),
            "name": call.name,
            "input": dict[str, object](),
        }
        events.append(_block_start(index, block))
        if index == 0:
            events.append(_PING)
        for piece in ["", *split_fixed(call.raw_arguments(), 16)]:
            frag = b'{"type":"input_json_delta","partial_json":' + _ENC.encode(piece) + b"}"
            events.append(_delta(index, frag))
        events.append(_block_stop(index))
        index += 1
    _, out, _, _, _ = usage_numbers(turn, request)
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": _finish(turn), "stop_sequence": None},
        "usage": {"output_tokens": out},
    }
    events.append(_event(b"message_delta", delta))
    return Reply(
        200,
        SSE,
        events=events,
        terminal=[_STOP],
        error_event=error_event("Overloaded"),
        malformed_event=_MALFORMED,
    )


def _block_start(index: int, block: dict[str, object]) -> bytes:
    data = {"type": "content_block_start", "index": index, "content_block": block}
    return _event(b"content_block_start", data)


def _delta(index: int, delta: bytes) -> bytes:
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
        + str(index).encode()
        + b',"delta":'
        + delta
        + b"}\n\n"
    )


def _block_stop(index: int) -> bytes:
    return (
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":'
        + str(index).encode()
        + b"}\n\n"
    )
