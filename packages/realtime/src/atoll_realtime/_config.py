"""What a session asks for, provider-neutral, and where each provider's realtime endpoint is.

``SessionConfig`` is kept by the session and sent again on every (re)connect. Endpoints are
data: adding a provider whose realtime API resembles one we speak is a new entry here plus, if
its events differ, one adapter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import msgspec
from atoll_wire import ToolSpec

__all__ = ["ENDPOINTS", "AudioFormat", "Modality", "RealtimeEndpoint", "SessionConfig"]

Modality = Literal["text", "audio"]
"""What the model answers with."""

AudioFormat = Literal["pcm16", "g711_ulaw", "g711_alaw"]
"""Audio encodings: 16-bit PCM at 24 kHz mono, or 8 kHz G.711 mu-law / A-law."""


class SessionConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A session's configuration, sent as the provider's session update on each connect.

    Attributes:
        model: The model name to send (the registry's request name).
        instructions: System instructions, if any.
        modalities: What the model answers with.
        voice: The output voice, if set.
        audio_format: Input and output audio encoding.
        turn_detection: ``None`` (manual commits) or the provider's turn detection object.
        transcription_model: Transcribe input audio with this model, if set.
        tools: Tool specs the model may call.
        extensions: Provider fields merged into the session object as given.
    """

    model: str
    instructions: str | None = None
    modalities: tuple[Modality, ...] = ("text",)
    voice: str | None = None
    audio_format: AudioFormat = "pcm16"
    turn_detection: dict[str, Any] | None = None
    transcription_model: str | None = None
    tools: tuple[ToolSpec, ...] = ()
    extensions: dict[str, Any] = {}


class RealtimeEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """Where and how a provider serves realtime sessions over WebSocket.

    Attributes:
        provider: The registry provider name.
        adapter: The adapter that speaks its events (``openai``).
        path: Appended to the provider's base URL (``/realtime``).
        model_param: The query parameter naming the model.
        headers: Fixed headers for the handshake (a beta header, for instance).
        subprotocols: WebSocket subprotocols to offer, if the provider uses them.
        preferred_chunk_ms: Audio per ``send_audio`` event (the provider's advice, or ours).
    """

    provider: str
    adapter: str
    path: str = "/realtime"
    model_param: str = "model"
    headers: Mapping[str, str] = {}
    subprotocols: tuple[str, ...] = ()
    preferred_chunk_ms: int = 100


# OpenAI's GA Realtime interface takes no beta header (the beta needed "OpenAI-Beta:
# realtime=v1"); browsers, which cannot set headers, use subprotocols instead, we do not need to.
ENDPOINTS: dict[str, RealtimeEndpoint] = {
    "openai": RealtimeEndpoint(provider="openai", adapter="openai"),
}
"""The realtime endpoint of each provider that has one, by registry provider name."""
