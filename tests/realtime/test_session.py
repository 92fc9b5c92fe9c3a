"""Sessions against the local realtime server: text, audio, tools, barge-in, errors."""

from __future__ import annotations

import pickle
from decimal import Decimal

import anyio
import pytest
from atoll_realtime import (
    AudioDelta,
    RawEvent,
    RealtimeAuthError,
    RealtimeClosedError,
    RealtimeConnectError,
    RealtimeError,
    RealtimeEvent,
    RealtimeSession,
    ResponseDone,
    SpeechStarted,
    SpeechStopped,
    TextDelta,
    ToolCall,
    ToolResult,
    Transcript,
)
from atoll_testing import FakeRealtimeServer, RealtimeToolCall, RealtimeTurn
from atoll_tools import ApprovalDecision, ApprovalRequest, ToolSet, tool
from atoll_wire import ToolSpec

from .conftest import KEY, session, tone

pytestmark = pytest.mark.anyio


async def until_done(s: RealtimeSession, *, raw: bool = False) -> list[RealtimeEvent]:
    events: list[RealtimeEvent] = []
    with anyio.fail_after(10):
        async for event in s.events(raw=raw):
            events.append(event)
            if isinstance(event, ResponseDone):
                return events
    raise AssertionError(f"the session ended before a response was done: {events}")


async def test_text_session_streams_deltas_usage_and_cost() -> None:
    async with FakeRealtimeServer(["Three atolls: Bikini, Tarawa, Aldabra."], api_key=KEY) as srv:
        async with session(srv, instructions="Be brief.") as s:
            assert s.session["instructions"] == "Be brief."
            assert s.session["output_modalities"] == ["text"]
            await s.send_text("Name three atolls.")
            await s.create_response()
            events = await until_done(s)
        sent = srv.received[0]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert "".join(d.text for d in deltas) == "Three atolls: Bikini, Tarawa, Aldabra."
    assert len(deltas) == 5 and len({d.response_id for d in deltas}) == 1
    done = events[-1]
    assert isinstance(done, ResponseDone) and done.status == "completed"
    assert done.usage is not None
    # instructions (2 words) + the question (3 words) in, 5 words out
    assert (done.usage.input_text_tokens, done.usage.output_text_tokens) == (5, 5)
    assert done.cost is not None and done.cost.total == Decimal("0.00010")  # 5 x $4 + 5 x $16 / 1M
    assert done.total_cost == done.cost.total
    assert [e["type"] for e in sent] == [
        "session.update",
        "conversation.item.create",
        "response.create",
    ]
    update = sent[0]["session"]
    assert update["type"] == "realtime" and update["model"] == "gpt-realtime"
    assert update["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    item = sent[1]["item"]
    assert item == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "Name three atolls."}],
    }


async def test_audio_session_tone_in_audio_and_transcripts_out() -> None:
    turn = RealtimeTurn(text="A low hum.", audio_ms=300, input_transcript="hmmmm")
    async with FakeRealtimeServer([turn], api_key=KEY) as srv:
        async with session(
            srv,
            modalities=("audio", "text"),
            voice="marin",
            turn_detection=None,
            transcription_model="gpt-4o-mini-transcribe",
        ) as s:
            await s.send_audio(tone(500))
            await s.commit_audio()
            await s.create_response()
            events = await until_done(s)
        sent = srv.received[0]
    appends = [e for e in sent if e["type"] == "input_audio_buffer.append"]
    assert [e["audio"] for e in appends] == [4800] * 5  # 100 ms chunks of 24 kHz PCM16
    audio = b"".join(e.audio for e in events if isinstance(e, AudioDelta))
    assert len(audio) == 300 * 48  # 300 ms of 24 kHz 16-bit mono
    assert (
        max(abs(int.from_bytes(audio[i : i + 2], "little", signed=True)) for i in range(0, 2000, 2))
        > 5000
    )
    user = [e for e in events if isinstance(e, Transcript) and e.role == "user"]
    assert [(t.text, t.final) for t in user] == [("hmmmm", True)]
    spoken = [e for e in events if isinstance(e, Transcript) and e.role == "assistant"]
    assert "".join(t.text for t in spoken if not t.final) == "A low hum."
    assert spoken[-1].final and spoken[-1].text == "A low hum."
    done = events[-1]
    assert isinstance(done, ResponseDone) and done.usage is not None and done.cost is not None
    assert done.usage.output_audio_tokens == 6 and done.usage.input_audio_tokens == 5
    # 5 audio tokens in at $32, 3 text + 6 audio out at $16 / $64 per million
    assert done.cost.input_audio == Decimal("0.00016")
    assert done.cost.output_audio == Decimal("0.000384")
    assert done.cost.output == Decimal("0.000048")
    update = sent[0]["session"]
    assert update["output_modalities"] == ["audio"]
    assert update["audio"]["output"]["voice"] == "marin"
    assert update["audio"]["input"]["turn_detection"] is None
    assert update["audio"]["input"]["transcription"] == {"model": "gpt-4o-mini-transcribe"}


