"""What Gemini's responses mean in neutral terms: usage, finish reasons, call ids, parts.

Usage: ``promptTokenCount`` already includes cached content (``cachedContentTokenCount`` becomes
the cache reads) and ``toolUsePromptTokenCount`` counts as input; ``thoughtsTokenCount`` is
counted apart from ``candidatesTokenCount`` by Gemini and both are output, thoughts being the
reasoning tokens. A usage block with a total treats an absent count as zero (the API leaves
zero counts out); without a total an absent count stays unknown.

Finish reasons: every documented value maps, the raw one is kept beside it; ``STOP`` on a turn
that called functions is ``tool_calls``, as in the other dialects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

import msgspec
from atoll_wire import FinishReason, ImagePart, Part, TextPart, ThinkingPart, ToolCallPart, Usage
from atoll_wire import gemini as wire

from ._encode import tool_call_part
from ._gemini_request import SYNTHETIC_CALL_PREFIX

__all__ = ["call_id", "finish_reason", "normalise_usage", "parts_of"]

_FINISH: dict[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "LANGUAGE": "other",
    "NO_IMAGE": "other",
    "IMAGE_OTHER": "other",
    "OTHER": "other",
    "FINISH_REASON_UNSPECIFIED": "other",
}

_args_encoder = msgspec.json.Encoder()


def finish_reason(raw: str | None, *, called: bool) -> FinishReason | None:
    """A Gemini ``finishReason`` in neutral terms (``called``: the turn has function calls)."""
    if raw is None:
        return None
    if raw == "STOP" and called:
        return "tool_calls"
    return _FINISH.get(raw, "other")


def _count(value: int | None, complete: bool) -> int | None:
    if value is None and complete:
        return 0
    return value


def normalise_usage(usage: wire.UsageMetadata) -> Usage:
    """``usageMetadata`` → neutral usage (see the module docstring)."""
    complete = usage.total_token_count is not None
    prompt = usage.prompt_token_count
    tool_prompt = usage.tool_use_prompt_token_count
    candidates = _count(usage.candidates_token_count, complete)
    thoughts = usage.thoughts_token_count
    if candidates is None and thoughts is None:
        output = None
    else:
        output = (candidates or 0) + (thoughts or 0)
    return Usage(
        input_tokens=None if prompt is None else prompt + (tool_prompt or 0),
        output_tokens=output,
        cache_read_tokens=usage.cached_content_token_count,
        reasoning_tokens=thoughts,
    )


def call_id(call: wire.FunctionCall, response_id: str | None, position: int) -> str:
    """The call's own id, or a stable one made from the response id, position and name."""
    if call.id:
        return call.id
    seed = f"{response_id or ''}:{position}:{call.name}".encode()
    return SYNTHETIC_CALL_PREFIX + hashlib.sha256(seed).hexdigest()[:16]


def arguments_text(call: wire.FunctionCall) -> str:
    """The call's arguments as JSON text (``{}`` when it sent none)."""
    return _args_encoder.encode(call.args or {}).decode()


def _image(blob: wire.Blob) -> Part | None:
    try:
        data = base64.b64decode(blob.data, validate=True)
    except (binascii.Error, ValueError):
        return None
    return ImagePart(data=data, media_type=blob.mime_type or None)


def parts_of(content: wire.Content | None, response_id: str | None) -> list[Part]:
    """A whole response's parts → neutral parts, one for one, signatures where they came.

    Server-side tool parts (``executableCode``, ``codeExecutionResult``) ran at the provider
    and are not client parts.
    """
    parts: list[Part] = []
    calls = 0
    for part in content.parts if content is not None else ():
        signature = part.thought_signature or None
        if part.function_call is not None:
            call = part.function_call
            made = tool_call_part(
                call_id(call, response_id, calls), call.name, arguments_text(call)
            )
            parts.append(msgspec.structs.replace(made, signature=signature) if signature else made)
            calls += 1
        elif part.text is not None and part.thought:
            parts.append(ThinkingPart(text=part.text, signature=signature))
        elif part.text is not None:
            if part.text or signature:
                parts.append(TextPart(text=part.text, signature=signature))
        elif part.inline_data is not None:
            image = _image(part.inline_data)
            if image is not None:
                parts.append(image)
    return parts


def has_calls(parts: list[Part]) -> bool:
    """Whether the parts hold a function call."""
    return any(type(p) is ToolCallPart for p in parts)
