"""OpenAI Responses API wire structs: request, response, items, and every stream event.

``POST /v1/responses`` takes ``input`` items (messages, function calls and their outputs,
reasoning items) and answers with ``output`` items; streams are server-sent events tagged by
``type`` (``response.created``, ``response.output_text.delta``, ... ``response.completed``).
Items, content parts and stream events are tagged unions on ``type``.

Decoding is lenient: unknown fields are ignored, and an item, content part, tool or event whose
``type`` this module does not know (built-in tool calls such as ``web_search_call``, their
progress events, anything added later) decodes to ``UnknownItem``/``UnknownContent``/
``UnknownTool``/``UnknownEvent`` holding the JSON as sent (``raw``) instead of failing. An input
message without ``type`` (the API's "easy" form) is a ``Message``. The fast path is one msgspec
decode; the fallback runs only when something unknown shows up. Encoding omits fields left at
their defaults, except where the API requires a key: function tools are encoded whole, and
``Reasoning.summary`` and ``OutputText.annotations`` are typed ``list | None`` so a request can
send them empty. The ``Unknown*`` structs hold what was received; they do not encode back to it,
so an item or tool of a type this module does not know is sent through ``encode(..., extra=)``.
HTTP error bodies share chat completions' envelope (``decode_error``).

Example:
    >>> ev = decode_event(b'{"type":"response.output_text.delta","item_id":"msg_1",'
    ...                   b'"output_index":0,"content_index":0,"delta":"Hi","sequence_number":4}')
    >>> ev.delta  # doctest: +SKIP
    'Hi'
"""

from __future__ import annotations

from typing import Any

import msgspec

from ._codec import encode_body
from ._responses_body import (
    FunctionTool,
    IncompleteDetails,
    InputTokensDetails,
    OutputTokensDetails,
    ReasoningConfig,
    Response,
    ResponseError,
    ResponsesRequest,
    StreamOptions,
    TextConfig,
    TextFormat,
    Tool,
    ToolChoice,
    UnknownTool,
    Usage,
)
from ._responses_events import (
    EVENT_TYPES,
    ContentPartAddedEvent,
    ContentPartDoneEvent,
    ErrorEvent,
    FunctionCallArgumentsDeltaEvent,
    FunctionCallArgumentsDoneEvent,
    OutputItemAddedEvent,
    OutputItemDoneEvent,
    OutputTextAnnotationAddedEvent,
    OutputTextDeltaEvent,
    OutputTextDoneEvent,
    ReasoningSummaryPartAddedEvent,
    ReasoningSummaryPartDoneEvent,
    ReasoningSummaryTextDeltaEvent,
    ReasoningSummaryTextDoneEvent,
    ReasoningTextDeltaEvent,
    ReasoningTextDoneEvent,
    RefusalDeltaEvent,
    RefusalDoneEvent,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseFailedEvent,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseQueuedEvent,
    StreamEvent,
    UnknownEvent,
)
from ._responses_items import (
    CONTENT_TYPES,
    ITEM_TYPES,
    Content,
    FunctionCall,
    FunctionCallOutput,
    InputFile,
    InputImage,
    InputText,
    Item,
    ItemReference,
    Message,
    OutputContent,
    OutputText,
    Reasoning,
    ReasoningText,
    Refusal,
    StreamedPart,
    SummaryText,
    UnknownContent,
    UnknownItem,
)
from .openai import ErrorBody, ErrorObject

