"""atoll_wire: the data plane of Atoll.

Neutral chat types (``Message`` and its parts, ``ChatRequest``, ``ChatResponse``, ``Usage``),
neutral stream events and the ``StreamAccumulator`` that folds them into a response, a
WHATWG-exact incremental ``SSEDecoder``, and the ``AsyncTransport``/``SyncTransport`` interface
with its error tree. The per-dialect wire structs live in ``atoll_wire.openai`` (chat
completions), ``atoll_wire.responses`` (the OpenAI Responses API) and ``atoll_wire.anthropic``.
Depends on msgspec only.

Example:
    >>> from atoll_wire import ChatRequest, Message
    >>> req = ChatRequest(model="gpt-4o-mini", messages=[Message.user("Hi")])
    >>> req.messages[0].text
    'Hi'
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from ._accumulator import StreamAccumulator, parse_tool_arguments
    from ._events import (
        MessageEnd,
        MessageStart,
        RedactedThinkingDelta,
        StreamError,
        StreamEvent,
        TextDelta,
        ThinkingDelta,
        ToolCallDelta,
        ToolCallEnd,
        ToolCallStart,
        UsageUpdate,
    )
    from ._exceptions import (
        AtollError,
        ConnectError,
        ConnectTimeout,
        PoolTimeout,
        ReadTimeout,
        RemoteProtocolError,
        ResponseConsumed,
        ResponseTooLarge,
        SSEError,
        SSEEventTooLarge,
        SSELineTooLong,
        TransportError,
        TransportTimeout,
        WireError,
        WriteTimeout,
    )
    from ._headers import checked_header_value
    from ._parts import (
        AudioPart,
        DocumentPart,
        ImagePart,
        Message,
        Part,
        RedactedThinkingPart,
        Role,
        TextPart,
        ThinkingPart,
        ToolCallPart,
        ToolResultPart,
    )
    from ._redact import is_secret_header, redact_headers, redact_text, redact_url
    from ._request import ChatRequest, OutputSchema, ToolChoice, ToolSpec
    from ._response import ChatResponse
    from ._sse import ServerSentEvent, SSEDecoder
    from ._transport import (
        AsyncTransport,
        HttpRequest,
        HttpResponse,
        SyncHttpResponse,
        SyncTransport,
        Timeout,
    )
    from ._usage import FinishReason, Usage

__version__ = "0.1.0"

# Names load on first use (PEP 562): the error root is imported by every package, including
# atoll_generic, which must not pay for (or depend on) msgspec just to subclass AtollError.
_LAZY: dict[str, str] = {
    "AsyncTransport": "._transport",
    "AtollError": "._exceptions",
    "AudioPart": "._parts",
    "ChatRequest": "._request",
    "ChatResponse": "._response",
    "ConnectError": "._exceptions",
    "ConnectTimeout": "._exceptions",
    "DocumentPart": "._parts",
    "FinishReason": "._usage",
    "HttpRequest": "._transport",
    "HttpResponse": "._transport",
    "ImagePart": "._parts",
    "Message": "._parts",
    "MessageEnd": "._events",
    "MessageStart": "._events",
    "OutputSchema": "._request",
    "Part": "._parts",
    "PoolTimeout": "._exceptions",
    "ReadTimeout": "._exceptions",
    "RedactedThinkingDelta": "._events",
    "RedactedThinkingPart": "._parts",
    "RemoteProtocolError": "._exceptions",
    "ResponseConsumed": "._exceptions",
    "ResponseTooLarge": "._exceptions",
    "Role": "._parts",
    "SSEDecoder": "._sse",
    "SSEError": "._exceptions",
    "SSEEventTooLarge": "._exceptions",
    "SSELineTooLong": "._exceptions",
    "ServerSentEvent": "._sse",
    "StreamAccumulator": "._accumulator",
    "StreamError": "._events",
    "StreamEvent": "._events",
    "SyncHttpResponse": "._transport",
    "SyncTransport": "._transport",
    "TextDelta": "._events",
    "TextPart": "._parts",
    "ThinkingDelta": "._events",
    "ThinkingPart": "._parts",
    "Timeout": "._transport",
    "ToolCallDelta": "._events",
    "ToolCallEnd": "._events",
    "ToolCallPart": "._parts",
    "ToolCallStart": "._events",
    "ToolChoice": "._request",
    "ToolResultPart": "._parts",
    "ToolSpec": "._request",
    "TransportError": "._exceptions",
    "TransportTimeout": "._exceptions",
    "Usage": "._usage",
    "UsageUpdate": "._events",
    "WireError": "._exceptions",
    "WriteTimeout": "._exceptions",
    "checked_header_value": "._headers",
    "parse_tool_arguments": "._accumulator",
    "is_secret_header": "._redact",
    "redact_headers": "._redact",
    "redact_text": "._redact",
    "redact_url": "._redact",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'atoll_wire' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = (
    "AsyncTransport",
    "AtollError",
    "AudioPart",
    "ChatRequest",
    "ChatResponse",
    "ConnectError",
    "ConnectTimeout",
    "DocumentPart",
    "FinishReason",
    "HttpRequest",
    "HttpResponse",
    "ImagePart",
    "Message",
    "MessageEnd",
    "MessageStart",
    "OutputSchema",
    "Part",
    "PoolTimeout",
    "ReadTimeout",
    "RedactedThinkingDelta",
    "RedactedThinkingPart",
    "RemoteProtocolError",
    "ResponseConsumed",
    "ResponseTooLarge",
    "Role",
    "SSEDecoder",
    "SSEError",
    "SSEEventTooLarge",
    "SSELineTooLong",
    "ServerSentEvent",
    "StreamAccumulator",
    "StreamError",
    "StreamEvent",
    "SyncHttpResponse",
    "SyncTransport",
    "TextDelta",
    "TextPart",
    "ThinkingDelta",
    "ThinkingPart",
    "Timeout",
    "ToolCallDelta",
    "ToolCallEnd",
    "ToolCallPart",
    "ToolCallStart",
    "ToolChoice",
    "ToolResultPart",
    "ToolSpec",
    "TransportError",
    "TransportTimeout",
    "Usage",
    "UsageUpdate",
    "WireError",
    "WriteTimeout",
    "checked_header_value",
    "is_secret_header",
    "parse_tool_arguments",
    "redact_headers",
    "redact_text",
    "redact_url",
)
