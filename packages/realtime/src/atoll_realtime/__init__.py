"""Realtime sessions (speech in, speech out, tools mid-conversation) over WebSocket.

``RealtimeSession`` speaks OpenAI's Realtime API (GA interface) on asyncio and trio and yields
neutral, provider-independent events::

    async with RealtimeSession("openai/gpt-realtime", modalities=("audio", "text")) as session:
        await session.send_audio(read_wav("question.wav").pcm)
        await session.commit_audio()
        await session.create_response()
        async for event in session.events():
            match event:
                case AudioDelta(audio=chunk): play(chunk)
                case Transcript(text=text, role="assistant", final=True): print(text)
                case ResponseDone(usage=usage, cost=cost): break

See docs/realtime.md for tools, barge-in, reconnects, errors, costs and the WebSocket choice.
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._adapter import RealtimeAdapter
from ._audio import PCM16_RATE, PcmAudio, chunk_pcm16, pcm16_duration_ms, read_wav, write_wav
from ._config import ENDPOINTS, AudioFormat, Modality, RealtimeEndpoint, SessionConfig
from ._events import (
    AudioDelta,
    RawEvent,
    RealtimeError,
    RealtimeEvent,
    RealtimeUsage,
    Reconnected,
    ResponseDone,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    ToolCall,
    ToolResult,
    Transcript,
)
from ._exceptions import (
    RECOVERABLE_CLOSE_CODES,
    AudioFormatError,
    RealtimeAuthError,
    RealtimeClosedError,
    RealtimeConnectError,
    RealtimeConnectionLost,
    RealtimeProtocolError,
    RealtimeSessionError,
)
from ._openai import OpenAIRealtimeAdapter
from ._session import RealtimeSession

__version__ = "0.1.0"

__all__: tuple[str, ...] = (
    "AtollError",
    "AudioDelta",
    "AudioFormat",
    "AudioFormatError",
    "ENDPOINTS",
    "Modality",
    "OpenAIRealtimeAdapter",
    "PCM16_RATE",
    "PcmAudio",
    "RECOVERABLE_CLOSE_CODES",
    "RawEvent",
    "RealtimeAdapter",
    "RealtimeAuthError",
    "RealtimeClosedError",
    "RealtimeConnectError",
    "RealtimeConnectionLost",
    "RealtimeEndpoint",
    "RealtimeError",
    "RealtimeEvent",
    "RealtimeProtocolError",
    "RealtimeSession",
    "RealtimeSessionError",
    "RealtimeUsage",
    "Reconnected",
    "ResponseDone",
    "SessionConfig",
    "SpeechStarted",
    "SpeechStopped",
    "TextDelta",
    "ToolCall",
    "ToolResult",
    "Transcript",
    "chunk_pcm16",
    "pcm16_duration_ms",
    "read_wav",
    "write_wav",
)

for _cls in (
    AudioFormatError,
    RealtimeAuthError,
    RealtimeClosedError,
    RealtimeConnectError,
    RealtimeConnectionLost,
    RealtimeProtocolError,
    RealtimeSessionError,
):
    _cls.__module__ = __name__
