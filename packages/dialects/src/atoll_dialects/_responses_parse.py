"""OpenAI Responses output → neutral: items into parts, usage, finish reasons, failures.

Each output item keeps its id on the parts made from it, so it can go back unchanged:

- ``reasoning`` → a ``RedactedThinkingPart`` holding ``encrypted_content`` (when sent), then a
  ``ThinkingPart`` per summary part (and per ``reasoning_text`` part), all with the item's
  ``id``; an item with none of these is one empty ``ThinkingPart`` carrying the id (a stored
  response's reasoning goes back by id alone).
- ``message`` → a ``TextPart`` per ``output_text`` or ``refusal`` part, with the item's ``id``
  and ``phase``.
- ``function_call`` → a ``ToolCallPart`` whose ``id`` is the ``call_id`` (results answer it)
  and ``item_id`` the item's ``id``.

Built-in tool items (web search, file search, code interpreter, MCP, ...) ran at the provider;
they are not client parts and are left out, as the Anthropic dialect leaves out server tools.
"""

from __future__ import annotations

from atoll_wire import (
    FinishReason,
    Part,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    Usage,
)
from atoll_wire.responses import FunctionCall, Item, Message, Reasoning, Refusal, Response
from atoll_wire.responses import OutputText as WireOutputText
from atoll_wire.responses import Usage as WireUsage

from ._encode import tool_call_part

__all__ = [
    "failure_type",
    "finish_of",
    "function_call_part",
    "normalise_usage",
    "output_parts",
    "reasoning_parts",
]


def normalise_usage(usage: WireUsage) -> Usage:
    """Responses usage → neutral usage (input already includes cached tokens)."""
    inputs = usage.input_tokens_details
    outputs = usage.output_tokens_details
    return Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=inputs.cached_tokens if inputs else None,
        cache_write_tokens=inputs.cache_write_tokens if inputs else None,
        reasoning_tokens=outputs.reasoning_tokens if outputs else None,
    )


_INCOMPLETE: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}


def finish_of(response: Response, *, calls: bool) -> tuple[FinishReason | None, str | None]:
    """The neutral finish reason and the provider's own value for a finished response.

    ``completed`` is ``tool_calls`` when the model called a function, else ``stop``; an
    incomplete response's reason (``max_output_tokens``, ``content_filter``) is the raw value.

    Args:
        response: The final response.
        calls: Whether it holds client function calls.
    """
    status = response.status
    if status == "incomplete":
        details = response.incomplete_details
        reason = details.reason if details is not None else None
        if reason is None:
            return "other", "incomplete"
        return _INCOMPLETE.get(reason, "other"), reason
    if status in (None, "completed"):
        return ("tool_calls" if calls else "stop"), status or "completed"
    return "other", status


_SERVER_CODES = {
    "server_error": "server_error",
    "rate_limit_exceeded": "rate_limit_exceeded",
    "vector_store_timeout": "timeout_error",
}
_REQUEST_CODES = frozenset(
    {
        "data_residency_mismatch",
        "bio_policy",
        "unsupported_image_media_type",
        "empty_image_file",
        "failed_to_download_image",
    }
)


def failure_type(code: str | None) -> str:
    """The error ``type`` for a failed response's (or an error event's) ``code``.

    A failed response carries only a code. The ones the API documents are the server's
    (``server_error``, ``rate_limit_exceeded``, ``vector_store_timeout``) or the request's
    (``invalid_prompt``, the image errors, ...), typed ``invalid_request_error`` as an HTTP
    error body would type them; none is a server error; any other code is kept as it is.
    """
    if code is None:
        return "server_error"
    if code in _SERVER_CODES:
        return _SERVER_CODES[code]
    if code in _REQUEST_CODES or code.startswith(("invalid_", "image_")):
        return "invalid_request_error"
    return code


def reasoning_parts(item: Reasoning) -> list[Part]:
    """A reasoning item's parts (see the module docstring)."""
    parts: list[Part] = []
    if item.encrypted_content:
        parts.append(RedactedThinkingPart(data=item.encrypted_content, id=item.id))
    parts.extend(ThinkingPart(text=s.text, id=item.id) for s in item.summary or ())
    parts.extend(ThinkingPart(text=c.text, id=item.id) for c in item.content or ())
    if not parts:
        parts.append(ThinkingPart(text="", id=item.id))
    return parts


def message_parts(item: Message) -> list[Part]:
    """An assistant message item's text parts, each with the item's id and phase."""
    content = item.content
    if isinstance(content, str):
        return [TextPart(text=content, id=item.id, phase=item.phase)]
    parts: list[Part] = []
    for piece in content:
        if isinstance(piece, WireOutputText):
            parts.append(TextPart(text=piece.text, id=item.id, phase=item.phase))
        elif isinstance(piece, Refusal):
            parts.append(TextPart(text=piece.refusal, id=item.id, phase=item.phase))
    if not parts:
        parts.append(TextPart(text="", id=item.id, phase=item.phase))
    return parts


def function_call_part(item: FunctionCall) -> ToolCallPart:
    """A function call item as a tool call: ``id`` is the call id, ``item_id`` the item's."""
    part = tool_call_part(item.call_id, item.name, item.arguments)
    part.item_id = item.id
    return part


def output_parts(items: list[Item], output_tool: str | None = None) -> tuple[list[Part], bool]:
    """A response's output items → parts, and whether any is a client function call.

    Args:
        items: ``response.output``.
        output_tool: The forced tool carrying structured output: its arguments are the text.
    """
    parts: list[Part] = []
    calls = False
    for item in items:
        if isinstance(item, Reasoning):
            parts.extend(reasoning_parts(item))
        elif isinstance(item, Message):
            parts.extend(message_parts(item))
        elif isinstance(item, FunctionCall):
            if output_tool is not None and item.name == output_tool:
                parts.append(TextPart(text=item.arguments or "{}"))
            else:
                calls = True
                parts.append(function_call_part(item))
    return parts, calls
