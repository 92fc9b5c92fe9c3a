"""OpenAI Realtime server events that have a neutral form, as lenient msgspec structs.

Names and fields follow the GA interface (openai-python ``types/realtime``): text arrives as
``response.output_text.delta``, audio as ``response.output_audio.delta``, the spoken text as
``response.output_audio_transcript.*``. The beta interface's names (``response.text.delta``,
``response.audio.delta``, ``response.audio_transcript.*``) decode too, as subclasses with the
old tag, so a beta-speaking deployment still yields neutral events. Unknown fields are ignored;
an event whose fields do not fit is passed through raw by the adapter, never an error.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["SERVER_EVENT", "WireResponse", "WireUsage"]


class _Wire(msgspec.Struct, tag_field="type", kw_only=True):
    """Base of the server events decoded here."""


class TextDelta(_Wire, tag="response.output_text.delta"):
    delta: str
    response_id: str = ""
    item_id: str = ""


class TextDeltaBeta(TextDelta, tag="response.text.delta"):
    pass


class AudioDelta(_Wire, tag="response.output_audio.delta"):
    delta: bytes  # base64 on the wire; msgspec decodes it
    response_id: str = ""
    item_id: str = ""


class AudioDeltaBeta(AudioDelta, tag="response.audio.delta"):
    pass


class OutputTranscriptDelta(_Wire, tag="response.output_audio_transcript.delta"):
    delta: str
    response_id: str = ""
    item_id: str = ""


class OutputTranscriptDeltaBeta(OutputTranscriptDelta, tag="response.audio_transcript.delta"):
    pass


class OutputTranscriptDone(_Wire, tag="response.output_audio_transcript.done"):
    transcript: str
    response_id: str = ""
    item_id: str = ""


class OutputTranscriptDoneBeta(OutputTranscriptDone, tag="response.audio_transcript.done"):
    pass


class InputTranscriptDelta(_Wire, tag="conversation.item.input_audio_transcription.delta"):
    delta: str | None = None
    item_id: str = ""


class InputTranscriptDone(_Wire, tag="conversation.item.input_audio_transcription.completed"):
    transcript: str
    item_id: str = ""


class WireError(msgspec.Struct, kw_only=True):
    type: str = "error"
    message: str = ""
    code: str | None = None
    param: str | None = None
    event_id: str | None = None


class InputTranscriptFailed(_Wire, tag="conversation.item.input_audio_transcription.failed"):
    error: WireError
    item_id: str = ""


class ArgumentsDone(_Wire, tag="response.function_call_arguments.done"):
    call_id: str
    name: str
    arguments: str = ""
    response_id: str = ""
    item_id: str = ""


class ArgumentsDelta(_Wire, tag="response.function_call_arguments.delta"):
    """Decoded only to skip it cheaply: the complete arguments come with ``done``."""


class SpeechStarted(_Wire, tag="input_audio_buffer.speech_started"):
    audio_start_ms: int = 0
    item_id: str = ""


class SpeechStopped(_Wire, tag="input_audio_buffer.speech_stopped"):
    audio_end_ms: int = 0
    item_id: str = ""


class CachedDetails(msgspec.Struct, kw_only=True):
    text_tokens: int | None = None
    audio_tokens: int | None = None
    image_tokens: int | None = None


class InputDetails(msgspec.Struct, kw_only=True):
    text_tokens: int | None = None
    audio_tokens: int | None = None
    image_tokens: int | None = None
    cached_tokens: int | None = None
    cached_tokens_details: CachedDetails | None = None


class OutputDetails(msgspec.Struct, kw_only=True):
    text_tokens: int | None = None
    audio_tokens: int | None = None


class WireUsage(msgspec.Struct, kw_only=True):
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    input_token_details: InputDetails | None = None
    output_token_details: OutputDetails | None = None


class StatusDetails(msgspec.Struct, kw_only=True):
    type: str | None = None
    reason: str | None = None
    error: dict[str, Any] | None = None


class WireItem(msgspec.Struct, kw_only=True):
    type: str = ""
    id: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None


class WireResponse(msgspec.Struct, kw_only=True):
    id: str | None = None
    status: str | None = None
    status_details: StatusDetails | None = None
    usage: WireUsage | None = None
    output: list[WireItem] = []


class ResponseDone(_Wire, tag="response.done"):
    response: WireResponse


class ResponseCreated(_Wire, tag="response.created"):
    response: WireResponse


class Error(_Wire, tag="error"):
    error: WireError


SERVER_EVENT = (
    TextDelta
    | TextDeltaBeta
    | AudioDelta
    | AudioDeltaBeta
    | OutputTranscriptDelta
    | OutputTranscriptDeltaBeta
    | OutputTranscriptDone
    | OutputTranscriptDoneBeta
    | InputTranscriptDelta
    | InputTranscriptDone
    | InputTranscriptFailed
    | ArgumentsDone
    | ArgumentsDelta
    | SpeechStarted
    | SpeechStopped
    | ResponseDone
    | ResponseCreated
    | Error
)
