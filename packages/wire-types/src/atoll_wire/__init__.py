"""atoll_wire: the data plane of Atoll.

Neutral chat types (``Message`` and its parts, ``ChatRequest``, ``ChatResponse``, ``Usage``),
neutral stream events and the ``StreamAccumulator`` that folds them into a response, a
WHATWG-exact incremental ``SSEDecoder``, and the ``AsyncTransport``/``SyncTransport`` interface
with its error tree. The per-dialect wire structs live in ``atoll_wire.openai`` and
``atoll_wire.anthropic``. Depends on msgspec only.

Example:
    >>> from atoll_wire import ChatRequest, Message
    >>> req = ChatRequest(model="gpt-4o-mini", messages=[Message.user("Hi")])
    >>> req.messages[0].text
    'Hi'
"""

from __future__ import annotations

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
from ._redact import redact_headers, redact_url
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

__all__ = (
    "AsyncTransport",
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
    "parse_tool_arguments",
    "redact_headers",
    "redact_url",
)