__all__ = (
    "Content",
    "ContentPartAddedEvent",
    "ContentPartDoneEvent",
    "ErrorBody",
    "ErrorEvent",
    "ErrorObject",
    "FunctionCall",
    "FunctionCallArgumentsDeltaEvent",
    "FunctionCallArgumentsDoneEvent",
    "FunctionCallOutput",
    "FunctionTool",
    "IncompleteDetails",
    "InputFile",
    "InputImage",
    "InputText",
    "InputTokensDetails",
    "Item",
    "ItemReference",
    "Message",
    "OutputContent",
    "OutputItemAddedEvent",
    "OutputItemDoneEvent",
    "OutputText",
    "OutputTextAnnotationAddedEvent",
    "OutputTextDeltaEvent",
    "OutputTextDoneEvent",
    "OutputTokensDetails",
    "Reasoning",
    "ReasoningConfig",
    "ReasoningSummaryPartAddedEvent",
    "ReasoningSummaryPartDoneEvent",
    "ReasoningSummaryTextDeltaEvent",
    "ReasoningSummaryTextDoneEvent",
    "ReasoningText",
    "ReasoningTextDeltaEvent",
    "ReasoningTextDoneEvent",
    "Refusal",
    "RefusalDeltaEvent",
    "RefusalDoneEvent",
    "Response",
    "ResponseCompletedEvent",
    "ResponseCreatedEvent",
    "ResponseError",
    "ResponseFailedEvent",
    "ResponseInProgressEvent",
    "ResponseIncompleteEvent",
    "ResponseQueuedEvent",
    "ResponsesRequest",
    "StreamEvent",
    "StreamOptions",
    "StreamedPart",
    "SummaryText",
    "TextConfig",
    "TextFormat",
    "Tool",
    "ToolChoice",
    "UnknownContent",
    "UnknownEvent",
    "UnknownItem",
    "UnknownTool",
    "Usage",
    "decode_error",
    "decode_event",
    "decode_item",
    "decode_request",
    "decode_response",
    "encode",
)

# ---------------------------------------------------------------- codecs, built once

_event_decoder = msgspec.json.Decoder(StreamEvent)
_response_decoder = msgspec.json.Decoder(Response)
_request_decoder = msgspec.json.Decoder(ResponsesRequest)
_error_decoder = msgspec.json.Decoder(ErrorBody)
_json_decoder = msgspec.json.Decoder()

_OUTPUT_CONTENT_TYPES = frozenset({"input_text", "input_image", "input_file"})
_LIFECYCLE = frozenset(
    {
        "response.created",
        "response.queued",
        "response.in_progress",
        "response.completed",
        "response.incomplete",
        "response.failed",
    }
)
# Placeholders that convert cleanly; the lenient path swaps in the real nested value.
_ITEM_SLOT = {"type": "item_reference", "id": ""}
_PART_SLOT = {"type": "refusal", "refusal": ""}


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise msgspec.ValidationError(f"{what} must be a JSON object, got {type(value).__name__}")
    return value  # pyright: ignore[reportUnknownVariableType]


def _content(value: object, known: frozenset[str]) -> Any:
    raw = _object(value, "content part")
    kind = raw.get("type")
    if kind not in known:
        return UnknownContent(content_type=str(kind), raw=raw)
    return msgspec.convert(raw, Content | ReasoningText)  # type: ignore[arg-type]


def decode_item(value: object) -> Item:
    """Build one item from decoded JSON, leniently.

    An object with ``role`` and no ``type`` is a message; an unknown ``type`` gives
    ``UnknownItem``; unknown content parts give ``UnknownContent``.

    Args:
        value: The item's JSON object (``dict``).

    Raises:
        msgspec.ValidationError: A known item type with a malformed field.
    """
    raw = _object(value, "item")
    kind = raw.get("type")
    if kind is None and "role" in raw:
        kind = "message"
        raw = {**raw, "type": kind}
    if kind not in ITEM_TYPES:
        return UnknownItem(item_type=str(kind), raw=raw)
    if kind == "message" and isinstance(raw.get("content"), list):
        parts = [_content(p, CONTENT_TYPES) for p in raw["content"]]
        message = msgspec.convert({**raw, "content": []}, Message)
        message.content = parts
        return message
    if kind == "function_call_output" and isinstance(raw.get("output"), list):
        parts = [_content(p, _OUTPUT_CONTENT_TYPES) for p in raw["output"]]
        output = msgspec.convert({**raw, "output": []}, FunctionCallOutput)
        output.output = parts
        return output
    return msgspec.convert(raw, Item)  # type: ignore[arg-type]