async def test_server_vad_detects_speech_and_answers_by_itself() -> None:
    async with FakeRealtimeServer(["Yes?"], api_key=KEY) as srv:
        async with session(srv) as s:
            await s.send_audio(b"\x00\x00" * 2400 + tone(300) + b"\x00\x00" * 4800)
            events = await until_done(s)
    started = next(e for e in events if isinstance(e, SpeechStarted))
    stopped = next(e for e in events if isinstance(e, SpeechStopped))
    assert started.audio_start_ms == 100 and stopped.audio_end_ms > started.audio_start_ms
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Yes?"


@tool
def weather(city: str) -> dict[str, object]:
    """The weather in a city.

    Args:
        city: The city.
    """
    return {"city": city, "sky": "clear"}


async def test_tool_round_trip_with_a_toolset() -> None:
    call = RealtimeToolCall("weather", {"city": "Majuro"}, call_id="call_1")
    script = [RealtimeTurn(tool_calls=(call,)), "Clear skies over Majuro."]
    async with FakeRealtimeServer(script, api_key=KEY) as srv:
        async with session(srv, tools=ToolSet([weather])) as s:
            await s.send_text("Weather in Majuro?")
            await s.create_response()
            first = await until_done(s)
            second = await until_done(s)
        sent = srv.received[0]
    calls = [e for e in first if isinstance(e, ToolCall)]
    assert [(c.call_id, c.name, c.parsed_arguments()) for c in calls] == [
        ("call_1", "weather", {"city": "Majuro"})
    ]
    done = first[-1]
    assert isinstance(done, ResponseDone) and done.tool_calls[0].call_id == "call_1"
    result = next(e for e in second if isinstance(e, ToolResult))
    assert result.output == '{"city":"Majuro","sky":"clear"}' and not result.is_error
    assert "".join(e.text for e in second if isinstance(e, TextDelta)) == "Clear skies over Majuro."
    tools = sent[0]["session"]["tools"]
    assert tools[0]["name"] == "weather" and tools[0]["type"] == "function"
    assert tools[0]["parameters"]["required"] == ["city"]
    output = next(
        e
        for e in sent
        if e["type"] == "conversation.item.create" and e["item"]["type"] != "message"
    )
    assert output["item"] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"city":"Majuro","sky":"clear"}',
    }
    types = [e["type"] for e in sent]
    assert types[-2:] == ["conversation.item.create", "response.create"]


async def test_tool_approval_denied_goes_back_as_an_error_result() -> None:
    @tool(requires_approval=True)
    def wire_money(amount: int) -> str:
        """Send money.

        Args:
            amount: How much.
        """
        raise AssertionError("never called when denied")

    asked: list[str] = []

    def deny(request: ApprovalRequest) -> ApprovalDecision:
        asked.append(request.tool.name)
        return ApprovalDecision(approved=False, reason="not today")

    call = RealtimeToolCall("wire_money", {"amount": 5})
    async with FakeRealtimeServer([RealtimeTurn(tool_calls=(call,)), "OK."], api_key=KEY) as srv:
        async with session(srv, tools=ToolSet([wire_money]), approval=deny) as s:
            await s.create_response()
            await until_done(s)
            second = await until_done(s)
    result = next(e for e in second if isinstance(e, ToolResult))
    assert result.is_error and "not today" in result.output
    assert asked == ["wire_money"]


async def test_declared_tool_specs_are_answered_by_the_caller() -> None:
    spec = ToolSpec(name="lookup", description="Look up.", parameters={"type": "object"})
    call = RealtimeToolCall("lookup", '{"q": "atoll"}', call_id="c9")
    async with FakeRealtimeServer([RealtimeTurn(tool_calls=(call,)), "Found."], api_key=KEY) as srv:
        async with session(srv, tools=[spec]) as s:
            await s.create_response()
            first = await until_done(s)
            called = next(e for e in first if isinstance(e, ToolCall))
            await s.send_tool_result(called.call_id, '{"hits": 1}')
            second = await until_done(s)
    assert called.to_part().raw_arguments == '{"q": "atoll"}'
    assert not any(isinstance(e, ToolResult) for e in second)
    assert "".join(e.text for e in second if isinstance(e, TextDelta)) == "Found."


async def test_barge_in_cancels_mid_audio_and_truncates_what_was_heard() -> None:
    turn = RealtimeTurn(text="a " * 200, audio_ms=4000, delay=0.002)
    async with FakeRealtimeServer([turn], api_key=KEY) as srv:
        async with session(srv, modalities=("audio", "text"), turn_detection=None) as s:
            await s.create_response()
            events: list[RealtimeEvent] = []
            with anyio.fail_after(10):
                async for event in s.events():
                    events.append(event)
                    audio = [e for e in events if isinstance(e, AudioDelta)]
                    if len(audio) == 3 and not any(isinstance(e, ResponseDone) for e in events):
                        await s.cancel_response(played_ms=120)
                    if isinstance(event, ResponseDone):
                        break
        sent = srv.received[0]
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert (done.status, done.reason) == ("cancelled", "client_cancelled")
    heard = sum(len(e.audio) for e in events if isinstance(e, AudioDelta))
    assert 3 * 2400 <= heard < 4000 * 48  # stopped well before the 4 s answer ended
    cancel = next(e for e in sent if e["type"] == "response.cancel")
    assert cancel["response_id"] == done.response_id
    truncate = next(e for e in sent if e["type"] == "conversation.item.truncate")
    assert truncate["audio_end_ms"] == 120 and truncate["item_id"]


