"""OpenAI-chat, OpenAI Responses and Anthropic Messages dialects and the Client.

A dialect turns a neutral ``ChatRequest`` into one API family's HTTP request and that API's
responses and streams back into neutral types, losslessly; provider differences come from the
registry's data. Dialects and auth schemes register themselves by id (``register_dialect``,
``register_auth``), so a new API family is a few new modules and a registry entry. The typed
errors carry status, provider, model, request id, ``retry_after`` and a redacted body excerpt;
an error raised mid-stream carries what arrived as ``exc.partial``. Every error is an
``AtollError``.

Example:
    >>> from atoll_dialects import Dialect, RateLimitError
    >>> issubclass(RateLimitError, Exception)
    True
"""

from __future__ import annotations

import typing

from atoll_wire import AtollError

from ._anthropic import AnthropicMessagesDialect
from ._anthropic_quirks import AnthropicQuirks
from ._auth import Auth, HeaderKeyAuth, NoAuth, Token, TokenAuth
from ._client import Client
from ._dialect import Dialect, Embeddings, StreamDecoder
from ._dialects import (
    AuthContext,
    register_auth,
    register_dialect,
    registered_auth_schemes,
    registered_dialects,
    unregister_auth,
    unregister_dialect,
)
from ._error_bodies import ErrorFields, error_for, parse_error_fields
from ._exceptions import (
    APIError,
    AuthenticationError,
    AuthError,
    BadRequestError,
    CapabilityError,
    ClientError,
    ConflictError,
    InvalidOptionError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamInterrupted,
    TimeoutError,  # the issue names it so; it subclasses builtins.TimeoutError
    UnknownDialectError,
    UnsupportedRequestError,
)
from ._openai_chat import OpenAIChatDialect
from ._openai_quirks import OpenAIChatQuirks
from ._options import ChatOptions
from ._quirks import DialectQuirks, ModelFacts
from ._ratelimit import RateLimits
from ._responses import OpenAIResponsesDialect
from ._responses_quirks import OpenAIResponsesQuirks
from ._result import Attempt, ClientResponse
from ._retry import RetryDecision, RetryPolicy
from ._stream import ChatStream
from ._sync_client import SyncClient
from ._sync_stream import SyncChatStream
from ._target import Target, resolve_target

if typing.TYPE_CHECKING:
    from ._call_event import CallEvent

__version__ = "0.1.0"

# Exceptions report the module users import them from (and pickle by it).
for _error in (
    APIError,
    AuthError,
    AuthenticationError,
    BadRequestError,
    CapabilityError,
    ClientError,
    ConflictError,
    InvalidOptionError,
    InvalidResponseError,
    MissingAPIKeyError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamInterrupted,
    TimeoutError,
    UnknownDialectError,
    UnsupportedRequestError,
):
    _error.__module__ = __name__


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
    "AnthropicQuirks",
    "AtollError",
    "Attempt",
    "Auth",
    "AuthContext",
    "AuthError",
    "AuthenticationError",
    "BadRequestError",
    "CallEvent",
    "CapabilityError",
    "ChatOptions",
    "ChatStream",
    "Client",
    "ClientError",
    "ClientResponse",
    "ConflictError",
    "Dialect",
    "DialectQuirks",
    "Embeddings",
    "ErrorFields",
    "HeaderKeyAuth",
    "InvalidOptionError",
    "InvalidResponseError",
    "MissingAPIKeyError",
    "ModelFacts",
    "NoAuth",
    "NotFoundError",
    "OpenAIChatDialect",
    "OpenAIChatQuirks",
    "OpenAIResponsesDialect",
    "OpenAIResponsesQuirks",
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
    "Token",
    "TokenAuth",
    "UnknownDialectError",
    "UnsupportedRequestError",
    "error_for",
    "parse_error_fields",
    "register_auth",
    "register_dialect",
    "registered_auth_schemes",
    "registered_dialects",
    "resolve_target",
    "unregister_auth",
    "unregister_dialect",
)
