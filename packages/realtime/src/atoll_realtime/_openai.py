"""OpenAI Realtime (GA interface) as a ``RealtimeAdapter``: server events in, client events out.

Targets the GA interface of ``wss://api.openai.com/v1/realtime?model=...`` (no ``OpenAI-Beta``
header): the session object carries ``"type": "realtime"``, ``output_modalities`` and nested
``audio.input`` / ``audio.output`` settings. Beta event names are decoded as well (see
``_openai_wire``); the client events sent are GA-shaped.
"""

from __future__ import annotations

import base64
from typing import Any, cast

import msgspec

from . import _openai_wire as wire
from ._adapter import RealtimeAdapter
from ._config import SessionConfig
from ._events import (
    AudioDelta,
    RawEvent,
    RealtimeError,
    RealtimeEvent,
    RealtimeUsage,
    ResponseDone,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    ToolCall,
    Transcript,
)

__all__ = ["KNOWN_TYPES", "OpenAIRealtimeAdapter", "decode_usage"]

# Server events with no neutral form that the GA (and beta) interface documents: skipped by
# ``events()`` unless raw events are asked for. Anything else unmapped is passed through.
KNOWN_TYPES = frozenset(
    {
        "session.created",
        "session.updated",
        "conversation.created",
        "conversation.item.created",
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.retrieved",
        "conversation.item.truncated",
        "conversation.item.deleted",
        "conversation.item.input_audio_transcription.segment",
        "input_audio_buffer.committed",
        "input_audio_buffer.cleared",
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "response.created",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.output_text.done",
        "response.text.done",
        "response.output_audio.done",
        "response.audio.done",
        "response.function_call_arguments.delta",
        "rate_limits.updated",
    }
)

_FORMATS: dict[str, dict[str, Any]] = {
    "pcm16": {"type": "audio/pcm", "rate": 24000},
    "g711_ulaw": {"type": "audio/pcmu"},
    "g711_alaw": {"type": "audio/pcma"},
}

_decode_event = msgspec.json.Decoder(wire.SERVER_EVENT).decode
_decode_any = msgspec.json.Decoder().decode
_encode = msgspec.json.Encoder().encode


def decode_usage(usage: wire.WireUsage | None) -> RealtimeUsage | None:
    """The neutral usage of a ``response.done`` (text, audio and image counts apart)."""
    if usage is None:
        return None
    details = usage.input_token_details or wire.InputDetails()
    cached = details.cached_tokens_details or wire.CachedDetails()
    out = usage.output_token_details or wire.OutputDetails()
    return RealtimeUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        cache_read_tokens=details.cached_tokens,
        input_text_tokens=details.text_tokens,
        input_audio_tokens=details.audio_tokens,
        input_image_tokens=details.image_tokens,
        cache_read_text_tokens=cached.text_tokens,
        cache_read_audio_tokens=cached.audio_tokens,
        cache_read_image_tokens=cached.image_tokens,
        output_text_tokens=out.text_tokens,
        output_audio_tokens=out.audio_tokens,
    )


def _response_done(event: wire.ResponseDone) -> ResponseDone:
    response = event.response
    details = response.status_details
    calls = tuple(
        ToolCall(
            call_id=item.call_id or "",
            name=item.name or "",
            arguments=item.arguments or "",
            item_id=item.id or "",
            response_id=response.id or "",
        )
        for item in response.output
        if item.type == "function_call"
    )
    return ResponseDone(
        response_id=response.id or "",
        status=response.status or "completed",
        reason=details.reason if details is not None else None,
        usage=decode_usage(response.usage),
        tool_calls=calls,
        error=details.error if details is not None else None,
    )


def _raw(payload: bytes) -> RealtimeEvent:
    try:
        data = _decode_any(payload)
    except msgspec.DecodeError as exc:
        return RealtimeError(
            type="invalid_event", message=f"the server sent a message that is not JSON: {exc}"
        )
    if not isinstance(data, dict):
        return RealtimeError(
            type="invalid_event", message="the server sent JSON that is not an event object"
        )
    event = cast(dict[str, Any], data)
    kind = event.get("type")
    return RawEvent(type=kind if isinstance(kind, str) else "", data=event)


def _convert(event: Any) -> RealtimeEvent:
    cls = cast(type[Any], type(event))
    if cls is wire.TextDelta or cls is wire.TextDeltaBeta:
        return TextDelta(text=event.delta, response_id=event.response_id, item_id=event.item_id)
    if cls is wire.AudioDelta or cls is wire.AudioDeltaBeta:
        return AudioDelta(audio=event.delta, response_id=event.response_id, item_id=event.item_id)
    if cls is wire.OutputTranscriptDelta or cls is wire.OutputTranscriptDeltaBeta:
        return Transcript(
            text=event.delta,
            role="assistant",
            item_id=event.item_id,
            response_id=event.response_id,
        )
    if cls is wire.OutputTranscriptDone or cls is wire.OutputTranscriptDoneBeta:
        return Transcript(
            text=event.transcript,
            role="assistant",
            final=True,
            item_id=event.item_id,
            response_id=event.response_id,
        )
    if cls is wire.InputTranscriptDelta:
        return Transcript(text=event.delta or "", role="user", item_id=event.item_id)
    if cls is wire.InputTranscriptDone:
        return Transcript(text=event.transcript, role="user", final=True, item_id=event.item_id)
    if cls is wire.ArgumentsDone:
        return ToolCall(
            call_id=event.call_id,
            name=event.name,
            arguments=event.arguments,
            item_id=event.item_id,
            response_id=event.response_id,
        )
    if cls is wire.SpeechStarted:
        return SpeechStarted(audio_start_ms=event.audio_start_ms, item_id=event.item_id)
    if cls is wire.SpeechStopped:
        return SpeechStopped(audio_end_ms=event.audio_end_ms, item_id=event.item_id)
    if cls is wire.ResponseDone:
        return _response_done(event)
    if cls is wire.Error or cls is wire.InputTranscriptFailed:
        error: wire.WireError = event.error
        return RealtimeError(
            type=error.type,
            message=error.message,
            code=error.code,
            param=error.param,
            event_id=error.event_id,
        )
    return _SKIP  # ArgumentsDelta, ResponseCreated: re-decoded raw when asked for