async def test_server_error_events_arrive_as_events_and_the_session_goes_on() -> None:
    turn = RealtimeTurn(error=("server_error", "overloaded", "The server is busy."))
    async with FakeRealtimeServer([turn, "Back."], api_key=KEY) as srv:
        async with session(srv) as s:
            await s.create_response()
            first = await until_done(s)
            await s.cancel_response()  # nothing to cancel: the provider says so, as an event
            await s.create_response()
            second = await until_done(s)
    error = next(e for e in first if isinstance(e, RealtimeError))
    assert (error.type, error.code, error.message) == (
        "server_error",
        "overloaded",
        "The server is busy.",
    )
    done = first[-1]
    assert isinstance(done, ResponseDone) and done.status == "failed"
    assert done.error == {"type": "server_error", "code": "overloaded"}
    cancel_error = next(e for e in second if isinstance(e, RealtimeError))
    assert cancel_error.code == "response_cancel_not_active"
    assert "".join(e.text for e in second if isinstance(e, TextDelta)) == "Back."


async def test_unknown_event_types_pass_through_raw_and_lifecycle_on_request() -> None:
    extra = {"type": "response.future_feature.delta", "delta": {"x": 1}}
    async with FakeRealtimeServer(
        [RealtimeTurn(text="ok", extra_events=(extra,)), "again"], api_key=KEY
    ) as srv:
        async with session(srv) as s:
            await s.create_response()
            quiet = await until_done(s)
            await s.create_response()
            loud = await until_done(s, raw=True)
    raws = [e for e in quiet if isinstance(e, RawEvent)]
    assert [(r.type, r.data["delta"]) for r in raws] == [
        ("response.future_feature.delta", {"x": 1})
    ]
    loud_types = {e.type for e in loud if isinstance(e, RawEvent)}
    assert {
        "response.created",
        "response.output_item.added",
        "response.output_text.done",
    } <= loud_types


async def test_bad_key_is_a_typed_error_and_the_key_never_shows() -> None:
    wrong = "sk-wrong-key-abcdef0123456789"
    async with FakeRealtimeServer(api_key=KEY) as srv:
        s = session(srv, api_key=wrong)
        with pytest.raises(RealtimeAuthError) as info:
            async with s:
                pass
    error = info.value
    assert error.status == 401 and error.code == "invalid_api_key"
    assert error.provider == "openai" and error.model == "openai/gpt-realtime"
    shown = " ".join(
        [
            str(error),
            repr(error),
            error.body,
            repr(s),
            s.url,
            repr(pickle.loads(pickle.dumps(error))),
        ]
    )
    for fragment in (wrong, wrong[:8], wrong[-4:]):
        assert fragment not in shown
    assert "Incorrect API key provided" in str(error)
    assert type(error).__module__ == "atoll_realtime"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.status, copy.code, copy.body) == (401, "invalid_api_key", error.body)
    assert "authorization" not in srv.handshakes[0] if srv.handshakes else True


async def test_missing_key_and_closed_session_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    async with FakeRealtimeServer() as srv:
        with pytest.raises(RealtimeAuthError, match="OPENAI_API_KEY"):
            async with RealtimeSession("gpt-realtime", base_url=srv.base_url):
                pass
        s = session(srv)
        async with s:
            pass
        with pytest.raises(RealtimeClosedError):
            await s.send_text("late")


async def test_connect_errors_are_typed() -> None:
    async with FakeRealtimeServer() as srv:
        port = srv.port
    with pytest.raises(RealtimeConnectError) as info:
        async with RealtimeSession(
            "gpt-realtime", base_url=f"ws://127.0.0.1:{port}/v1", api_key=KEY
        ):
            pass
    assert info.value.status is None
    async with FakeRealtimeServer() as srv:
        with pytest.raises(RealtimeConnectError) as refused:
            async with RealtimeSession(
                "gpt-realtime", base_url=srv.base_url + "/nowhere", api_key=KEY
            ):
                pass
    assert refused.value.status == 404


async def test_handshake_carries_bearer_and_no_beta_header() -> None:
    async with FakeRealtimeServer(api_key=KEY) as srv:
        async with session(srv, headers={"X-Trace": "t1"}):
            pass
        headers = srv.handshakes[0]
    assert "openai-beta" not in headers
    assert headers["x-trace"] == "t1" and headers["user-agent"].startswith("atoll-realtime/")
