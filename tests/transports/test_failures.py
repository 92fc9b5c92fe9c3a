"""Conformance: failures map onto atoll_wire's TransportError tree, chained, without secrets."""

from __future__ import annotations

import time

import anyio
import pytest
from atoll_wire import (
    AsyncTransport,
    ConnectError,
    ConnectTimeout,
    HttpRequest,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
    Timeout,
    TransportError,
    WriteTimeout,
)

from tests.transports._peer import PlainServer, pattern
from tests.transports.conftest import (
    GARBAGE_REPLIES,
    Options,
    TransportKind,
    assert_clean_timeout,
    body_of,
)

pytestmark = pytest.mark.anyio

SHORT = Timeout(connect=0.3, read=0.3, write=0.3, pool=0.3)


async def fetch(transport: AsyncTransport, request: HttpRequest) -> bytes:
    response = await transport.send(request)
    return await response.aread()


def assert_chained(exc: TransportError, method: str, url: str) -> None:
    assert exc.__cause__ is not None, "native errors must be chained with `from`"
    assert exc.method == method
    assert exc.url == url


async def test_refused_connection_is_connect_error(kind: TransportKind, refused_url: str) -> None:
    async with kind.make_async(Options()) as transport:
        with pytest.raises(ConnectError) as caught:
            await transport.send(HttpRequest("GET", refused_url))
    assert_chained(caught.value, "GET", refused_url)


async def test_connect_timeout(kind: TransportKind, blackhole_url: str) -> None:
    started = time.monotonic()
    async with kind.make_async(Options(timeout=SHORT)) as transport:
        with pytest.raises(ConnectTimeout) as caught:
            await transport.send(HttpRequest("GET", blackhole_url))
    assert time.monotonic() - started < 3
    assert_chained(caught.value, "GET", blackhole_url)
    assert_clean_timeout(caught.value, None)


async def test_read_timeout_before_headers(kind: TransportKind, server: PlainServer) -> None:
    url = server.url("/sleep-headers?seconds=5")
    started = time.monotonic()
    async with kind.make_async(Options(timeout=SHORT)) as transport:
        with pytest.raises(ReadTimeout) as caught:
            await transport.send(HttpRequest("GET", url))
    assert time.monotonic() - started < 3
    assert_chained(caught.value, "GET", url)
    assert_clean_timeout(caught.value, 0.3)


async def test_read_timeout_mid_body(kind: TransportKind, server: PlainServer) -> None:
    url = server.url("/sleep-body?seconds=5")
    async with kind.make_async(Options(timeout=SHORT)) as transport:
        response = await transport.send(HttpRequest("GET", url))
        received: list[bytes] = []
        with pytest.raises(ReadTimeout) as caught:
            async with response:
                async for chunk in response.aiter_bytes():
                    received.append(chunk)
    assert b"".join(received) == b"01234"
    assert_chained(caught.value, "GET", url)
    assert_clean_timeout(caught.value, 0.3)


async def test_request_timeout_overrides_the_transport_default(
    kind: TransportKind, server: PlainServer
) -> None:
    async with kind.make_async(Options()) as transport:
        # One number for this request only: the transport's 15 s read timeout is not used.
        with pytest.raises(ReadTimeout):
            await transport.send(
                HttpRequest("GET", server.url("/sleep-headers?seconds=5"), timeout=0.3)
            )
    async with kind.make_async(Options(timeout=SHORT)) as transport:
        # Only the read phase is set per request; it wins over the transport's 0.3 s.
        request = HttpRequest(
            "GET", server.url("/sleep-headers?seconds=0.6"), timeout=Timeout(read=5)
        )
        assert await fetch(transport, request) == b"slept"


async def test_write_timeout(kind: TransportKind, server: PlainServer) -> None:
    # The server never reads this body; once the socket buffers are full the write stalls.
    body = b"x" * (64 * 1024 * 1024)
    timeout = Timeout(connect=5, read=5, write=0.5, pool=5)
    async with kind.make_async(Options(timeout=timeout)) as transport:
        with pytest.raises(WriteTimeout) as caught:
            await transport.send(HttpRequest("POST", server.url("/stall-request"), body=body))
    assert caught.value.__cause__ is not None
    assert_clean_timeout(caught.value, 0.5)


async def test_pool_timeout(kind: TransportKind, server: PlainServer) -> None:
    timeout = Timeout(connect=5, read=5, write=5, pool=0.3)
    async with kind.make_async(Options(timeout=timeout, max_connections=1)) as transport:
        holder = await transport.send(HttpRequest("GET", server.url("/infinite")))
        async with holder:
            with pytest.raises(PoolTimeout) as caught:
                await transport.send(HttpRequest("GET", server.url("/status/200")))
            assert_clean_timeout(caught.value, 0.3)
        # The connection is free again once the first response is closed.
        assert await fetch(transport, HttpRequest("GET", server.url("/status/200"))) == (
            b"status 200"
        )


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_disconnect_mid_body_is_remote_protocol_error(
    kind: TransportKind, server: PlainServer, chunked: bool
) -> None:
    url = server.url(f"/truncate?chunked={int(chunked)}")
    async with kind.make_async(Options()) as transport:
        with pytest.raises(RemoteProtocolError) as caught:
            await fetch(transport, HttpRequest("GET", url))
    assert_chained(caught.value, "GET", url)


