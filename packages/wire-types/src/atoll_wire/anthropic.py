"""Anthropic Messages API wire structs: request, response, every stream event, every block.

Content blocks, deltas and stream events are tagged unions on ``type``. Decoding is lenient:
unknown fields are ignored, and a block, delta or event whose ``type`` we do not know decodes to
``UnknownBlock``/``UnknownDelta``/``UnknownEvent`` holding the JSON as sent (``raw``) instead of
failing. The fast path is one msgspec decode; the fallback only runs when an unknown type shows
up. Encoding omits fields left at their defaults.

Example:
    >>> ev = decode_event(b'{"type":"content_block_delta","index":0,'
    ...                   b'"delta":{"type":"text_delta","text":"Hi"}}')
    >>> ev.delta.text  # doctest: +SKIP
    'Hi'
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from ._anthropic_blocks import BLOCK_TYPES as _BLOCK_TYPES
from ._anthropic_blocks import (
    BashCodeExecutionToolResultBlock,
    CacheControl,
    CodeExecutionToolResultBlock,
    ContainerUploadBlock,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    McpToolResultBlock,
    McpToolUseBlock,
    RedactedThinkingBlock,
    SearchResultBlock,
    ServerToolUseBlock,
    Source,
    TextBlock,
    TextEditorCodeExecutionToolResultBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolSearchToolResultBlock,
    ToolUseBlock,
    UnknownBlock,
    WebFetchToolResultBlock,
    WebSearchToolResultBlock,
)
from ._codec import encode_body

__all__ = (
    "BashCodeExecutionToolResultBlock",
    "CacheControl",
    "CacheCreation",
    "CitationsDelta",
    "CodeExecutionToolResultBlock",
    "ContainerUploadBlock",
    "ContentBlock",
    "ContentBlockDeltaEvent",
    "ContentBlockStartEvent",
    "ContentBlockStopEvent",
    "Delta",
    "DocumentBlock",
    "ErrorDetail",
    "ErrorEvent",
    "ErrorResponse",
    "ImageBlock",
    "InputJsonDelta",
    "McpToolResultBlock",
    "McpToolUseBlock",
    "MessageDelta",
    "MessageDeltaEvent",
    "MessageParam",
    "MessageStartEvent",
    "MessageStopEvent",
    "MessagesRequest",
    "MessagesResponse",
    "Metadata",
    "PingEvent",
    "RedactedThinkingBlock",
    "SearchResultBlock",
    "ServerToolUseBlock",
    "SignatureDelta",
    "Source",
    "StreamEvent",
    "TextBlock",
    "TextDelta",
    "TextEditorCodeExecutionToolResultBlock",
    "ThinkingBlock",
    "ThinkingConfig",
    "ThinkingDelta",
    "ToolChoice",
    "ToolParam",
    "ToolResultBlock",
    "ToolSearchToolResultBlock",
    "ToolUseBlock",
    "UnknownBlock",
    "UnknownDelta",
    "UnknownEvent",
    "Usage",
    "WebFetchToolResultBlock",
    "WebSearchToolResultBlock",
    "decode_error",
    "decode_event",
    "decode_request",
    "decode_response",
    "encode",
)


# gc=False: decoded wire data never forms reference cycles; untracked structs allocate faster.
class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Every plain wire struct: keyword-only, defaults left out when encoding."""


class _Tagged(_Wire, tag_field="type", kw_only=True):
    """Every union member: tagged on ``type``."""


class _Full(msgspec.Struct, kw_only=True, gc=False):
    """Response-side structs: every field encoded (None as null), as the API sends them."""


class _FullTagged(_Full, tag_field="type", kw_only=True):
    """Stream events: tagged on ``type``, every field encoded."""


# ---------------------------------------------------------------- request


class MessageParam(_Wire, kw_only=True):
    """A message in the request.

    Attributes:
        role: ``user`` or ``assistant``.
        content: Text, or blocks.
    """

    role: str
    content: str | list[ContentBlock]


class ToolParam(_Wire, kw_only=True):
    """A tool in the request: a client tool (``input_schema``) or a server tool (``type``).

    Attributes:
        name: The tool name.
        description: What it does.
        input_schema: JSON Schema of the input (client tools).
        type: Server tool version, e.g. ``web_search_20250305``; None for client tools.
        cache_control: Prompt caching breakpoint.
        strict: Enforce the schema exactly.
        defer_loading: Load only when tool search finds it.
        max_uses: Server tool call limit.
        allowed_domains: Web search/fetch allow list.
        blocked_domains: Web search/fetch block list.
    """

    name: str
    description: str | None = None
    input_schema: dict[str, Any] | None = None
    type: str | None = None
    cache_control: CacheControl | None = None
    strict: bool | None = None
    defer_loading: bool | None = None
    max_uses: int | None = None
    allowed_domains: list[str] | None = None
    blocked_domains: list[str] | None = None


