"""OpenAI-chat and Anthropic Messages dialects and the Client.

A dialect turns a neutral ``ChatRequest`` into one API family's HTTP request and that API's
responses and streams back into neutral types, losslessly; provider differences come from the
registry's data. The typed errors carry status, provider, model, request id, ``retry_after`` and
a redacted body excerpt; an error raised mid-stream carries what arrived as ``exc.partial``.

Example:
    >>> from atoll_dialects import Dialect, RateLimitError
    >>> issubclass(RateLimitError, Exception)
    True
"""

from __future__ import annotations

import typing

from ._anthropic import AnthropicMessagesDialect
from ._client import Client
from ._dialect import Dialect, Embeddings, StreamDecoder
from ._exceptions import (
    APIError,
    AtollError,
    AuthenticationError,
    BadRequestError,
    CapabilityError,
    ConflictError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamInterrupted,
    TimeoutError,  # the issue names it so; it subclasses builtins.TimeoutError
    UnsupportedRequestError,
)
from ._openai_chat import OpenAIChatDialect
from ._ratelimit import RateLimits
from ._result import Attempt, ClientResponse
from ._retry import RetryDecision, RetryPolicy
from ._stream import ChatStream
from ._sync_client import SyncChatStream, SyncClient
from ._target import Target

if typing.TYPE_CHECKING:
    from ._call_event import CallEvent

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # CallEvent pulls in atoll_generic and pydantic (about 250 ms); most callers never run
    # calls on the Executor, so it loads on first use and `import atoll_dialects` stays light.
    if name == "CallEvent":
        from ._call_event import CallEvent

        globals()["CallEvent"] = CallEvent
        return CallEvent
    raise AttributeError(f"module 'atoll_dialects' has no attribute {name!r}")


__all__ = (
    "APIError",
    "AnthropicMessagesDialect",
    "AtollError",
    "Attempt",
    "AuthenticationError",
    "BadRequestError",
    "CallEvent",
    "CapabilityError",
    "ChatStream",
    "Client",
    "ClientResponse",
    "ConflictError",
    "Dialect",
    "Embeddings",
    "InvalidResponseError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OpenAIChatDialect",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimits",
    "RetryDecision",
    "RetryPolicy",
    "ServerError",
    "StreamDecoder",
    "StreamInterrupted",
    "SyncChatStream",
    "SyncClient",
    "Target",
    "TimeoutError",
    "UnsupportedRequestError",
)
