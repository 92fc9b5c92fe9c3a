"""The event decoder and the frame codec: property tests and the documented wire names."""

from __future__ import annotations

import base64
import json
from typing import Any

import msgspec
import pytest
from atoll_realtime import (
    AudioDelta,
    AudioFormatError,
    PcmAudio,
    RawEvent,
    RealtimeError,
    RealtimeEvent,
    RealtimeProtocolError,
    ResponseDone,
    SpeechStarted,
    TextDelta,
    ToolCall,
    Transcript,
    chunk_pcm16,
    pcm16_duration_ms,
    read_wav,
    write_wav,
)
from atoll_realtime._frames import FrameParser, encode_frame, parse_close
from atoll_realtime._openai import OpenAIRealtimeAdapter
from hypothesis import given
from hypothesis import strategies as st

adapter = OpenAIRealtimeAdapter()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
types = st.sampled_from(
    [
        "response.output_text.delta",
        "response.text.delta",
        "response.output_audio.delta",
        "response.output_audio_transcript.delta",
        "response.done",
        "error",
        "input_audio_buffer.speech_started",
        "response.function_call_arguments.done",
        "something.new",
    ]
) | st.text(max_size=20)


@given(kind=types, fields=st.dictionaries(st.text(max_size=12), json_values, max_size=5))
def test_decoder_never_raises_and_loses_nothing(kind: str, fields: dict[str, Any]) -> None:
    payload = json.dumps({**fields, "type": kind}).encode()
    event = adapter.decode(payload)
    if isinstance(event, RawEvent):
        assert event.type == kind and event.data == {**fields, "type": kind}
    # every event survives its own encoding (the union is tagged on "kind")
    decoded = msgspec.json.decode(msgspec.json.encode(event), type=RealtimeEvent)
    assert decoded == event


@given(st.binary(max_size=200))
def test_garbage_is_an_error_event_not_an_exception(data: bytes) -> None:
    event = adapter.decode(data)
    assert isinstance(event, RealtimeError | RawEvent | TextDelta) or event is not None


@given(text=st.text(), audio=st.binary(max_size=300))
def test_ga_and_beta_names_decode_to_the_same_events(text: str, audio: bytes) -> None:
    b64 = base64.b64encode(audio).decode()
    for name in ("response.output_text.delta", "response.text.delta"):
        assert adapter.decode(json.dumps({"type": name, "delta": text}).encode()) == TextDelta(
            text=text
        )
    for name in ("response.output_audio.delta", "response.audio.delta"):
        got = adapter.decode(json.dumps({"type": name, "delta": b64}).encode())
        assert got == AudioDelta(audio=audio)
    for name in ("response.output_audio_transcript.done", "response.audio_transcript.done"):
        got = adapter.decode(json.dumps({"type": name, "transcript": text}).encode())
        assert got == Transcript(text=text, role="assistant", final=True)


def test_documented_events_map_to_neutral_ones() -> None:
    done = adapter.decode(
        json.dumps(
            {
                "type": "response.done",
                "event_id": "e",
                "response": {
                    "id": "resp_1",
                    "status": "incomplete",
                    "status_details": {"type": "incomplete", "reason": "max_output_tokens"},
                    "output": [
                        {
                            "type": "function_call",
                            "id": "i",
                            "call_id": "c",
                            "name": "f",
                            "arguments": "{}",
                        }
                    ],
                    "usage": {
                        "total_tokens": 30,
                        "input_tokens": 20,
                        "output_tokens": 10,
                        "input_token_details": {
                            "text_tokens": 5,
                            "audio_tokens": 15,
                            "image_tokens": 0,
                            "cached_tokens": 8,
                            "cached_tokens_details": {"text_tokens": 2, "audio_tokens": 6},
                        },
                        "output_token_details": {"text_tokens": 3, "audio_tokens": 7},
                    },
                },
            }
        ).encode()
    )
    assert isinstance(done, ResponseDone)
    assert (done.status, done.reason) == ("incomplete", "max_output_tokens")
    assert done.tool_calls == (
        ToolCall(call_id="c", name="f", arguments="{}", item_id="i", response_id="resp_1"),
    )
    usage = done.usage
    assert usage is not None
    assert (usage.input_tokens, usage.cache_read_tokens, usage.input_audio_tokens) == (20, 8, 15)
    assert (usage.cache_read_audio_tokens, usage.output_audio_tokens, usage.total_tokens) == (
        6,
        7,
        30,
    )
    started = adapter.decode(
        b'{"type":"input_audio_buffer.speech_started","audio_start_ms":120,"item_id":"it","event_id":"e"}'
    )
    assert started == SpeechStarted(audio_start_ms=120, item_id="it")
    error = adapter.decode(
        b'{"type":"error","event_id":"e","error":{"type":"invalid_request_error","code":"x","message":"m","param":"p","event_id":"c1"}}'
    )
    assert error == RealtimeError(
        type="invalid_request_error", message="m", code="x", param="p", event_id="c1"
    )
    user = adapter.decode(
        b'{"type":"conversation.item.input_audio_transcription.completed","item_id":"u","content_index":0,"transcript":"hi","usage":{"type":"duration","seconds":1}}'
    )
    assert user == Transcript(text="hi", role="user", final=True, item_id="u")