class ToolChoice(_Wire, kw_only=True):
    """``tool_choice``.

    Attributes:
        type: ``auto``, ``any``, ``tool`` or ``none``.
        name: The tool when ``type`` is ``tool``.
        disable_parallel_tool_use: At most one call per turn.
    """

    type: str
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class ThinkingConfig(_Wire, kw_only=True):
    """``thinking``.

    Attributes:
        type: ``enabled``, ``disabled`` or ``adaptive``.
        budget_tokens: Token budget for thinking when enabled.
    """

    type: str
    budget_tokens: int | None = None


class Metadata(_Wire, kw_only=True):
    """``metadata``.

    Attributes:
        user_id: An opaque end-user id.
    """

    user_id: str | None = None


class MessagesRequest(_Wire, kw_only=True):
    """``POST /v1/messages`` body.

    Attributes:
        model: Model id.
        max_tokens: Output limit (required by Anthropic's API; some compatible servers take
            requests without it, so it may be left out).
        messages: The conversation.
        system: System prompt as text or text blocks (blocks allow ``cache_control``).
        tools: Client and server tools.
        tool_choice: Tool choice.
        thinking: Extended thinking settings.
        metadata: Request metadata.
        stop_sequences: Stop sequences.
        stream: Stream the reply as SSE.
        temperature: Sampling temperature.
        top_p: Nucleus sampling.
        top_k: Top-k sampling.
        service_tier: ``auto`` or ``standard_only``.
        output_config: Output settings (structured output ``format``, ``effort``), as sent.
        output_format: Older structured output field, as sent.
        container: Code execution container id.
        mcp_servers: Remote MCP servers, as sent.
    """

    model: str
    messages: list[MessageParam]
    max_tokens: int | None = None
    system: str | list[TextBlock] | None = None
    tools: list[ToolParam] | None = None
    tool_choice: ToolChoice | None = None
    thinking: ThinkingConfig | None = None
    metadata: Metadata | None = None
    stop_sequences: list[str] | None = None
    stream: bool | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    service_tier: str | None = None
    output_config: dict[str, Any] | None = None
    output_format: dict[str, Any] | None = None
    container: str | None = None
    mcp_servers: list[dict[str, Any]] | None = None


# ---------------------------------------------------------------- response


class CacheCreation(_Wire, kw_only=True):
    """Cache writes by lifetime.

    Attributes:
        ephemeral_5m_input_tokens: Tokens written with the 5-minute TTL.
        ephemeral_1h_input_tokens: Tokens written with the 1-hour TTL.
    """

    ephemeral_5m_input_tokens: int | None = None
    ephemeral_1h_input_tokens: int | None = None