@pytest.mark.parametrize("reply", GARBAGE_REPLIES.values(), ids=GARBAGE_REPLIES.keys())
async def test_garbage_reply_is_remote_protocol_error(
    kind: TransportKind, server: PlainServer, reply: bytes
) -> None:
    # The server broke HTTP: the same error (and so the same retry decision) on every transport.
    url = server.url("/raw?hex=" + reply.hex())
    async with kind.make_async(Options()) as transport:
        with pytest.raises(RemoteProtocolError) as caught:
            await fetch(transport, HttpRequest("POST", url, body=b"{}"))
        assert await fetch(transport, HttpRequest("GET", server.url("/status/200")))
    assert_chained(caught.value, "POST", url)
    assert [r.method for r in server.requests] == ["POST", "GET"]  # and it was sent once


async def test_announced_body_over_the_limit(kind: TransportKind, server: PlainServer) -> None:
    async with kind.make_async(Options(max_body_bytes=1000)) as transport:
        with anyio.fail_after(10), pytest.raises(ResponseTooLarge) as caught:
            await fetch(transport, HttpRequest("GET", server.url("/declared?size=1000000")))
    assert caught.value.limit == 1000
    assert caught.value.size > 1000


async def test_streamed_body_over_the_limit(kind: TransportKind, server: PlainServer) -> None:
    url = server.url("/large?size=300000&chunked=1")
    async with kind.make_async(Options(max_body_bytes=100_000)) as transport:
        response = await transport.send(HttpRequest("GET", url))
        received = 0
        with pytest.raises(ResponseTooLarge) as caught:
            async with response, body_of(response) as body:
                async for chunk in body:
                    received += len(chunk)
        # Everything handed over stayed within the limit; the error says how far it got.
        assert received <= 100_000
        assert caught.value.limit == 100_000
        assert caught.value.size > 100_000
        # A body exactly at the limit is fine.
        exact = HttpRequest("GET", server.url("/large?size=100000"))
        assert await fetch(transport, exact) == pattern(100_000)


async def test_body_limit_per_request(kind: TransportKind, server: PlainServer) -> None:
    async with kind.make_async(Options(max_body_bytes=None)) as transport:
        small = HttpRequest(
            "GET", server.url("/large?size=5000&chunked=1"), extensions={"max_body_bytes": 10}
        )
        with pytest.raises(ResponseTooLarge):
            await fetch(transport, small)
        big = HttpRequest("GET", server.url("/large?size=5000"))
        assert len(await fetch(transport, big)) == 5000


async def test_errors_never_show_secrets(kind: TransportKind, refused_url: str) -> None:
    request = HttpRequest(
        "POST",
        refused_url + "v1/models?key=sk-query-secret",
        headers={"authorization": "Bearer sk-header-secret", "x-api-key": "sk-other-secret"},
        body=b"{}",
    )
    async with kind.make_async(Options()) as transport:
        with pytest.raises(ConnectError) as caught:
            await transport.send(request)
        shown = [str(caught.value), repr(caught.value), repr(transport), repr(request)]
    for text in shown:
        for secret in ("sk-query-secret", "sk-header-secret", "sk-other-secret"):
            assert secret not in text
    assert caught.value.url is not None
    assert caught.value.url.startswith(refused_url + "v1/models?key=")


def chain_text(exc: BaseException) -> str:
    """Everything a traceback would print: the error and each cause or context, str and repr."""
    texts: list[str] = []
    current: BaseException | None = exc
    while current is not None:
        texts += [str(current), repr(current)]
        current = current.__cause__ or current.__context__
    return "\n".join(texts)


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer sk-header-secret\n"},  # a key read from a file, newline kept
        {"authorization": "Bearer sk-header-secret\r\nx-evil: 1"},
        {"authorization": "Bearer sk-header-secret\x00"},
        {"authorization": "Bearer sk-header-secrét"},
        {"bad name": "sk-header-secret"},
    ],
    ids=["trailing-lf", "crlf-injection", "nul", "non-ascii", "bad-name"],
)
async def test_invalid_headers_are_refused_before_sending(
    kind: TransportKind, server: PlainServer, headers: dict[str, str]
) -> None:
    request = HttpRequest("GET", server.url("/echo"), headers=headers)
    async with kind.make_async(Options()) as transport:
        with pytest.raises(TransportError) as caught:
            await transport.send(request)
        # The transport stays usable.
        assert await fetch(transport, HttpRequest("GET", server.url("/status/200")))
    assert type(caught.value) is TransportError
    assert "sk-header-secret" not in chain_text(caught.value)
    assert next(iter(headers)) in str(caught.value)  # names the header
    assert [r.target for r in server.requests] == ["/status/200"]


async def test_surrounding_whitespace_in_a_value_is_dropped(
    kind: TransportKind, server: PlainServer
) -> None:
    request = HttpRequest("GET", server.url("/echo"), headers={"x-key": " sk-1 \t"})
    async with kind.make_async(Options()) as transport:
        assert await fetch(transport, request) == b""
    assert server.requests[-1].header("x-key") == "sk-1"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1/x"])
async def test_unsupported_url_is_transport_error(kind: TransportKind, url: str) -> None:
    async with kind.make_async(Options()) as transport:
        with pytest.raises(TransportError) as caught:
            await transport.send(HttpRequest("GET", url))
    assert type(caught.value) is TransportError


async def test_urls_are_percent_encoded_alike(kind: TransportKind, server: PlainServer) -> None:
    async with kind.make_async(Options()) as transport:
        response = await transport.send(HttpRequest("GET", server.url("/echo?q=é a&r=ü")))
        assert response.status == 200
        await response.aread()
    assert server.requests[-1].target == "/echo?q=%C3%A9%20a&r=%C3%BC"