def _tool(value: object) -> Tool:
    raw = _object(value, "tool")
    if raw.get("type") != "function":
        return UnknownTool(tool_type=str(raw.get("type")), raw=raw)
    return msgspec.convert(raw, FunctionTool)


def _response(value: object) -> Response:
    raw = _object(value, "response")
    output: object = raw.get("output") or []
    if not isinstance(output, list):
        raise msgspec.ValidationError("`output` must be an array")
    listed: list[object] = output  # pyright: ignore[reportUnknownVariableType]
    items = [decode_item(i) for i in listed]
    response = msgspec.convert({**raw, "output": []}, Response)
    response.output = items
    return response


def _lenient_event(raw: Any) -> StreamEvent:
    obj = _object(raw, "stream event")
    kind = obj.get("type")
    if kind not in EVENT_TYPES:
        number = obj.get("sequence_number")
        return UnknownEvent(
            event_type=str(kind),
            raw=obj,
            sequence_number=number if isinstance(number, int) else None,
        )
    if kind in _LIFECYCLE:
        event: Any = msgspec.convert({**obj, "response": {}}, StreamEvent)  # type: ignore[arg-type]
        event.response = _response(obj.get("response"))
        return event
    if kind in ("response.output_item.added", "response.output_item.done"):
        event = msgspec.convert({**obj, "item": _ITEM_SLOT}, StreamEvent)  # type: ignore[arg-type]
        event.item = decode_item(obj.get("item"))
        return event
    if kind in ("response.content_part.added", "response.content_part.done"):
        event = msgspec.convert({**obj, "part": _PART_SLOT}, StreamEvent)  # type: ignore[arg-type]
        event.part = _content(obj.get("part"), CONTENT_TYPES)
        return event
    # A known event with no nested union failed for a real reason: report it.
    return msgspec.convert(obj, StreamEvent)  # type: ignore[arg-type]


def decode_event(data: bytes | str) -> StreamEvent:
    """Decode one stream event from an SSE event's ``data``.

    Unknown event, item and content types give ``UnknownEvent``/``UnknownItem``/
    ``UnknownContent`` rather than an error.

    Args:
        data: The JSON text.

    Raises:
        msgspec.DecodeError: Not JSON, or a known event with a malformed field.
    """
    try:
        return _event_decoder.decode(data)
    except msgspec.ValidationError:
        return _lenient_event(_json_decoder.decode(data))


def decode_response(data: bytes | str) -> Response:
    """Decode a response body; unknown items become ``UnknownItem``.

    Args:
        data: The JSON body.

    Raises:
        msgspec.DecodeError: Not JSON, or a malformed response.
    """
    try:
        return _response_decoder.decode(data)
    except msgspec.ValidationError:
        return _response(_json_decoder.decode(data))


def decode_request(data: bytes | str) -> ResponsesRequest:
    """Decode a request body (what a test server receives), leniently.

    Messages without ``type`` are messages; unknown items and tools are kept whole.

    Args:
        data: The JSON body.

    Raises:
        msgspec.DecodeError: Not JSON, or not a request.
    """
    try:
        return _request_decoder.decode(data)
    except msgspec.ValidationError:
        raw = _object(_json_decoder.decode(data), "request")
    given: object = raw.get("input")
    tools: object = raw.get("tools")
    request = msgspec.convert(
        {**raw, "input": given if isinstance(given, str) else None, "tools": None},
        ResponsesRequest,
    )
    if isinstance(given, list):
        items: list[object] = given  # pyright: ignore[reportUnknownVariableType]
        request.input = [decode_item(i) for i in items]
    if isinstance(tools, list):
        specs: list[object] = tools  # pyright: ignore[reportUnknownVariableType]
        request.tools = [_tool(t) for t in specs]
    return request


def decode_error(data: bytes | str) -> ErrorBody:
    """Decode an error body ``{"error": {message, type, param, code}}``.

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
