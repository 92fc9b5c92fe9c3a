"""Dropped connections, close codes, reconnects, ping/pong and interop with `websockets`."""

from __future__ import annotations

import json
import pickle

import anyio
import pytest
from atoll_realtime import (
    RECOVERABLE_CLOSE_CODES,
    AudioDelta,
    RealtimeConnectionLost,
    RealtimeEvent,
    RealtimeProtocolError,
    Reconnected,
    ResponseDone,
    TextDelta,
)
from atoll_realtime._websocket import connect_websocket
from atoll_testing import FakeRealtimeServer, RealtimeTurn
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from .conftest import KEY, session

pytestmark = pytest.mark.anyio


async def collect(events: object, stop: int = 1) -> list[RealtimeEvent]:
    out: list[RealtimeEvent] = []
    with anyio.fail_after(10):
        async for event in events:  # type: ignore[attr-defined]
            out.append(event)
            if (
                isinstance(event, ResponseDone)
                and sum(isinstance(e, ResponseDone) for e in out) >= stop
            ):
                break
    return out


async def test_drop_mid_response_is_typed_with_what_arrived() -> None:
    turn = RealtimeTurn(text="one two three four five six", drop_after=3)
    async with FakeRealtimeServer([turn], api_key=KEY) as srv:
        async with session(srv) as s:
            await s.create_response()
            seen: list[RealtimeEvent] = []
            with pytest.raises(RealtimeConnectionLost) as info, anyio.fail_after(10):
                async for event in s.events():
                    seen.append(event)
    error = info.value
    assert error.close_code == 1006 and error.recoverable
    assert (
        error.text == "one two three " == "".join(e.text for e in seen if isinstance(e, TextDelta))
    )
    assert [e for e in error.partial if isinstance(e, TextDelta)] == seen
    assert error.provider == "openai" and error.model == "openai/gpt-realtime"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.close_code, copy.partial, copy.recoverable) == (1006, error.partial, True)


async def test_audio_drop_keeps_the_audio_that_arrived() -> None:
    turn = RealtimeTurn(text="la la la la", audio_ms=400, drop_after=4)
    async with FakeRealtimeServer([turn], api_key=KEY) as srv:
        async with session(srv, modalities=("audio", "text"), turn_detection=None) as s:
            await s.create_response()
            with pytest.raises(RealtimeConnectionLost) as info:
                await collect(s.events())
    assert len(info.value.audio) == 2 * 50 * 48  # two 50 ms chunks before the drop
    assert sum(isinstance(e, AudioDelta) for e in info.value.partial) == 2


@pytest.mark.parametrize("code", [1001, 1011, 1012, 1013, 1008, 4000])
async def test_close_codes_say_whether_to_reconnect(code: int) -> None:
    turn = RealtimeTurn(text="a b c d", close_after=2, close_code=code)
    async with FakeRealtimeServer([turn], api_key=KEY) as srv:
        async with session(srv) as s:
            await s.create_response()
            with pytest.raises(RealtimeConnectionLost) as info:
                await collect(s.events())
    assert info.value.close_code == code
    assert info.value.reason == "scripted close"
    assert info.value.recoverable is (code in RECOVERABLE_CLOSE_CODES)
    assert info.value.text == "a b "


def test_recoverable_codes_are_the_issue_list() -> None:
    assert frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015}) == RECOVERABLE_CLOSE_CODES


async def test_reconnect_reopens_with_the_same_configuration() -> None:
    script = [RealtimeTurn(text="lost words here", drop_after=1), "after reconnect"]
    async with FakeRealtimeServer(script, api_key=KEY) as srv:
        async with session(srv, reconnect=True, instructions="Stay.") as s:
            await s.send_text("hello")
            await s.create_response()
            events: list[RealtimeEvent] = []
            with anyio.fail_after(10):
                async for event in s.events():
                    events.append(event)
                    if isinstance(event, Reconnected):
                        await s.send_text("again")
                        await s.create_response()
                    if isinstance(event, ResponseDone):
                        break
        updates = [json.dumps(conn[0]) for conn in srv.received]
    back = next(e for e in events if isinstance(e, Reconnected))
    assert (back.attempt, back.close_code, back.lost_text) == (1, 1006, "lost ")
    assert srv.connections_opened == 2
    assert updates[0] == updates[1] and '"instructions": "Stay."' in updates[0]
    after = events[events.index(back) + 1 :]
    assert "".join(e.text for e in after if isinstance(e, TextDelta)) == "after reconnect"


