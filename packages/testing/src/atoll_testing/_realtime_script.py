"""Scripted turns for ``FakeRealtimeServer``: what each ``response.create`` streams back.

A turn is data: text to stream as deltas, audio (a generated tone) with its transcript, tool
calls, an error, raw extra events, and faults (drop the connection or close it with a code
after so many deltas). Turns are consumed in order across every connection of the server, so
a test can script "the first response drops, the one after the reconnect completes".
"""

from __future__ import annotations

import math
import struct
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RealtimeScript", "RealtimeToolCall", "RealtimeTurn", "tone_pcm16"]


def tone_pcm16(
    ms: int, *, frequency: float = 440.0, rate: int = 24_000, volume: float = 0.3
) -> bytes:
    """A sine tone as 16-bit little-endian mono PCM (the realtime ``audio/pcm`` format).

    Args:
        ms: Length in milliseconds.
        frequency: Pitch in Hz.
        rate: Sample rate.
        volume: Peak amplitude as a fraction of full scale.
    """
    count = rate * ms // 1000
    peak = int(32767 * volume)
    step = 2 * math.pi * frequency / rate
    return struct.pack(f"<{count}h", *(int(peak * math.sin(step * i)) for i in range(count)))


@dataclass(frozen=True)
class RealtimeToolCall:
    """A function call the scripted model makes.

    Attributes:
        name: The tool name.
        arguments: The arguments as a mapping (sent as JSON) or raw JSON text.
        call_id: The call id; generated when empty.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict[str, Any])
    call_id: str = ""


@dataclass(frozen=True)
class RealtimeTurn:
    """What one response streams.

    Attributes:
        text: The answer's text: streamed as text deltas (text sessions) or as the audio
            transcript (audio sessions). ``None`` echoes the last user text (or describes the
            last committed audio).
        deltas: Split ``text`` into exactly this many deltas (cycling its words); default one
            delta per word.
        audio_ms: Milliseconds of tone audio for audio sessions (default: 40 ms per word).
        audio_chunk_ms: Audio per ``response.output_audio.delta``.
        tool_calls: Function calls to make (the response then has no text or audio).
        error: ``(type, code, message)`` of an error event sent instead of a response.
        input_transcript: The transcript of the user's committed audio.
        extra_events: Raw events sent right after ``response.created`` (unknown types too).
        delay: Seconds between deltas (lets a test cancel mid-response).
        drop_after: Drop the TCP connection, without a close frame, after this many deltas.
        close_after: Send a close frame with ``close_code`` after this many deltas.
        close_code: The close code for ``close_after``.
        usage: Override fields of the reported usage (``{"input_tokens": 7}``).
    """

    text: str | None = None
    deltas: int | None = None
    audio_ms: int | None = None
    audio_chunk_ms: int = 50
    tool_calls: tuple[RealtimeToolCall, ...] = ()
    error: tuple[str, str, str] | None = None
    input_transcript: str | None = None
    extra_events: tuple[Mapping[str, Any], ...] = ()
    delay: float = 0.0
    drop_after: int | None = None
    close_after: int | None = None
    close_code: int = 1011
    usage: Mapping[str, Any] = field(default_factory=dict[str, Any])


class RealtimeScript:
    """Turns consumed one per response, in order, shared by every connection of a server.

    When the turns run out, responses echo (``RealtimeTurn()``).

    Args:
        turns: The turns, or plain strings (a text turn each).
    """

    def __init__(self, turns: Iterable[RealtimeTurn | str] = ()) -> None:
        self._turns: deque[RealtimeTurn] = deque(
            RealtimeTurn(text=t) if isinstance(t, str) else t for t in turns
        )
        self._lock = threading.Lock()

    def add(self, *turns: RealtimeTurn | str) -> None:
        """Append turns (also while the server runs)."""
        with self._lock:
            self._turns.extend(RealtimeTurn(text=t) if isinstance(t, str) else t for t in turns)

    def next_turn(self) -> RealtimeTurn:
        """The next scripted turn, or an echo turn when none is left."""
        with self._lock:
            return self._turns.popleft() if self._turns else RealtimeTurn()

    def peek(self) -> RealtimeTurn:
        """The turn the next response will follow, without consuming it."""
        with self._lock:
            return self._turns[0] if self._turns else RealtimeTurn()

    def __len__(self) -> int:
        return len(self._turns)
