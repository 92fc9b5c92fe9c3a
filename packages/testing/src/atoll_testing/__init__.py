"""A real local LLM-compatible HTTP server with scripted models, fault injection and record/replay.

``FakeLLMServer`` speaks OpenAI chat completions (plus embeddings and models) and Anthropic
Messages on 127.0.0.1, from its own thread, so tests on asyncio, trio or sync code can use it::

    async with FakeLLMServer(models={"agent": Script(["hello"])}) as srv:
        ...  # point any client at srv.base_url

See docs/testing.md for scripts, faults (``x-atoll-fault``) and record/replay.
``FakeRealtimeServer`` does the same for OpenAI's Realtime API over WebSocket (docs/realtime.md).
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._cases import Case, CaseResponse, Replay
from ._exceptions import (
    AtollTestingError,
    CaseFormatError,
    FaultSyntaxError,
    ScriptError,
    ServerStartError,
)
from ._faults import Fault
from ._inputs import ChatInput, ToolResult
from ._log import RecordedRequest
from ._realtime_script import RealtimeScript, RealtimeToolCall, RealtimeTurn, tone_pcm16
from ._realtime_server import FakeRealtimeServer
from ._recorder import Recorder
from ._script import Rule, Script, ToolCall, Turn
from ._server import FakeLLMServer

__version__ = "0.1.0"

# Exceptions report the module users import them from (and pickle by it).
for _error in (
    AtollTestingError,
    CaseFormatError,
    FaultSyntaxError,
    ScriptError,
    ServerStartError,
):
    _error.__module__ = __name__

__all__: tuple[str, ...] = (
    "AtollError",
    "AtollTestingError",
    "Case",
    "CaseFormatError",
    "CaseResponse",
    "ChatInput",
    "FakeLLMServer",
    "FakeRealtimeServer",
    "Fault",
    "FaultSyntaxError",
    "RealtimeScript",
    "RealtimeToolCall",
    "RealtimeTurn",
    "RecordedRequest",
    "Recorder",
    "Replay",
    "Rule",
    "Script",
    "ScriptError",
    "ServerStartError",
    "ToolCall",
    "ToolResult",
    "Turn",
    "tone_pcm16",
)
