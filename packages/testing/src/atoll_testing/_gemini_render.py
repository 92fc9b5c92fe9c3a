"""Gemini rendering of a scripted turn and Gemini's error shape, in atoll_wire's Gemini structs.

Signatures: the scripted model signs the first ``functionCall`` of a turn (only the first, as
Gemini does with parallel calls) and, for a turn without calls, the last text part (in a stream:
an empty text part in the last chunk, as Gemini 3 sends it). A signature is
``atoll-sig.<kind>.<digest>``, base64: the digest binds it to the part it signs, so the next
request proves the client sent it back on that very part (``check_signatures``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import msgspec
from atoll_wire import gemini as wire

from ._inputs import ChatInput
from ._reply import JSON, SSE, Reply, usage_numbers
from ._script import Turn

_ENC = msgspec.json.Encoder()
_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
#: What Google documents a client may send for a call it did not get from Gemini.
SKIP_SIGNATURE = "skip_thought_signature_validator"
MALFORMED = b'data: {"candidates": [{"content": {"parts": [{"te\n\n'


def status_name(status: int) -> str:
    """The canonical ``google.rpc.Code`` name for an HTTP status."""
    return _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")


def error_body(
    status: int, message: str, error_type: str | None = None, retry_delay: float | None = None
) -> bytes:
    """``{"error": {code, message, status, details}}`` (a RetryInfo detail when given a delay)."""
    details: list[dict[str, Any]] | None = None
    if retry_delay is not None:
        details = [
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_delay:g}s"}
        ]
    error = wire.Status(
        code=status, message=message, status=error_type or status_name(status), details=details
    )
    return _ENC.encode(wire.ErrorResponse(error=error))


def error_event(message: str, error_type: str | None = None) -> bytes:
    """A mid-stream ``data: {"error": {...}}`` (default ``INTERNAL``, 500)."""
    error = wire.Status(code=500, message=message, status=error_type or "INTERNAL")
    return b"data: " + _ENC.encode(wire.ErrorResponse(error=error)) + b"\r\n\r\n"


def _digest(kind: str, payload: bytes) -> str:
    return hashlib.sha256(kind.encode() + b"\x00" + payload).hexdigest()[:16]


def signature_for(part: wire.Part) -> str:
    """The signature the scripted model gives this part."""
    call = part.function_call
    if call is not None:
        kind, payload = "call", call.name.encode() + _ENC.encode(call.args or {})
    else:
        kind, payload = ("thought" if part.thought else "text"), b""
    token = f"atoll-sig.{kind}.{_digest(kind, payload)}"
    return base64.b64encode(token.encode()).decode()


def signature_problem(part: wire.Part) -> str | None:
    """Why the part's signature is not the one the model gave it (None: it is)."""
    given = part.thought_signature
    if given is None or given == SKIP_SIGNATURE:
        return None
    if not given:
        return "an empty thought_signature was sent"
    try:
        base64.b64decode(given, validate=True)
    except (binascii.Error, ValueError):
        return "Corrupted thought signature."
    if given != signature_for(part):
        return "Corrupted thought signature: it was not issued for this part."
    return None


def _signed_call(args: dict[str, Any], name: str, call_id: str | None) -> wire.Part:
    part = wire.Part(function_call=wire.FunctionCall(name=name, args=args, id=call_id))
    part.thought_signature = signature_for(part)
    return part


def _arguments(raw: str) -> dict[str, Any]:
    try:
        value: object = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return {}
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _finish(turn: Turn) -> str:
    if turn.finish_reason is not None:
        return _FINISH.get(turn.finish_reason, turn.finish_reason)
    return "STOP"


def _usage(turn: Turn, request: ChatInput) -> wire.UsageMetadata:
    inp, out, reasoning, cache_read, _ = usage_numbers(turn, request)
    visible = max(out - reasoning, 0)
    return wire.UsageMetadata(
        prompt_token_count=inp,
        cached_content_token_count=cache_read or None,
        candidates_token_count=visible,
        thoughts_token_count=reasoning or None,
        total_token_count=inp + out,
    )


def _calls(turn: Turn) -> list[wire.Part]:
    parts: list[wire.Part] = []
    for index, call in enumerate(turn.tool_calls):
        args = _arguments(call.raw_arguments())
        if index == 0:
            parts.append(_signed_call(args, call.name, call.id))
        else:
            parts.append(
                wire.Part(function_call=wire.FunctionCall(name=call.name, args=args, id=call.id))
            )
    return parts


def _response(
    parts: list[wire.Part], rid: str, model: str, **fields: Any
) -> wire.GenerateContentResponse:
    candidate = wire.Candidate(content=wire.Content(role="model", parts=parts), index=0, **fields)
    return wire.GenerateContentResponse(
        candidates=[candidate], model_version=model, response_id=rid
    )


def response(turn: Turn, request: ChatInput, rid: str) -> Reply:
    """A whole ``generateContent`` answer."""
    parts: list[wire.Part] = []
    if turn.thinking is not None:
        parts.append(wire.Part(text=turn.thinking, thought=True))
    text = turn.full_text()
    if text or not (turn.tool_calls or turn.thinking):
        parts.append(wire.Part(text=text))
    calls = _calls(turn)
    if calls:
        parts.extend(calls)
    elif parts:
        parts[-1].thought_signature = signature_for(parts[-1])
    body = _response(parts, rid, request.model, finish_reason=_finish(turn))
    body.usage_metadata = _usage(turn, request)
    return Reply(200, JSON, _ENC.encode(body))


def stream(turn: Turn, request: ChatInput, rid: str, *, sse: bool) -> Reply:
    """A stream: one response per piece, the last one with the finish reason and usage.

    ``sse``: ``data:`` events (``alt=sse``); otherwise the elements of one JSON array.
    """
    chunks: list[wire.GenerateContentResponse] = []
    if turn.thinking is not None:
        chunks.append(_response([wire.Part(text=turn.thinking, thought=True)], rid, request.model))
    chunks.extend(
        _response([wire.Part(text=piece)], rid, request.model) for piece in turn.text_chunks()
    )
    chunks.extend(_response([call], rid, request.model) for call in _calls(turn))
    last: list[wire.Part] = []
    if not turn.tool_calls:
        closing = wire.Part(text="")
        closing.thought_signature = signature_for(closing)
        last.append(closing)
    final = _response(last, rid, request.model, finish_reason=_finish(turn))
    final.usage_metadata = _usage(turn, request)
    chunks.append(final)
    encoded = [_ENC.encode(c) for c in chunks]
    if sse:
        return Reply(
            200,
            SSE,
            events=[b"data: " + e + b"\r\n\r\n" for e in encoded],
            error_event=error_event("An internal error has occurred."),
            malformed_event=MALFORMED,
        )
    events = [(b"[" if i == 0 else b",\r\n") + e for i, e in enumerate(encoded)]
    return Reply(
        200,
        JSON,
        events=events,
        terminal=[b"]"],
        error_event=b",\r\n" + error_body(500, "An internal error has occurred."),
        malformed_event=b',\r\n{"candidates": [{"conte',
    )
