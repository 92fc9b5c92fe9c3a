"""Conformance: a transport sends each request at most once, whatever the server does.

Retries belong to the Client's policy, which records each attempt; a transport that silently
sends a POST again (libcurl does, on a reused keep-alive connection that the server closes
without answering) can run a paid generation twice behind the caller's back. So for every
failure timing below, on a fresh and on a reused connection, the server must log exactly one
request, the caller must get the typed error, and the transport must stay usable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import pytest
from atoll_testing import FakeLLMServer
from atoll_wire import (
    AsyncTransport,
    HttpRequest,
    ReadTimeout,
    RemoteProtocolError,
    SyncTransport,
    Timeout,
    TransportError,
)

from tests.transports._peer import PlainServer
from tests.transports.conftest import Options, TransportKind, body_of

API_KEY = "sk-at-most-once"
QUICK_READ = Timeout(connect=5, read=0.3, write=5, pool=5)


@dataclass(frozen=True)
class Failure:
    """One way for the server to fail a request, and the error the caller must see."""

    fault: str
    error: type[TransportError]
    stream: bool = False
    timeout: Timeout | None = None


FAILURES = {
    # Reads the request, then hangs up at once / a little later, with no status line.
    "hangup-at-once": Failure("drop", RemoteProtocolError),
    "hangup-after-0.3s": Failure("delay=0.3; drop", RemoteProtocolError),
    # Sends the status line and headers, then hangs up before the body.
    "hangup-after-headers": Failure("disconnect-bytes=0", RemoteProtocolError),
    "hangup-mid-body": Failure("disconnect-bytes=20", RemoteProtocolError),
    "hangup-mid-stream": Failure("disconnect-events=3", RemoteProtocolError, stream=True),
    # The transport gives up first; the late answer must not provoke a second request either.
    "read-timeout": Failure("delay=1", ReadTimeout, timeout=QUICK_READ),
}


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(api_key=API_KEY).run_in_thread() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(llm: FakeLLMServer) -> None:
    llm.clear()


def request(llm: FakeLLMServer, method: str = "POST", *, stream: bool = False) -> HttpRequest:
    headers = {"authorization": f"Bearer {API_KEY}"}
    if method == "GET":
        return HttpRequest("GET", llm.base_url + "/models", headers=headers)
    body = {"model": "stream-20" if stream else "echo", "stream": stream, "messages": []}
    body["messages"] = [{"role": "user", "content": "run this once"}]
    headers["content-type"] = "application/json"
    return HttpRequest(
        "POST", llm.base_url + "/chat/completions", headers=headers, body=json.dumps(body).encode()
    )


async def exchange(transport: AsyncTransport, req: HttpRequest) -> bytes:
    """Send and read the whole body (streamed chunk by chunk, as a stream consumer does)."""
    received: list[bytes] = []
    response = await transport.send(req)
    async with response, body_of(response) as body:
        async for chunk in body:
            received.append(chunk)
    assert response.status == 200
    return b"".join(received)


def sync_exchange(transport: SyncTransport, req: HttpRequest) -> bytes:
    with transport.send(req) as response:
        data = b"".join(response.iter_bytes())
    assert response.status == 200
    return data


def requests_seen(llm: FakeLLMServer) -> list[str]:
    return [f"{r.method} {r.path}" for r in llm.requests]


@pytest.mark.anyio
@pytest.mark.parametrize("connection", ["fresh", "reused"])
@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
async def test_a_failed_post_reaches_the_server_once(
    kind: TransportKind, llm: FakeLLMServer, connection: str, failure: Failure
) -> None:
    async with kind.make_async(Options(timeout=failure.timeout or Options().timeout)) as transport:
        if connection == "reused":
            await exchange(transport, request(llm))  # warms one keep-alive connection
            assert llm.connections_opened == 1
            llm.clear()
        llm.inject(failure.fault)
        failing = request(llm, stream=failure.stream)
        with pytest.raises(failure.error):
            await exchange(transport, failing)
        assert requests_seen(llm) == ["POST /v1/chat/completions"]
        # The transport is still usable, and the next request is sent once too.
        assert await exchange(transport, request(llm))
    assert requests_seen(llm) == ["POST /v1/chat/completions"] * 2


@pytest.mark.anyio
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_no_method_is_sent_again_on_a_reused_connection(
    kind: TransportKind, llm: FakeLLMServer, method: str
) -> None:
    async with kind.make_async(Options()) as transport:
        for _ in range(3):
            await exchange(transport, request(llm, method))
        llm.clear()
        llm.inject("delay=0.2; drop", times=2)
        for _ in range(2):  # twice in a row: the replacement connection is no different
            with pytest.raises(RemoteProtocolError):
                await exchange(transport, request(llm, method))
        assert len(llm.requests) == 2
        await exchange(transport, request(llm, method))
    assert len(llm.requests) == 3


@pytest.mark.parametrize("connection", ["fresh", "reused"])
@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_sync_a_failed_post_reaches_the_server_once(
    kind: TransportKind, llm: FakeLLMServer, connection: str, failure: Failure
) -> None:
    with kind.make_sync(Options(timeout=failure.timeout or Options().timeout)) as transport:
        if connection == "reused":
            sync_exchange(transport, request(llm))
            llm.clear()
        llm.inject(failure.fault)
        with pytest.raises(failure.error):
            sync_exchange(transport, request(llm, stream=failure.stream))
        assert requests_seen(llm) == ["POST /v1/chat/completions"]
        assert sync_exchange(transport, request(llm))
    assert requests_seen(llm) == ["POST /v1/chat/completions"] * 2


@pytest.mark.anyio
@pytest.mark.parametrize("gap", [1.3], ids=["idle-1.3s"])
async def test_an_idle_connection_the_server_closed_is_replaced(
    kind: TransportKind, gap: float
) -> None:
    # A keep-alive timeout (here 0.2 s) closes the connection between two requests: the next
    # request goes out once, on a new connection, and succeeds.
    with PlainServer(idle_timeout=0.2) as server:
        async with kind.make_async(Options()) as transport:
            for _ in range(2):
                response = await transport.send(HttpRequest("POST", server.url("/echo"), body=b"x"))
                assert await response.aread() == b"x"
                await anyio.sleep(gap)
        assert [r.method for r in server.requests] == ["POST", "POST"]
        assert server.accepted == 2


@pytest.mark.anyio
async def test_a_connection_the_server_closed_within_a_second_is_replaced(
    kind: TransportKind,
) -> None:
    with PlainServer(idle_timeout=0.1) as server:
        async with kind.make_async(Options()) as transport:
            for _ in range(3):
                response = await transport.send(HttpRequest("POST", server.url("/echo"), body=b"x"))
                assert await response.aread() == b"x"
                await anyio.sleep(0.3)
        assert [r.method for r in server.requests] == ["POST"] * 3
