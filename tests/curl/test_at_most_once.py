"""atoll_curl sends a request once: libcurl's own resend is refused, and what that costs.

The conformance suite (tests/transports/test_at_most_once.py) counts requests on the server for
every transport; these tests pin down the libcurl-specific parts: the callback that refuses the
second send, how its failure is mapped, a caller's ``Connection: close``, and the one case where
atoll_curl fails a request that httpx would have sent on a new connection.
"""

from __future__ import annotations

import anyio
import pycurl
import pytest
from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_curl._exceptions import raise_curl_error
from atoll_curl._options import asks_to_close
from atoll_curl._transfer import Transfer
from atoll_wire import HttpRequest, RemoteProtocolError, TransportError

from tests.transports._peer import PlainServer

REQUEST = HttpRequest("POST", "http://127.0.0.1:9/v1/chat/completions", body=b"{}")


def test_the_prereq_callback_lets_a_request_out_once() -> None:
    easy = pycurl.Curl()
    try:
        transfer = Transfer(easy, REQUEST, high_water=1024, limit=None)
        assert transfer.on_prereq("127.0.0.1", "127.0.0.1", 9, 50000) == pycurl.PREREQFUNC_OK
        assert transfer.sent and not transfer.resend_refused
        # libcurl calls it again only to send the same request on a new connection.
        assert transfer.on_prereq("127.0.0.1", "127.0.0.1", 9, 50002) == pycurl.PREREQFUNC_ABORT
        assert transfer.resend_refused
    finally:
        easy.close()


def test_a_refused_resend_is_a_remote_protocol_error() -> None:
    message = "operation aborted by pre-request callback"
    with pytest.raises(RemoteProtocolError, match="not sent again") as caught:
        raise_curl_error(42, message, REQUEST, resend_refused=True, sent=True)
    assert isinstance(caught.value.__cause__, pycurl.error)
    assert caught.value.__cause__.args == (42, message)


def test_a_reply_that_is_not_http_is_a_remote_protocol_error() -> None:
    # CURLE_UNSUPPORTED_PROTOCOL after the request went out: the reply was not HTTP.
    with pytest.raises(RemoteProtocolError, match="not valid HTTP"):
        raise_curl_error(1, "Received HTTP/0.9 when not allowed", REQUEST, sent=True)
    # Before anything was sent it is about the URL, and nothing was wrong with the server.
    with pytest.raises(TransportError) as caught:
        raise_curl_error(1, "Protocol not supported", REQUEST)
    assert type(caught.value) is TransportError


@pytest.mark.parametrize(
    ("headers", "closes"),
    [
        ({"Connection": "close"}, True),
        ({"connection": "Keep-Alive, Close"}, True),
        ({"connection": "keep-alive"}, False),
        ({"x-connection": "close"}, False),
        ({}, False),
    ],
)
def test_asks_to_close(headers: dict[str, str], closes: bool) -> None:
    assert asks_to_close(HttpRequest("GET", "http://127.0.0.1/", headers)) is closes


def test_a_callers_connection_close_is_honoured() -> None:
    # The server closes after answering (it needs not say so); libcurl ignores a Connection
    # header it did not write, so without FORBID_REUSE it would send the next request into the
    # closed connection and fail it.
    with PlainServer() as server, SyncCurlTransport(trust_env=False) as transport:
        for _ in range(5):
            request = HttpRequest(
                "POST", server.url("/echo"), headers={"connection": "close"}, body=b"x"
            )
            with transport.send(request) as response:
                assert response.read() == b"x"
        # Keep-alive still works for requests that do not ask to close.
        for _ in range(3):
            with transport.send(HttpRequest("GET", server.url("/status/200"))) as response:
                response.read()
    assert len(server.requests) == 8
    assert server.accepted == 6


@pytest.mark.anyio
async def test_a_connection_closed_within_libcurls_check_interval_fails_once() -> None:
    # The documented cost of never re-sending: libcurl checks a pooled connection's health at
    # most once a second, so a connection the server closed (unannounced) less than a second
    # after its last check is reused; the request fails instead of going out twice. Servers
    # with a keep-alive timeout of a second or more are not affected (the conformance suite).
    with PlainServer(idle_timeout=0.1) as server:
        async with CurlTransport(trust_env=False) as transport:
            response = await transport.send(HttpRequest("POST", server.url("/echo"), body=b"1"))
            assert await response.aread() == b"1"
            await anyio.sleep(0.3)
            with pytest.raises(RemoteProtocolError, match="not sent again"):
                await transport.send(HttpRequest("POST", server.url("/echo"), body=b"2"))
            # The broken connection is gone; the next request opens a fresh one.
            response = await transport.send(HttpRequest("POST", server.url("/echo"), body=b"3"))
            assert await response.aread() == b"3"
    assert [r.body for r in server.requests] == [b"1", b"3"]
