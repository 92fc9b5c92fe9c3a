"""Conformance of the blocking transports (``make_sync``): the same contract, no event loop."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Generator

import pytest
from atoll_wire import (
    ConnectError,
    HttpRequest,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    ResponseTooLarge,
    SyncHttpResponse,
    Timeout,
    TransportError,
)

from tests.transports._peer import PlainServer, pattern
from tests.transports.conftest import (
    GARBAGE_REPLIES,
    Options,
    TLSMaterial,
    TransportKind,
    assert_clean_timeout,
    open_fds,
)

SHORT = Timeout(connect=0.3, read=0.3, write=0.3, pool=0.3)


def wait_until(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def first_chunk_then_close(response: SyncHttpResponse) -> bytes:
    with response:
        body = response.iter_bytes()
        assert isinstance(body, Generator)
        try:
            return next(body)
        finally:
            body.close()


def test_status_headers_and_body(kind: TransportKind, server: PlainServer) -> None:
    with kind.make_sync(Options()) as transport:
        response = transport.send(HttpRequest("GET", server.url("/status/404")))
        assert response.status == 404
        assert response.headers["x-multi"] == "a, b"
        assert response.read() == b"status 404"
        echoed = transport.send(
            HttpRequest("POST", server.url("/echo"), headers={"x-custom": "1"}, body=b"hi")
        )
        assert echoed.read() == b"hi"
    assert server.requests[-1].header("x-custom") == "1"
    assert server.accepted == 1


def test_chunks_arrive_as_sent(kind: TransportKind, server: PlainServer) -> None:
    with kind.make_sync(Options()) as transport:
        response = transport.send(HttpRequest("GET", server.url("/chunks?n=3&size=4&gate=1")))
        with response:
            body = response.iter_bytes()
            started = time.monotonic()
            assert next(body) == b"AAAA"
            # The server holds chunk 2 until the gate opens (or 10 s pass): chunk 1 came first.
            assert time.monotonic() - started < 5
            server.open_gate()
            assert b"".join(body) == b"BBBBCCCC"


def test_large_body(kind: TransportKind, server: PlainServer) -> None:
    size = 4 * 1024 * 1024 + 1
    with kind.make_sync(Options()) as transport:
        response = transport.send(HttpRequest("GET", server.url(f"/large?size={size}&chunked=1")))
        assert response.read() == pattern(size)


def test_errors(kind: TransportKind, server: PlainServer, refused_url: str) -> None:
    with kind.make_sync(Options(timeout=SHORT, max_body_bytes=1000)) as transport:
        with pytest.raises(ConnectError) as refused:
            transport.send(HttpRequest("GET", refused_url))
        with pytest.raises(ReadTimeout) as slow:
            transport.send(HttpRequest("GET", server.url("/sleep-headers?seconds=5")))
        with pytest.raises(RemoteProtocolError) as cut:
            transport.send(HttpRequest("GET", server.url("/truncate"))).read()
        with pytest.raises(ResponseTooLarge) as big:
            transport.send(HttpRequest("GET", server.url("/large?size=5000&chunked=1"))).read()
    for caught in (refused, slow, cut, big):
        assert caught.value.method == "GET"
    for caught in (refused, slow, cut):
        assert caught.value.__cause__ is not None
    assert big.value.limit == 1000
    assert_clean_timeout(slow.value, 0.3)


@pytest.mark.parametrize("reply", GARBAGE_REPLIES.values(), ids=GARBAGE_REPLIES.keys())
def test_garbage_reply_is_remote_protocol_error(
    kind: TransportKind, server: PlainServer, reply: bytes
) -> None:
    url = server.url("/raw?hex=" + reply.hex())
    with kind.make_sync(Options()) as transport:
        with pytest.raises(RemoteProtocolError) as caught:
            transport.send(HttpRequest("POST", url, body=b"{}")).read()
        assert transport.send(HttpRequest("GET", server.url("/status/200"))).read()
    assert caught.value.__cause__ is not None
    assert [r.method for r in server.requests] == ["POST", "GET"]


def test_pool_timeout(kind: TransportKind, server: PlainServer) -> None:
    options = Options(timeout=Timeout(connect=5, read=5, write=5, pool=0.3), max_connections=1)
    with kind.make_sync(options) as transport:
        holder = transport.send(HttpRequest("GET", server.url("/infinite")))
        with holder, pytest.raises(PoolTimeout) as caught:
            transport.send(HttpRequest("GET", server.url("/status/200")))
        assert_clean_timeout(caught.value, 0.3)
        assert transport.send(HttpRequest("GET", server.url("/status/200"))).read()


def test_tls(kind: TransportKind, tls_server: PlainServer, tls: TLSMaterial) -> None:
    with kind.make_sync(Options()) as transport, pytest.raises(ConnectError):
        transport.send(HttpRequest("GET", tls_server.url("/status/200")))
    with kind.make_sync(Options(ca_bundle=str(tls.ca_file))) as transport:
        assert transport.send(HttpRequest("GET", tls_server.url("/status/200"))).read() == (
            b"status 200"
        )


def test_closing_early_hangs_up_promptly(kind: TransportKind, server: PlainServer) -> None:
    with kind.make_sync(Options()) as transport:
        response = transport.send(HttpRequest("GET", server.url("/infinite?size=1024&delay=0.02")))
        assert first_chunk_then_close(response) == pattern(1024)
        wait_until(lambda: server.streams_ended_by_client == 1, seconds=1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts /proc/self/fd")
def test_no_leaks_after_abandoned_streams(kind: TransportKind, server: PlainServer) -> None:
    url = server.url("/infinite?size=512&delay=0.01")
    with kind.make_sync(Options()) as transport:
        transport.send(HttpRequest("GET", server.url("/status/200"))).read()
        wait_until(lambda: server.open_connections == 1)
        before = open_fds()
        for index in range(300):
            response = transport.send(HttpRequest("GET", url))
            if index % 2:
                first_chunk_then_close(response)
            else:
                with pytest.raises(KeyError), response:
                    for _ in response.iter_bytes():
                        raise KeyError("consumer failed")
        wait_until(lambda: server.streams_ended_by_client == 300)
        wait_until(lambda: server.open_connections <= 1)
        assert open_fds() <= before


def test_invalid_header_is_refused_before_sending(kind: TransportKind, server: PlainServer) -> None:
    request = HttpRequest("GET", server.url("/echo"), headers={"authorization": "sk-secret\n"})
    with kind.make_sync(Options()) as transport, pytest.raises(TransportError) as caught:
        transport.send(request)
    assert "sk-secret" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert server.requests == []


def test_slow_consumer_pauses_the_server(kind: TransportKind, server: PlainServer) -> None:
    with kind.make_sync(Options()) as transport:
        response = transport.send(HttpRequest("GET", server.url("/infinite")))
        with response:
            body = response.iter_bytes()
            assert isinstance(body, Generator)
            next(body)
            time.sleep(0.5)
            first = server.stream_bytes
            time.sleep(0.3)
            second = server.stream_bytes
            # Nobody reads: once the socket buffers (a few MB) are full the server is stuck.
            assert first < 32 * 1024 * 1024
            assert second - first < 512 * 1024
            # Reading again lets the server move on.
            for _ in range(5000):
                next(body)
                if server.stream_bytes > second:
                    break
            body.close()
    assert server.stream_bytes > second
