"""OpenAI chat-completions rendering of a scripted turn: a ``chat.completion`` or a chunk stream.

Usage and tool calls are atoll_wire's OpenAI structs. The envelopes stay literal on purpose:
api.openai.com sends ``"refusal": null`` and, in streams, ``"usage"`` only when asked for,
which those structs cannot express (they omit None in messages, and encode OpenRouter's extra
fields and ``usage`` as null in every chunk). Stream chunks are a constant prefix and suffix
around each delta, encoded once per response: that is what keeps long streams fast.
"""

from __future__ import annotations

import msgspec
from atoll_wire import openai

from ._inputs import ChatInput
from ._reply import JSON, SSE, Reply, split_fixed, usage_numbers
from ._script import Turn

_ENC = msgspec.json.Encoder()
DONE = b"data: [DONE]\n\n"
MALFORMED = b'data: {"id":"chatcmpl-malformed","object":"chat.completion.chunk","choices":[{"de\n\n'

# status -> (type, code), following what api.openai.com sends.
_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    409: ("invalid_request_error", None),
    413: ("invalid_request_error", "request_too_large"),
    422: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


def error_body(status: int, message: str, error_type: str | None = None) -> bytes:
    """``{"error": {message, type, param, code}}`` as OpenAI shapes it (nulls included)."""
    default_type, code = _ERRORS.get(status, ("server_error", None))
    error = {"message": message, "type": error_type or default_type, "param": None, "code": code}
    return _ENC.encode({"error": error})


def error_event(message: str, error_type: str | None = None) -> bytes:
    """A mid-stream error chunk the way OpenAI sends one (a data line carrying ``error``)."""
    error = {"message": message, "type": error_type or "server_error", "param": None, "code": None}
    return b"data: " + _ENC.encode({"error": error}) + b"\n\n"


def _usage(turn: Turn, request: ChatInput) -> openai.CompletionUsage:
    inp, out, reasoning, cache_read, _ = usage_numbers(turn, request)
    return openai.CompletionUsage(
        prompt_tokens=inp,
        completion_tokens=out,
        total_tokens=inp + out,
        prompt_tokens_details=openai.PromptTokensDetails(cached_tokens=cache_read, audio_tokens=0),
        completion_tokens_details=openai.CompletionTokensDetails(
            reasoning_tokens=reasoning, audio_tokens=0
        ),
    )


def _finish(turn: Turn) -> str:
    if turn.finish_reason is not None:
        return turn.finish_reason
    return "tool_calls" if turn.tool_calls else "stop"


def _call_id(rid: str, index: int, given: str | None) -> str:
    return given if given is not None else f"call_{rid[-8:]}{index}"


def completion(turn: Turn, request: ChatInput, rid: str, created: int) -> Reply:
    """A non-stream ``chat.completion`` body."""
    message: dict[str, object] = {
        "role": "assistant",
        "content": turn.text if turn.text is not None or turn.tool_calls else turn.full_text(),
        "refusal": None,
        "annotations": [],
    }
    if turn.thinking is not None:
        message["reasoning_content"] = turn.thinking
    if turn.tool_calls:
        message["tool_calls"] = [
            openai.ToolCall(
                id=_call_id(rid, i, c.id),
                function=openai.FunctionCall(name=c.name, arguments=c.raw_arguments()),
            )
            for i, c in enumerate(turn.tool_calls)
        ]
    body = {
        "id": rid,
        "object": "chat.completion",
        "created": created,
        "model": request.model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish(turn)}
        ],
        "usage": _usage(turn, request),
        "system_fingerprint": None,
    }
    return Reply(200, JSON, _ENC.encode(body))


def stream(turn: Turn, request: ChatInput, rid: str, created: int) -> Reply:
    """An SSE stream of ``chat.completion.chunk`` events ending in ``[DONE]``."""
    prefix = (
        b'data: {"id":'
        + _ENC.encode(rid)
        + b',"object":"chat.completion.chunk","created":'
        + str(created).encode()
        + b',"model":'
        + _ENC.encode(request.model)
        + b',"system_fingerprint":null,"choices":[{"index":0,"delta":'
    )
    usage_null = b',"usage":null' if request.include_usage else b""
    suffix = b',"logprobs":null,"finish_reason":null}]' + usage_null + b"}\n\n"
    events = [prefix + b'{"role":"assistant","content":"","refusal":null}' + suffix]
    if turn.thinking:
        events.extend(
            prefix + b'{"reasoning_content":' + _ENC.encode(piece) + b"}" + suffix
            for piece in split_fixed(turn.thinking, 24)
        )
    events.extend(
        prefix + b'{"content":' + _ENC.encode(piece) + b"}" + suffix for piece in turn.text_chunks()
    )
    for i, call in enumerate(turn.tool_calls):
        # Literal, not ToolCallChunk: that struct omits "index" when it is 0, OpenAI never does.
        head = {
            "index": i,
            "id": _call_id(rid, i, call.id),
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        events.append(prefix + b'{"tool_calls":[' + _ENC.encode(head) + b"]}" + suffix)
        for piece in split_fixed(call.raw_arguments(), 16):
            frag = {"index": i, "function": {"arguments": piece}}
            events.append(prefix + b'{"tool_calls":[' + _ENC.encode(frag) + b"]}" + suffix)
    finish = b',"logprobs":null,"finish_reason":' + _ENC.encode(_finish(turn)) + b"}]"
    events.append(prefix + b"{}" + finish + usage_null + b"}\n\n")
    if request.include_usage:
        tail: dict[str, object] = {
            "id": rid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": request.model,
            "system_fingerprint": None,
            "choices": [],
            "usage": _usage(turn, request),
        }
        events.append(b"data: " + _ENC.encode(tail) + b"\n\n")
    return Reply(
        200,
        SSE,
        events=events,
        terminal=[DONE],
        error_event=error_event("The server had an error while processing your request."),
        malformed_event=MALFORMED,
    )