_SKIP = RawEvent(type="", data={})


class OpenAIRealtimeAdapter(RealtimeAdapter):
    """OpenAI's Realtime API, GA interface (beta server event names decoded too)."""

    name = "openai"
    known_types = KNOWN_TYPES

    def decode(self, payload: bytes) -> RealtimeEvent:
        """One server message as a neutral event; never raises."""
        try:
            event = _convert(_decode_event(payload))
        except (msgspec.ValidationError, msgspec.DecodeError):
            return _raw(payload)
        return _raw(payload) if event is _SKIP else event

    def session_update(self, config: SessionConfig) -> bytes:
        """``session.update`` with the whole GA session object."""
        audio_format = _FORMATS[config.audio_format]
        audio_input: dict[str, Any] = {
            "format": audio_format,
            "turn_detection": config.turn_detection,
        }
        if config.transcription_model is not None:
            audio_input["transcription"] = {"model": config.transcription_model}
        audio_output: dict[str, Any] = {"format": audio_format}
        if config.voice is not None:
            audio_output["voice"] = config.voice
        session: dict[str, Any] = {
            "type": "realtime",
            "model": config.model,
            # GA answers with audio (plus its transcript) or text, never both at once.
            "output_modalities": ["audio"] if "audio" in config.modalities else ["text"],
            "audio": {"input": audio_input, "output": audio_output},
        }
        if config.instructions is not None:
            session["instructions"] = config.instructions
        if config.tools:
            session["tools"] = [
                {
                    "type": "function",
                    "name": spec.name,
                    "description": spec.description or "",
                    "parameters": spec.parameters,
                }
                for spec in config.tools
            ]
            session["tool_choice"] = "auto"
        session.update(config.extensions)
        return _encode({"type": "session.update", "session": session})

    def user_text(self, text: str) -> bytes:
        """``conversation.item.create`` with a user ``input_text`` message."""
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }
        return _encode({"type": "conversation.item.create", "item": item})

    def audio_append(self, chunk: bytes) -> bytes:
        """``input_audio_buffer.append`` (built by hand: it is the hot path of sending audio)."""
        return b'{"type":"input_audio_buffer.append","audio":"' + base64.b64encode(chunk) + b'"}'

    def audio_commit(self) -> bytes:
        """``input_audio_buffer.commit``."""
        return b'{"type":"input_audio_buffer.commit"}'

    def audio_clear(self) -> bytes:
        """``input_audio_buffer.clear``."""
        return b'{"type":"input_audio_buffer.clear"}'

    def response_create(self, overrides: dict[str, Any]) -> bytes:
        """``response.create``, with per-response overrides when given."""
        event: dict[str, Any] = {"type": "response.create"}
        if overrides:
            event["response"] = overrides
        return _encode(event)

    def response_cancel(self, response_id: str | None) -> bytes:
        """``response.cancel`` (of ``response_id``, else of the default conversation's)."""
        event: dict[str, Any] = {"type": "response.cancel"}
        if response_id:
            event["response_id"] = response_id
        return _encode(event)

    def truncate(self, item_id: str, audio_end_ms: int) -> bytes:
        """``conversation.item.truncate`` of the item's first content part."""
        return _encode(
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            }
        )

    def tool_output(self, call_id: str, output: str) -> bytes:
        """``conversation.item.create`` with a ``function_call_output`` item."""
        item = {"type": "function_call_output", "call_id": call_id, "output": output}
        return _encode({"type": "conversation.item.create", "item": item})

    def is_session_created(self, event: RealtimeEvent) -> bool:
        """``session.created``."""
        return isinstance(event, RawEvent) and event.type == "session.created"

    def is_session_ready(self, event: RealtimeEvent) -> bool:
        """``session.updated``."""
        return isinstance(event, RawEvent) and event.type == "session.updated"

    def response_started(self, event: RealtimeEvent) -> str | None:
        """The id of a ``response.created``."""
        if isinstance(event, RawEvent) and event.type == "response.created":
            response = event.data.get("response")
            if isinstance(response, dict):
                rid = cast(dict[str, Any], response).get("id")
                return rid if isinstance(rid, str) else ""
            return ""
        return None


ADAPTERS: dict[str, type[RealtimeAdapter]] = {"openai": OpenAIRealtimeAdapter}