def _server_frames(messages: list[bytes], split: int) -> tuple[bytes, list[bytes]]:
    wire = b"".join(encode_frame(1, m, mask=False) for m in messages)
    return wire, [wire[i : i + split] for i in range(0, len(wire), split)]


@given(st.lists(st.binary(max_size=70_000), max_size=5), st.integers(1, 5000))
def test_frame_parser_reassembles_any_split(messages: list[bytes], split: int) -> None:
    _, chunks = _server_frames(messages, split)
    parser = FrameParser()
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(payload for _, payload in parser.feed(chunk))
    assert out == messages


@given(st.binary(min_size=2, max_size=3000), st.integers(1, 400))
def test_fragmented_message_with_a_ping_between(payload: bytes, size: int) -> None:
    size = min(size, len(payload) - 1)  # at least two fragments, the ping between them
    pieces = [payload[i : i + size] for i in range(0, len(payload), size)]
    wire = b""
    for n, piece in enumerate(pieces):
        fin = 0x80 if n == len(pieces) - 1 else 0
        opcode = 1 if n == 0 else 0
        wire += (
            bytes([fin | opcode, len(piece)])
            if len(piece) < 126
            else bytes([fin | opcode, 126]) + len(piece).to_bytes(2, "big")
        )
        wire += piece
        if n == 0:
            wire += encode_frame(0x9, b"hb", mask=False)
    frames = FrameParser().feed(wire)
    assert frames[0] == (0x9, b"hb") and frames[-1] == (1, payload)


def test_client_frames_are_masked_and_round_trip() -> None:
    frame = encode_frame(1, b"hello" * 100)
    assert frame[1] & 0x80  # mask bit
    key = frame[4:8]
    body = frame[8:]
    assert bytes(b ^ key[i % 4] for i, b in enumerate(body)) == b"hello" * 100


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (b"\x81\x82abcdxx", 1002),  # masked server frame
        (b"\xc1\x00", 1002),  # RSV1
        (b"\x89\x7e\x00\x80" + b"x" * 128, 1002),  # control frame over 125 bytes
        (b"\x00\x01x", 1002),  # continuation of nothing
        (b"\x83\x00", 1002),  # reserved opcode
    ],
)
def test_protocol_violations(wire: bytes, code: int) -> None:
    with pytest.raises(RealtimeProtocolError) as info:
        FrameParser().feed(wire)
    assert info.value.close_code == code


def test_message_size_limit_and_close_payloads() -> None:
    with pytest.raises(RealtimeProtocolError) as info:
        FrameParser(max_message_size=10).feed(encode_frame(1, b"x" * 11, mask=False))
    assert info.value.close_code == 1009
    assert parse_close(b"") == (1005, "")
    assert parse_close(b"\x03\xf3bye") == (1011, "bye")
    with pytest.raises(RealtimeProtocolError):
        parse_close(b"\x03\xee")  # 1006 may never be sent


def test_audio_helpers(tmp_path: Any) -> None:
    pcm = b"".join(i.to_bytes(2, "little", signed=True) for i in range(-1200, 1200))
    assert pcm16_duration_ms(pcm) == 100
    assert [len(c) for c in chunk_pcm16(pcm + pcm[:480], chunk_ms=40)] == [1920, 1920, 1440]
    path = tmp_path / "a.wav"
    data = write_wav(path, pcm)
    audio = read_wav(path)
    assert audio == PcmAudio(pcm) == read_wav(data)
    assert audio.base64() == base64.b64encode(pcm).decode()
    with pytest.raises(AudioFormatError):
        PcmAudio(b"\x00")
    with pytest.raises(AudioFormatError):
        read_wav(b"RIFF nonsense")
    with pytest.raises(AudioFormatError):
        list(chunk_pcm16(b"\x00\x00\x00"))
