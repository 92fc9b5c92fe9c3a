"""Conformance: a plain exchange — status, headers, bodies, chunk boundaries, reuse, concurrency."""

from __future__ import annotations

import anyio
import pytest
from atoll_wire import HttpRequest, HttpResponse

from tests.transports._peer import PlainServer, pattern
from tests.transports.conftest import Options, TransportKind, body_of

pytestmark = pytest.mark.anyio


async def chunks_of(response: HttpResponse) -> list[bytes]:
    async with response:
        return [chunk async for chunk in response.aiter_bytes()]


@pytest.mark.parametrize("code", [200, 201, 404, 500])
async def test_status_and_headers(kind: TransportKind, server: PlainServer, code: int) -> None:
    async with kind.make_async(Options()) as transport:
        response = await transport.send(HttpRequest("GET", server.url(f"/status/{code}")))
        async with response:
            assert response.status == code
            # Names are lowercase; a repeated header keeps both values in order.
            assert response.headers["x-multi"] == "a, b"
            assert response.headers["content-type"] == "text/plain"
            assert response.request.url == server.url(f"/status/{code}")
            assert response.elapsed >= 0
            assert await response.aread() == f"status {code}".encode()


async def test_request_method_headers_and_body_reach_the_server(
    kind: TransportKind, server: PlainServer
) -> None:
    body = b'{"model": "m", "messages": []}'
    request = HttpRequest(
        "POST",
        server.url("/echo?x=1"),
        headers={"content-type": "application/json", "x-custom": "yes"},
        body=body,
    )
    async with kind.make_async(Options()) as transport:
        response = await transport.send(request)
        assert await response.aread() == body
    assert response.headers["x-method"] == "POST"
    assert response.headers["x-target"] == "/echo?x=1"
    seen = server.requests[-1]
    assert seen.header("x-custom") == "yes"
    assert seen.header("content-type") == "application/json"
    assert seen.header("content-length") == str(len(body))
    assert seen.body == body


async def test_large_request_body_round_trips(kind: TransportKind, server: PlainServer) -> None:
    body = pattern(3 * 1024 * 1024 + 7)
    async with kind.make_async(Options()) as transport:
        response = await transport.send(HttpRequest("PUT", server.url("/echo"), body=body))
        assert await response.aread() == body


async def test_chunk_boundaries_are_preserved(kind: TransportKind, server: PlainServer) -> None:
    # Chunks 100 ms apart arrive as separate reads; the transport must neither merge nor split them.
    async with kind.make_async(Options()) as transport:
        response = await transport.send(
            HttpRequest("GET", server.url("/chunks?n=4&size=10&delay=0.1"))
        )
        chunks = await chunks_of(response)
    assert chunks == [letter * 10 for letter in (b"A", b"B", b"C", b"D")]


async def test_body_is_delivered_as_it_arrives(kind: TransportKind, server: PlainServer) -> None:
    # The server holds chunk 2 back until the test has seen chunk 1: a buffering transport
    # would never hand chunk 1 over and the fail_after below would fire.
    async with kind.make_async(Options()) as transport:
        response = await transport.send(HttpRequest("GET", server.url("/chunks?n=3&size=4&gate=1")))
        async with response, body_of(response) as body:
            with anyio.fail_after(5):
                first = await anext(body)
            assert first == b"AAAA"
            server.open_gate()
            rest = [chunk async for chunk in body]
    assert b"".join(rest) == b"BBBBCCCC"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_large_response_body(kind: TransportKind, server: PlainServer, chunked: bool) -> None:
    size = 8 * 1024 * 1024 + 123
    flag = "1" if chunked else "0"
    async with kind.make_async(Options()) as transport:
        response = await transport.send(
            HttpRequest("GET", server.url(f"/large?size={size}&chunked={flag}"))
        )
        received = bytearray()
        async with response:
            async for chunk in response.aiter_bytes():
                received += chunk
    assert len(received) == size
    assert received == pattern(size)


async def test_connections_are_reused(kind: TransportKind, server: PlainServer) -> None:
    async with kind.make_async(Options()) as transport:
        for index in range(20):
            body = str(index).encode()
            response = await transport.send(HttpRequest("POST", server.url("/echo"), body=body))
            assert await response.aread() == body
        assert server.accepted == 1
        # A body abandoned half-read cannot be reused: the next request needs a new connection.
        response = await transport.send(HttpRequest("GET", server.url("/infinite")))
        async with response, body_of(response) as body:
            await anext(body)
        response = await transport.send(HttpRequest("GET", server.url("/status/200")))
        await response.aread()
        assert server.accepted == 2


async def test_a_thousand_concurrent_requests(kind: TransportKind, server: PlainServer) -> None:
    results: dict[int, tuple[int, bytes]] = {}

    async def one(transport_: object, index: int) -> None:
        assert transport_ is transport
        body = f"request {index}".encode()
        response = await transport.send(HttpRequest("POST", server.url("/echo"), body=body))
        results[index] = (response.status, await response.aread())

    async with kind.make_async(Options(max_connections=10)) as transport:
        async with anyio.create_task_group() as group:
            for index in range(1000):
                group.start_soon(one, transport, index)
    assert len(results) == 1000
    assert all(results[i] == (200, f"request {i}".encode()) for i in range(1000))
    # The pool bounds the connections and reuses them.
    assert server.accepted <= 10
    assert len(server.requests) == 1000
