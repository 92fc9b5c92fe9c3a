"""atoll_realtime benchmark: event throughput of one session, against raw WebSocket receivers.

The scripted server (atoll_testing.FakeRealtimeServer, in a process of its own so it does not
share the GIL with the client) streams one response of 20,000 small
``response.output_text.delta`` events (~170 bytes each). Per round, timed from
``response.create`` to ``response.done``:

- ``atoll_events``: ``RealtimeSession.events()`` yielding 20,000 ``TextDelta`` events (frame
  parsing, JSON decoding into msgspec structs, neutral events), on asyncio and on trio;
- baseline ``websockets_raw``: the ``websockets`` library (asyncio) receiving the same frames
  as strings, nothing decoded;
- for the choice of WebSocket stack, the same raw receive loop on ``wsproto`` over anyio
  streams and on ``httpx-ws``.

Reported: events/s (target: at least 100,000 through ``events()``) and the per-event overhead
of ``events()`` over the raw ``websockets`` receive, in microseconds and as a ratio.

Run: uv run --no-sync python benchmarks/realtime.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

import anyio
from _common import ratio, write_result

N = 20_000
ROUNDS = 5
# The raw receivers configure the session as RealtimeSession does (text answers), so the
# server streams the very same frames to every client.
UPDATE = '{"type":"session.update","session":{"type":"realtime","output_modalities":["text"]}}'
SERVER = """
import sys
from atoll_testing import FakeRealtimeServer, RealtimeScript, RealtimeTurn
script = RealtimeScript([RealtimeTurn(text="tok", deltas={n})] * 200)
srv = FakeRealtimeServer(script)
srv.start()
print(srv.port, flush=True)
sys.stdin.read()
"""


def start_server() -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(n=N)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


async def atoll_round(port: int) -> float:
    from atoll_realtime import RealtimeSession, ResponseDone, TextDelta

    count = 0
    async with RealtimeSession(
        "openai/gpt-realtime", base_url=f"ws://127.0.0.1:{port}/v1", api_key="bench"
    ) as session:
        start = time.perf_counter()
        await session.create_response()
        async for event in session.events():
            if type(event) is TextDelta:
                count += 1
            elif isinstance(event, ResponseDone):
                break
        elapsed = time.perf_counter() - start
    assert count == N, count
    return elapsed


async def websockets_round(port: int) -> float:
    from websockets.asyncio.client import connect

    async with connect(
        f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime", max_size=None
    ) as ws:
        await ws.recv()  # session.created
        await ws.send(UPDATE)
        await ws.recv()  # session.updated
        start = time.perf_counter()
        await ws.send('{"type":"response.create"}')
        count = 0
        async for message in ws:
            count += 1
            if '"response.done"' in str(message):
                break
        elapsed = time.perf_counter() - start
    assert count >= N, count
    return elapsed


async def wsproto_round(port: int) -> float:
    from wsproto import ConnectionType, WSConnection
    from wsproto.events import AcceptConnection, Request, TextMessage

    stream = await anyio.connect_tcp("127.0.0.1", port)
    conn = WSConnection(ConnectionType.CLIENT)
    await stream.send(
        conn.send(Request(host="127.0.0.1", target="/v1/realtime?model=gpt-realtime"))
    )
    start = 0.0
    count = 0
    done = False
    parts: list[str] = []
    while not done:
        conn.receive_data(await stream.receive(65536))
        for event in conn.events():
            if isinstance(event, AcceptConnection):
                await stream.send(conn.send(TextMessage(data=UPDATE)))
            elif isinstance(event, TextMessage):
                parts.append(event.data)
                if not event.message_finished:
                    continue
                message = "".join(parts)
                parts.clear()
                if '"session.updated"' in message:
                    start = time.perf_counter()
                    await stream.send(conn.send(TextMessage(data='{"type":"response.create"}')))
                elif start:
                    count += 1
                    done = done or '"response.done"' in message
    elapsed = time.perf_counter() - start
    await stream.aclose()
    assert count >= N, count
    return elapsed


async def httpx_ws_round(port: int) -> float:
    import httpx
    from httpx_ws import aconnect_ws

    async with httpx.AsyncClient() as client:
        url = f"http://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"
        async with aconnect_ws(url, client, max_message_size_bytes=2**24) as ws:
            await ws.receive_text()
            await ws.send_text(UPDATE)
            await ws.receive_text()
            start = time.perf_counter()
            await ws.send_text('{"type":"response.create"}')
            count = 0
            while True:
                message = await ws.receive_text()
                count += 1
                if '"response.done"' in message:
                    break
            elapsed = time.perf_counter() - start
    assert count >= N, count
    return elapsed


def best(port: int, fn: Any, backend: str = "asyncio") -> float:
    times = [anyio.run(fn, port, backend=backend) for _ in range(ROUNDS)]
    return min(times)


def main() -> None:
    proc, port = start_server()
    try:
        results = {
            "atoll_events_asyncio": best(port, atoll_round),
            "atoll_events_trio": best(port, atoll_round, "trio"),
            "websockets_raw": best(port, websockets_round),
            "wsproto_raw": best(port, wsproto_round),
            "httpx_ws_raw": best(port, httpx_ws_round),
        }
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)
    per_event_us = {k: v / N * 1e6 for k, v in results.items()}
    data = {
        "events": N,
        "rounds": ROUNDS,
        "events_per_s": {k: round(N / v) for k, v in results.items()},
        "us_per_event": {k: round(v, 3) for k, v in per_event_us.items()},
        "atoll_overhead_vs_websockets_us": {
            b: round(per_event_us[f"atoll_events_{b}"] - per_event_us["websockets_raw"], 3)
            for b in ("asyncio", "trio")
        },
        "ratio_atoll_asyncio_over_websockets": ratio(
            per_event_us["atoll_events_asyncio"], per_event_us["websockets_raw"]
        ),
        "target_events_per_s": 100_000,
        "target_met": N / results["atoll_events_asyncio"] >= 100_000
        and N / results["atoll_events_trio"] >= 100_000,
    }
    path = write_result("realtime", data)
    print(json.dumps(data, indent=2))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