class Usage(_Wire, kw_only=True):
    """Anthropic usage. ``input_tokens`` EXCLUDES cache reads and writes (unlike OpenAI).

    Attributes:
        input_tokens: Uncached input tokens.
        output_tokens: Output tokens (cumulative in ``message_delta``).
        cache_creation_input_tokens: Tokens written to the cache.
        cache_read_input_tokens: Tokens read from the cache.
        cache_creation: Cache writes by lifetime.
        server_tool_use: Server tool request counts, e.g. ``web_search_requests``.
        service_tier: The tier that served the request.
        inference_geo: Where inference ran.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: CacheCreation | None = None
    server_tool_use: dict[str, int] | None = None
    service_tier: str | None = None
    inference_geo: str | None = None


class MessagesResponse(_Full, kw_only=True):
    """A message: the non-streamed response, and ``message_start``'s ``message``.

    Attributes:
        id: Message id.
        type: ``message``.
        role: ``assistant``.
        model: The model.
        content: The blocks, in order.
        stop_reason: ``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``,
            ``pause_turn``, ``refusal``, ... (None at ``message_start``).
        stop_sequence: The stop sequence that matched.
        usage: Token usage.
        container: Code execution container, as sent.
    """

    id: str = ""
    type: str = "message"
    role: str = "assistant"
    model: str = ""
    content: list[ContentBlock] = []
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    container: dict[str, Any] | None = None


class ErrorDetail(_Full, kw_only=True):
    """The ``error`` object of an error body or stream event.

    Attributes:
        type: e.g. ``invalid_request_error``, ``overloaded_error``.
        message: What went wrong.
    """

    type: str = ""
    message: str = ""


class ErrorResponse(_Full, kw_only=True):
    """An error body ``{"type": "error", "error": {...}, "request_id": ...}``.

    Attributes:
        error: The error.
        type: ``error``.
        request_id: The request id, for support.
    """

    error: ErrorDetail
    type: str = "error"
    request_id: str | None = None


# ---------------------------------------------------------------- stream deltas and events


class TextDelta(_Tagged, tag="text_delta", kw_only=True):
    """More text for a text block.

    Attributes:
        text: The fragment.
    """

    text: str


class InputJsonDelta(_Tagged, tag="input_json_delta", kw_only=True):
    """A fragment of a tool_use block's input JSON.

    Attributes:
        partial_json: The fragment (may be ``""``).
    """

    partial_json: str


class ThinkingDelta(_Tagged, tag="thinking_delta", kw_only=True):
    """More thinking text.

    Attributes:
        thinking: The fragment.
    """

    thinking: str


class SignatureDelta(_Tagged, tag="signature_delta", kw_only=True):
    """The thinking block's signature.

    Attributes:
        signature: The signature.
    """

    signature: str


class CitationsDelta(_Tagged, tag="citations_delta", kw_only=True):
    """A citation for the current text block.

    Attributes:
        citation: The citation, as sent.
    """

    citation: dict[str, Any]


class UnknownDelta(_Tagged, tag="unknown", kw_only=True):
    """A delta whose ``type`` this module does not know, kept whole.

    Attributes:
        delta_type: The delta's ``type``.
        raw: The delta's JSON object as decoded.
    """

    delta_type: str
    raw: dict[str, Any]


Delta: TypeAlias = (
    TextDelta | InputJsonDelta | ThinkingDelta | SignatureDelta | CitationsDelta | UnknownDelta
)


class MessageDelta(_Full, kw_only=True):
    """``message_delta.delta``.

    Attributes:
        stop_reason: Why generation stopped.
        stop_sequence: The stop sequence that matched.
        container: Code execution container, as sent.
    """

    stop_reason: str | None = None
    stop_sequence: str | None = None
    container: dict[str, Any] | None = None


class MessageStartEvent(_FullTagged, tag="message_start", kw_only=True):
    """The stream's first event.

    Attributes:
        message: The message so far (empty content, input usage).
    """

    message: MessagesResponse


class ContentBlockStartEvent(_FullTagged, tag="content_block_start", kw_only=True):
    """A block begins.

    Attributes:
        index: The block's position in the message.
        content_block: The block's start (text ``""``, tool_use input ``{}``, ...).
    """

    index: int
    content_block: ContentBlock


class ContentBlockDeltaEvent(_FullTagged, tag="content_block_delta", kw_only=True):
    """A block grows.

    Attributes:
        index: The block's position.
        delta: What was added.
    """

    index: int
    delta: Delta


class ContentBlockStopEvent(_FullTagged, tag="content_block_stop", kw_only=True):
    """A block is complete.

    Attributes:
        index: The block's position.
    """

    index: int


class MessageDeltaEvent(_FullTagged, tag="message_delta", kw_only=True):
    """Top-level changes near the end: stop reason and cumulative usage.

    Attributes:
        delta: Stop reason and sequence.
        usage: Cumulative usage (``output_tokens``; ``input_tokens`` when server tools ran).
    """

    delta: MessageDelta = msgspec.field(default_factory=MessageDelta)
    usage: Usage = msgspec.field(default_factory=Usage)


class MessageStopEvent(_FullTagged, tag="message_stop", kw_only=True):
    """The stream's last event."""


class PingEvent(_FullTagged, tag="ping", kw_only=True):
    """A keep-alive."""


class ErrorEvent(_FullTagged, tag="error", kw_only=True):
    """An error inside the stream (e.g. ``overloaded_error``).

    Attributes:
        error: The error.
    """

    error: ErrorDetail


class UnknownEvent(_FullTagged, tag="unknown", kw_only=True):
    """An event whose ``type`` this module does not know, kept whole.

    Attributes:
        event_type: The event's ``type``.
        raw: The event's JSON as decoded.
    """

    event_type: str
    raw: Any


