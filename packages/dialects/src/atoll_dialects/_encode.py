"""Small helpers both dialects share: JSON in and out, base64, finish reasons, argument parsing."""

from __future__ import annotations

import base64

import msgspec
from atoll_wire import FinishReason, ImagePart, ToolCallPart, parse_tool_arguments

from ._exceptions import UnsupportedRequestError

_encoder = msgspec.json.Encoder()


def dumps(value: object) -> bytes:
    """Encode a JSON-able value to compact UTF-8 bytes."""
    return _encoder.encode(value)


def b64(data: bytes) -> str:
    """Standard base64 text of ``data``."""
    return base64.b64encode(data).decode("ascii")


def image_url(part: ImagePart) -> str:
    """The URL to send for an image: its own URL, or a ``data:`` URL made from its bytes.

    Raises:
        UnsupportedRequestError: The part has neither a URL nor bytes with a media type.
    """
    if part.url:
        return part.url
    if part.data is None or not part.media_type:
        raise UnsupportedRequestError("ImagePart needs `url`, or `data` together with `media_type`")
    return f"data:{part.media_type};base64,{b64(part.data)}"


def tool_call_part(call_id: str, name: str, raw: str) -> ToolCallPart:
    """Build a ToolCallPart keeping the exact argument text and any parse error."""
    arguments, error = parse_tool_arguments(raw)
    return ToolCallPart(
        id=call_id, name=name, arguments=arguments, raw_arguments=raw, arguments_error=error
    )


def call_arguments_text(part: ToolCallPart) -> str:
    """The argument text to send back: the model's exact text when we have it."""
    if part.raw_arguments and part.arguments_error is None:
        return part.raw_arguments
    return dumps(part.arguments).decode()


_OPENAI_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "eos": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "max_tokens": "length",
    "model_length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "tool_use": "tool_calls",
    "content_filter": "content_filter",
    "refusal": "content_filter",
    "error": "error",
    "model_context_window_exceeded": "length",
}


def finish_reason(raw: str | None) -> FinishReason | None:
    """Normalise a provider's finish reason; unknown values become ``"other"``."""
    if raw is None:
        return None
    return _OPENAI_FINISH.get(raw, "other")
