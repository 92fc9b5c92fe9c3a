"""OpenAI-chat, OpenAI Responses, Anthropic Messages and Gemini dialects, the Client, batch jobs.

A dialect turns a neutral ``ChatRequest`` into one API family's HTTP request and that API's
responses and streams back into neutral types, losslessly; provider differences come from the
registry's data. Dialects and auth schemes register themselves by id (``register_dialect``,
``register_auth``), so a new API family is a few new modules and a registry entry. The typed
errors carry status, provider, model, request id, ``retry_after`` and a redacted body excerpt;
an error raised mid-stream carries what arrived as ``exc.partial``. Every error is an
``AtollError``. Calls emit typed events (``RequestStarted`` ... ``RequestFinished``) to
callbacks, record the GenAI metrics when an OpenTelemetry SDK is configured, and show nothing a
``Redactor`` masks.
``AtollError``. ``BatchClient`` sends jobs through the providers' batch APIs (OpenAI Batch,
Anthropic Message Batches) at the batch price, resumable from a record on disk (``BatchJob``).

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
    BatchCancelledError,
    BatchError,
    BatchExpiredError,
    BatchFailedError,
    BatchItemError,
    BatchNotEndedError,
    BatchOutcomeError,
    BatchRecordError,
    BatchRequestError,
    CapabilityError,
    ClientError,
    ConflictError,
    ContentFilterError,
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
from ._gemini_quirks import GeminiQuirks
from ._openai_chat import OpenAIChatDialect
from ._openai_quirks import OpenAIChatQuirks
from ._options import ChatOptions
from ._quirks import DialectQuirks, ModelFacts
from ._ratelimit import RateLimits
from ._redactor import Redactor, Rule
from ._responses_quirks import OpenAIResponsesQuirks
from ._result import Attempt, ClientResponse
from ._retry import RetryDecision, RetryPolicy
from ._stream import ChatStream
from ._sync_client import SyncClient
from ._sync_stream import SyncChatStream
from ._target import Target, resolve_target

if typing.TYPE_CHECKING:
    from ._azure_auth import AzureEntraAuth
    from ._batch_client import BatchClient
    from ._batch_job import BatchJob
    from ._batch_results import BatchResults
    from ._batch_types import (
        BatchCounts,
        BatchPart,
        BatchProgress,
        BatchResponse,
        BatchState,
        BatchStatus,
    )
    from ._call_event import CallEvent
    from ._callbacks import Callback, Callbacks
    from ._completions import CompletionOptions, CompletionRequest
    from ._events import (
        AnyEvent,
        FallbackUsed,
        FirstToken,
        MessageAdded,
        RequestFailed,
        RequestFinished,
        RequestStarted,
        RetryScheduled,
        TelemetryEvent,
        ToolCalled,
        ToolFinished,
        decode_event,
    )
    from ._gemini import GeminiDialect
    from ._google_auth import GoogleAuth
    from ._model_list import ListedModel, ModelInfo, ModelPage
    from ._output import OutputLike
    from ._output_stream import OutputStream, SyncOutputStream
    from ._parsed import ParsedResponse
    from ._responses import OpenAIResponsesDialect
    from ._sink import JsonlSink
    from ._token_count import TokenCount, Tokenizer

__version__ = "0.1.0"

# Exceptions report the module users import them from (and pickle by it).
for _error in (
    APIError,
    AuthError,
    AuthenticationError,
    BadRequestError,
    BatchCancelledError,
    BatchError,
    BatchExpiredError,
    BatchFailedError,
    BatchItemError,
    BatchNotEndedError,
    BatchOutcomeError,
    BatchRecordError,
    BatchRequestError,
    CapabilityError,
    ClientError,
    ConflictError,
    ContentFilterError,
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
# and pydantic (about 250 ms); the event types, callbacks and the JSONL sink load when a program
# first asks for them (or a call is first observed), and the types of output=, completions,
# model lists and token counts load with the calls that use them. Batch jobs (with urllib and
# both providers' batch wire), the Gemini and Responses dialects and the Google and Azure auth
# schemes load when a program first names them or a target first uses them (see _dialects.py).
_LAZY = {
    "AzureEntraAuth": "._azure_auth",
    "GeminiDialect": "._gemini",
    "GoogleAuth": "._google_auth",
    "OpenAIResponsesDialect": "._responses",
    "BatchClient": "._batch_client",
    "BatchJob": "._batch_job",
    "BatchResults": "._batch_results",
    **dict.fromkeys(
        ("BatchCounts", "BatchPart", "BatchProgress", "BatchResponse", "BatchState", "BatchStatus"),
        "._batch_types",
    ),
    "CallEvent": "._call_event",
    "Callback": "._callbacks",
    "Callbacks": "._callbacks",
    "CompletionOptions": "._completions",
    "CompletionRequest": "._completions",
    "JsonlSink": "._sink",
    "ListedModel": "._model_list",
    "ModelInfo": "._model_list",
    "ModelPage": "._model_list",
    "OutputLike": "._output",
    "OutputStream": "._output_stream",
    "ParsedResponse": "._parsed",
    "SyncOutputStream": "._output_stream",
    "TokenCount": "._token_count",
    "Tokenizer": "._token_count",
    **dict.fromkeys(
        (
            "AnyEvent",
            "FallbackUsed",
            "FirstToken",
            "MessageAdded",
            "RequestFailed",
            "RequestFinished",
            "RequestStarted",
            "RetryScheduled",
            "TelemetryEvent",
            "ToolCalled",
            "ToolFinished",
            "decode_event",
        ),
        "._events",
    ),
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
    "AnyEvent",
    "AtollError",
    "Attempt",
    "Auth",
    "AuthContext",
    "AuthError",
    "AuthenticationError",
    "AzureEntraAuth",
    "BadRequestError",
    "BatchCancelledError",
    "BatchClient",
    "BatchCounts",
    "BatchError",
    "BatchExpiredError",
    "BatchFailedError",
    "BatchItemError",
    "BatchJob",
    "BatchNotEndedError",
    "BatchOutcomeError",
    "BatchPart",
    "BatchProgress",
    "BatchRecordError",
    "BatchRequestError",
    "BatchResponse",
    "BatchResults",
    "BatchState",
    "BatchStatus",
    "CallEvent",
    "Callback",
    "Callbacks",
    "CapabilityError",
    "ChatOptions",
    "ChatStream",
    "Client",
    "ClientError",
    "ClientResponse",
    "CompletionOptions",
    "CompletionRequest",
    "ConflictError",
    "ContentFilterError",
    "Dialect",
    "DialectQuirks",
    "Embeddings",
    "ErrorFields",
    "FallbackUsed",
    "FirstToken",
    "GeminiDialect",
    "GeminiQuirks",
    "GoogleAuth",
    "HeaderKeyAuth",
    "InvalidOptionError",
    "InvalidResponseError",
    "JsonlSink",
    "ListedModel",
    "MessageAdded",
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
    "Redactor",
    "RequestFailed",
    "RequestFinished",
    "RequestStarted",
    "RetryDecision",
    "RetryPolicy",
    "RetryScheduled",
    "Rule",
    "ServerError",
    "StreamDecoder",
    "StreamInterrupted",
    "StructuredOutputError",
    "SyncChatStream",
    "SyncClient",
    "SyncOutputStream",
    "Target",
    "TelemetryEvent",
    "TimeoutError",
    "Token",
    "TokenAuth",
    "TokenCount",
    "Tokenizer",
    "ToolCalled",
    "ToolFinished",
    "UnknownDialectError",
    "UnsupportedRequestError",
    "decode_event",
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
