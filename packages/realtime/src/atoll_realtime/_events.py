"""Neutral realtime session events: a msgspec tagged union, the same for every provider.

An adapter turns each provider event into zero or more of these; what it does not map comes
through as :class:`RawEvent`, so an event type the library does not know is never an error and
never lost. ``kind`` is the tag (``{"kind": "text_delta", ...}`` when encoded).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Literal

import msgspec
from atoll_registry import Cost
from atoll_wire import ToolCallPart

__all__ = [
    "AudioDelta",
    "RawEvent",
    "RealtimeError",
    "RealtimeEvent",
    "RealtimeUsage",
    "Reconnected",
    "ResponseDone",
    "SpeechStarted",
    "SpeechStopped",
    "TextDelta",
    "ToolCall",
    "ToolResult",
    "Transcript",
]


class _Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind", omit_defaults=True):
    """Base of the neutral events (frozen; ``kind`` is the tag)."""


class TextDelta(_Event, frozen=True, tag="text_delta"):
    """A piece of the model's text output.

    Attributes:
        text: The new text.
        response_id: The response it belongs to.
        item_id: The conversation item it belongs to.
    """

    text: str
    response_id: str = ""
    item_id: str = ""


class AudioDelta(_Event, frozen=True, tag="audio_delta"):
    """A piece of the model's audio output, decoded from base64.

    Attributes:
        audio: Raw audio in the session's output format (PCM16 at 24 kHz for ``pcm16``).
        response_id: The response it belongs to.
        item_id: The conversation item it belongs to.
    """

    audio: bytes
    response_id: str = ""
    item_id: str = ""


class Transcript(_Event, frozen=True, tag="transcript"):
    """A transcript of speech: the user's input audio or the model's output audio.

    Output transcripts stream as deltas (``final=False``) and end with the whole text
    (``final=True``); input transcripts may stream too and end with ``final=True``.

    Attributes:
        text: The delta, or the whole transcript when ``final``.
        role: ``user`` for input audio, ``assistant`` for the model's speech.
        final: True for the complete transcript of the item.
        item_id: The conversation item the audio belongs to.
        response_id: The response (output transcripts only).
    """

    text: str
    role: Literal["user", "assistant"]
    final: bool = False
    item_id: str = ""
    response_id: str = ""


class ToolCall(_Event, frozen=True, tag="tool_call"):
    """The model called a tool; ``arguments`` is complete (the provider's ``done`` event).

    Attributes:
        call_id: The id to answer with (``send_tool_result``).
        name: The tool name.
        arguments: The arguments exactly as the model sent them (JSON text).
        item_id: The conversation item of the call.
        response_id: The response that made the call.
    """

    call_id: str
    name: str
    arguments: str = ""
    item_id: str = ""
    response_id: str = ""

    def parsed_arguments(self) -> Any:
        """The arguments decoded from JSON (``{}`` for blank text).

        Raises:
            ValueError: The text is not JSON.
        """
        return json.loads(self.arguments) if self.arguments.strip() else {}

    def to_part(self) -> ToolCallPart:
        """The call as the neutral ``ToolCallPart`` that ``atoll_tools.ToolSet`` executes."""
        return ToolCallPart(id=self.call_id, name=self.name, raw_arguments=self.arguments)


class ToolResult(_Event, frozen=True, tag="tool_result"):
    """A tool's result was sent back to the provider (sessions given a ``ToolSet``).

    Attributes:
        call_id: The call it answers.
        name: The tool name.
        output: The text sent as ``function_call_output``.
        is_error: The call failed (unknown tool, bad arguments, denied, raised, timed out).
    """

    call_id: str
    name: str
    output: str
    is_error: bool = False


class SpeechStarted(_Event, frozen=True, tag="speech_started"):
    """Turn detection heard the user start speaking (interrupt playback here).

    Attributes:
        audio_start_ms: Where speech began, in ms since the input buffer started.
        item_id: The user item that will hold this speech.
    """

    audio_start_ms: int = 0
    item_id: str = ""


class SpeechStopped(_Event, frozen=True, tag="speech_stopped"):
    """Turn detection heard the user stop speaking.

    Attributes:
        audio_end_ms: Where speech ended, in ms since the input buffer started.
        item_id: The user item that holds this speech.
    """

    audio_end_ms: int = 0
    item_id: str = ""


class RealtimeUsage(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Tokens one response used, text and audio apart. ``None`` means not reported.

    It follows atoll_wire's neutral convention (``input_tokens`` holds cached tokens, every
    ``*_audio_tokens`` is a subset of its total) and satisfies atoll_registry's ``TokenUsage``
    with the optional audio counts, so ``Registry.cost`` prices it.

    Attributes:
        input_tokens: All input tokens (text, audio, image; cached included).
        output_tokens: All output tokens (text and audio).
        cache_read_tokens: Input tokens read from the cache (text, audio, image).
        input_text_tokens: Text input tokens, cached included.
        input_audio_tokens: Audio input tokens, cached included.
        input_image_tokens: Image input tokens, cached included.
        cache_read_text_tokens: Cached text input tokens.
        cache_read_audio_tokens: Cached audio input tokens.
        cache_read_image_tokens: Cached image input tokens.
        output_text_tokens: Text output tokens.
        output_audio_tokens: Audio output tokens.
        total_tokens: Input plus output, as the provider reported it.
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    input_text_tokens: int | None = None
    input_audio_tokens: int | None = None
    input_image_tokens: int | None = None
    cache_read_text_tokens: int | None = None
    cache_read_audio_tokens: int | None = None
    cache_read_image_tokens: int | None = None
    output_text_tokens: int | None = None
    output_audio_tokens: int | None = None
    total_tokens: int | None = None

    @property
    def cache_write_tokens(self) -> int | None:
        """Realtime APIs bill no cache writes: always ``None`` (not reported)."""
        return None

    @property
    def reasoning_tokens(self) -> int | None:
        """Not reported apart by realtime APIs: always ``None``."""
        return None


class ResponseDone(_Event, frozen=True, tag="response_done"):
    """A response ended (completed, cancelled, failed or incomplete), with usage and cost.

    Attributes:
        response_id: The response.
        status: ``completed``, ``cancelled``, ``failed``, ``incomplete`` (the provider's value).
        reason: Why it did not complete (``turn_detected``, ``client_cancelled``,
            ``max_output_tokens``, ``content_filter``), if given.
        usage: Token counts, text and audio apart.
        cost: The price of ``usage`` from the registry's audio and text prices, or ``None``.
        cost_note: Why ``cost`` is ``None`` (unknown model, a price or count missing).
        tool_calls: The calls the response made, in output order.
        error: The provider's error details for a failed response.
    """

    response_id: str = ""
    status: str = "completed"
    reason: str | None = None
    usage: RealtimeUsage | None = None
    cost: Cost | None = None
    cost_note: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    error: dict[str, Any] | None = None

    @property
    def total_cost(self) -> Decimal | None:
        """``cost.total`` in USD, or ``None`` when unknown."""
        return self.cost.total if self.cost is not None else None


class RealtimeError(_Event, frozen=True, tag="error"):
    """An error the provider reported as an event; the session usually stays open.

    Attributes:
        type: The provider's error type (``invalid_request_error``, ``server_error``).
        message: What went wrong.
        code: The provider's error code, if any.
        param: The parameter at fault, if any.
        event_id: The client event that caused it, if the provider says.
    """

    type: str
    message: str
    code: str | None = None
    param: str | None = None
    event_id: str | None = None


class RawEvent(_Event, frozen=True, tag="raw"):
    """A provider event with no neutral form, passed through as decoded JSON.

    Attributes:
        type: The provider's event type (``""`` when the event had none).
        data: The whole event as the provider sent it.
    """

    type: str
    data: dict[str, Any]


class Reconnected(_Event, frozen=True, tag="reconnected"):
    """The connection dropped and ``reconnect=True`` opened a new one with the same config.

    The conversation is the provider's: a new connection starts an empty one, and the response
    in progress is gone (its events so far are in ``lost_text`` / ``lost_audio_bytes``).

    Attributes:
        attempt: Which reconnection this is (1 for the first).
        close_code: The code the old connection closed with (1006: dropped).
        reason: The old connection's close reason.
        lost_text: Text of the response that was in progress.
        lost_audio_bytes: How many audio bytes of that response had arrived.
    """

    attempt: int
    close_code: int
    reason: str = ""
    lost_text: str = ""
    lost_audio_bytes: int = 0


RealtimeEvent = (
    TextDelta
    | AudioDelta
    | Transcript
    | ToolCall
    | ToolResult
    | SpeechStarted
    | SpeechStopped
    | ResponseDone
    | RealtimeError
    | RawEvent
    | Reconnected
)
"""Every event ``RealtimeSession.events()`` yields (a msgspec tagged union on ``kind``)."""
