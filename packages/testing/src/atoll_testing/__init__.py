"""A real local LLM-compatible HTTP server with scripted models, fault injection and record/replay.

``FakeLLMServer`` speaks OpenAI chat completions (plus embeddings and models), the OpenAI
Responses API and Anthropic Messages on 127.0.0.1, from its own thread, so tests on asyncio,
trio or sync code can use it::

    async with FakeLLMServer(models={"agent": Script(["hello"])}) as srv:
        ...  # point any client at srv.base_url

Each API family is a :class:`ServerDialect` (its routes, auth header, parsing, rendering and
error shapes); add one with ``FakeLLMServer(dialects=[...])`` or
:func:`register_server_dialect`. See docs/testing.md for scripts, faults (``x-atoll-fault``),
record/replay and writing a dialect. ``FakeRealtimeServer`` does the same for OpenAI's Realtime
API over WebSocket (docs/realtime.md).
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._anthropic import AnthropicMessagesServer
from ._cases import Case, CaseResponse, Replay
from ._dialect import ServerDialect
from ._exceptions import (
    AtollTestingError,
    CaseFormatError,
    DialectError,
    FaultSyntaxError,
    RequestError,
    ScriptError,
    ServerStartError,
)
from ._exchange import Exchange
from ._faults import Fault
from ._inputs import ChatInput, ToolResult
from ._log import RecordedRequest
from ._openai import OpenAIChatServer
from ._realtime_script import RealtimeScript, RealtimeToolCall, RealtimeTurn, tone_pcm16
from ._realtime_server import FakeRealtimeServer
from ._recorder import Recorder
from ._registry import (
    register_server_dialect,
    registered_server_dialects,
    unregister_server_dialect,
)
from ._reply import Reply
from ._responses import OpenAIResponsesServer
from ._routes import Route
from ._script import Rule, Script, ToolCall, Turn
from ._server import FakeLLMServer

__version__ = "0.1.0"

# Exceptions report the module users import them from (and pickle by it).
for _error in (
    AtollTestingError,
    CaseFormatError,
    DialectError,
    FaultSyntaxError,
    RequestError,
    ScriptError,
    ServerStartError,
):
    _error.__module__ = __name__

__all__: tuple[str, ...] = (
    "AnthropicMessagesServer",
    "AtollError",
    "AtollTestingError",
    "Case",
    "CaseFormatError",
    "CaseResponse",
    "ChatInput",
    "DialectError",
    "Exchange",
    "FakeLLMServer",
    "FakeRealtimeServer",
    "Fault",
    "FaultSyntaxError",
    "OpenAIChatServer",
    "OpenAIResponsesServer",
    "RealtimeScript",
    "RealtimeToolCall",
    "RealtimeTurn",
    "RecordedRequest",
    "Recorder",
    "Replay",
    "Reply",
    "RequestError",
    "Route",
    "Rule",
    "Script",
    "ScriptError",
    "ServerDialect",
    "ServerStartError",
    "ToolCall",
    "ToolResult",
    "Turn",
    "register_server_dialect",
    "registered_server_dialects",
    "tone_pcm16",
    "unregister_server_dialect",
)