StreamEvent: TypeAlias = (
    MessageStartEvent
    | ContentBlockStartEvent
    | ContentBlockDeltaEvent
    | ContentBlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | ErrorEvent
    | UnknownEvent
)

# ---------------------------------------------------------------- codecs, built once

_event_decoder = msgspec.json.Decoder(StreamEvent)
_response_decoder = msgspec.json.Decoder(MessagesResponse)
_request_decoder = msgspec.json.Decoder(MessagesRequest)
_error_decoder = msgspec.json.Decoder(ErrorResponse)
_json_decoder = msgspec.json.Decoder()

_DELTA_TYPES = frozenset(
    {"text_delta", "input_json_delta", "thinking_delta", "signature_delta", "citations_delta"}
)
_EVENT_TYPES = frozenset(
    {
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
    }
)


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise msgspec.ValidationError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value  # pyright: ignore[reportUnknownVariableType]


def _block(value: object) -> ContentBlock:
    raw = _object(value, "content block")
    kind = raw.get("type")
    if kind not in _BLOCK_TYPES:
        return UnknownBlock(block_type=str(kind), raw=raw)
    return msgspec.convert(raw, ContentBlock)  # type: ignore[arg-type]


def _delta(value: object) -> Delta:
    raw = _object(value, "delta")
    kind = raw.get("type")
    if kind not in _DELTA_TYPES:
        return UnknownDelta(delta_type=str(kind), raw=raw)
    return msgspec.convert(raw, Delta)  # type: ignore[arg-type]


def _message(value: object) -> MessagesResponse:
    raw = _object(value, "message")
    content: list[Any] = raw.get("content") or []
    blocks = [_block(b) for b in content]
    message = msgspec.convert({**raw, "content": []}, MessagesResponse)
    message.content = blocks
    return message


def _lenient_event(raw: Any) -> StreamEvent:
    obj = _object(raw, "stream event")
    kind = obj.get("type")
    if kind not in _EVENT_TYPES:
        return UnknownEvent(event_type=str(kind), raw=obj)
    if kind == "message_start":
        return MessageStartEvent(message=_message(obj.get("message")))
    if kind == "content_block_start":
        index = msgspec.convert(obj.get("index"), int)
        return ContentBlockStartEvent(index=index, content_block=_block(obj.get("content_block")))
    if kind == "content_block_delta":
        index = msgspec.convert(obj.get("index"), int)
        return ContentBlockDeltaEvent(index=index, delta=_delta(obj.get("delta")))
    # A known event with no nested union failed for a real reason: report it.
    return msgspec.convert(obj, StreamEvent)  # type: ignore[arg-type]


def decode_event(data: bytes | str) -> StreamEvent:
    """Decode one stream event from an SSE event's ``data``.

    Unknown event, block and delta types give ``UnknownEvent``/``UnknownBlock``/
    ``UnknownDelta`` rather than an error.

    Args:
        data: The JSON text.

    Raises:
        msgspec.DecodeError: Not JSON, or a known event with a malformed field.
    """
    try:
        return _event_decoder.decode(data)
    except msgspec.ValidationError:
        return _lenient_event(_json_decoder.decode(data))


def decode_response(data: bytes | str) -> MessagesResponse:
    """Decode a non-streamed response body; unknown blocks become ``UnknownBlock``.

    Args:
        data: The JSON body.

    Raises:
        msgspec.DecodeError: Not JSON, or a malformed message.
    """
    try:
        return _response_decoder.decode(data)
    except msgspec.ValidationError:
        return _message(_json_decoder.decode(data))


def decode_request(data: bytes | str) -> MessagesRequest:
    """Decode a request body (what a test server receives).

    Args:
        data: The JSON body.

    Raises:
        msgspec.DecodeError: Not JSON, or not a request.
    """
    return _request_decoder.decode(data)


def decode_error(data: bytes | str) -> ErrorResponse:
    """Decode an error body.

    Args:
        data: The JSON body.

    Raises:
        msgspec.DecodeError: Not JSON, or no ``error`` object.
    """
    return _error_decoder.decode(data)


def encode(body: msgspec.Struct, extra: dict[str, Any] | None = None) -> bytes:
    """Encode any struct of this module as JSON, merging top-level ``extra`` fields.

    Args:
        body: A request (or any wire struct).
        extra: Provider-specific fields to add or override (``ChatRequest.extra``).
    """
    return encode_body(body, extra)