async def test_reconnect_does_not_retry_a_policy_close() -> None:
    turn = RealtimeTurn(text="x y", close_after=1, close_code=1008)
    async with FakeRealtimeServer([turn], api_key=KEY) as srv:
        async with session(srv, reconnect=True) as s:
            await s.create_response()
            with pytest.raises(RealtimeConnectionLost) as info:
                await collect(s.events())
        assert srv.connections_opened == 1
    assert info.value.close_code == 1008 and not info.value.recoverable


async def test_pings_are_answered_while_reading() -> None:
    async with FakeRealtimeServer(
        [RealtimeTurn(text="slow " * 20, delay=0.01)], ping_interval=0.05
    ) as srv:
        async with session(srv) as s:
            await s.create_response()
            await collect(s.events())
        await anyio.sleep(0.05)
    assert srv.pongs and srv.pongs[0] == b"ping-1"


async def test_close_handshake_ends_events_cleanly() -> None:
    async with FakeRealtimeServer(["done"], api_key=KEY) as srv:
        s = session(srv)
        async with s:
            await s.create_response()
            await collect(s.events())
        assert [e async for e in s.events()] == []


async def test_interop_client_against_the_websockets_library_server() -> None:
    # Our client against an independent RFC 6455 implementation: fragmented messages, pings,
    # a close with a code, over a real socket.
    async def handler(ws: ServerConnection) -> None:
        await ws.send('{"type":"session.created"}')
        await ws.send(iter(['{"type":"response.output_text', '.delta","delta":"frag"}']))
        await ws.ping(b"p")
        await ws.send("x" * 70_000)
        await ws.close(1012, "restart")

    received: list[bytes] = []
    closed_with: tuple[int, str] | None = None

    async def client(port: int) -> None:
        nonlocal closed_with
        ws = await connect_websocket(f"ws://127.0.0.1:{port}/v1/realtime", {})
        try:
            while True:
                received.extend(await ws.receive())
        except RealtimeConnectionLost as exc:
            closed_with = (exc.close_code, exc.reason)

    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pytest.skip("the websockets library runs on asyncio only")
    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        await client(port)
    assert received[:2] == [
        b'{"type":"session.created"}',
        b'{"type":"response.output_text.delta","delta":"frag"}',
    ]
    assert received[2] == b"x" * 70_000
    assert closed_with == (1012, "restart")


async def test_interop_websockets_library_client_against_the_fake_server() -> None:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pytest.skip("the websockets library runs on asyncio only")
    async with FakeRealtimeServer(["hi there"]) as srv:
        url = srv.base_url + "/realtime?model=gpt-realtime"
        async with connect(url) as ws:
            created = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "response.create"}))
            types = []
            while True:
                event = json.loads(await ws.recv())
                types.append(event["type"])
                if event["type"] == "response.done":
                    break
            pong = await ws.ping(b"x")
            await pong
    assert created["type"] == "session.created" and created["session"]["model"] == "gpt-realtime"
    assert types.count("response.output_audio_transcript.delta") == 2  # audio is the default
    assert types[0] == "response.created"


async def test_protocol_violation_is_a_protocol_error() -> None:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pytest.skip("the raw server runs on asyncio streams")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        from atoll_testing._websocket_server import accept_response, read_upgrade

        upgrade = await read_upgrade(reader)
        assert upgrade is not None
        writer.write(accept_response(upgrade.headers["sec-websocket-key"]))
        writer.write(b"\xc1\x02hi")  # RSV1 set: no extension was negotiated
        await writer.drain()
        await reader.read(100)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        ws = await connect_websocket(f"ws://127.0.0.1:{port}/v1/realtime", {})
        with pytest.raises(RealtimeProtocolError) as info:
            await ws.receive()
    assert info.value.close_code == 1002 and ws.close_code == 1002
