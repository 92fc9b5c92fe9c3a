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

import importlib
import typing

from atoll_wire import AtollError

from ._anthropic import AnthropicMessagesDialect
from ._anthropic_quirks import AnthropicQuirks
from ._auth import Auth, HeaderKeyAuth, NoAuth, Token, TokenAuth
from ._client import Client, OutputMode
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
    StructuredOutputError,
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
    from ._completions import CompletionOptions, CompletionRequest
    from ._model_list import ListedModel, ModelInfo, ModelPage
    from ._output import OutputLike
    from ._output_stream import OutputStream, SyncOutputStream
    from ._parsed import ParsedResponse
    from ._token_count import TokenCount, Tokenizer

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
    StructuredOutputError,
    TimeoutError,
    UnknownDialectError,
    UnsupportedRequestError,
):
    _error.__module__ = __name__


# Loaded on first use, so `import atoll_dialects` stays light: CallEvent pulls in atoll_generic
# and pydantic (about 250 ms), and most callers never run calls on the Executor; the types of
# output=, completions, model lists and token counts load with the calls that use them.
_LAZY = {
    "CallEvent": "._call_event",
    "CompletionOptions": "._completions",
    "CompletionRequest": "._completions",
    "ListedModel": "._model_list",
    "ModelInfo": "._model_list",
    "ModelPage": "._model_list",
    "OutputLike": "._output",
    "OutputStream": "._output_stream",
    "ParsedResponse": "._parsed",
    "SyncOutputStream": "._output_stream",
    "TokenCount": "._token_count",
    "Tokenizer": "._token_count",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'atoll_dialects' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


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
    "CompletionOptions",
    "CompletionRequest",
    "ConflictError",
    "Dialect",
    "DialectQuirks",
    "Embeddings",
    "ErrorFields",
    "HeaderKeyAuth",
    "InvalidOptionError",
    "InvalidResponseError",
    "ListedModel",
    "MissingAPIKeyError",
    "ModelFacts",
    "ModelInfo",
    "ModelPage",
    "NoAuth",
    "NotFoundError",
    "OpenAIChatDialect",
    "OpenAIChatQuirks",
    "OpenAIResponsesDialect",
    "OpenAIResponsesQuirks",
    "OutputLike",
    "OutputMode",
    "OutputStream",
    "OverloadedError",
    "ParsedResponse",
    "PermissionDeniedError",
    "RateLimitError",
    "RateLimits",
    "RetryDecision",
    "RetryPolicy",
    "ServerError",
    "StreamDecoder",
    "StreamInterrupted",
    "StructuredOutputError",
    "SyncChatStream",
    "SyncClient",
    "SyncOutputStream",
    "Target",
    "TimeoutError",
    "Token",
    "TokenAuth",
    "TokenCount",
    "Tokenizer",
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
