"""SyncCurlTransport: the same exchange, lazily streamed, shared by threads."""

from __future__ import annotations

import threading
import time

import pytest
from atoll_curl import SyncCurlTransport
from atoll_wire import HttpRequest, PoolTimeout, ResponseTooLarge, Timeout, TransportError

from tests.curl._server import Server
from tests.curl.conftest import TEST_TIMEOUT, sync_body_of


def transport(**options: object) -> SyncCurlTransport:
    options.setdefault("timeout", TEST_TIMEOUT)
    options.setdefault("trust_env", False)
    return SyncCurlTransport(**options)  # type: ignore[arg-type]


def test_round_trip_and_reuse(server: Server) -> None:
    with transport() as t:
        for i in range(10):
            request = HttpRequest("POST", server.url("/echo"), {"X-N": str(i)}, b"body %d" % i)
            with t.send(request) as response:
                assert response.status == 200
                assert response.headers["x-seen-x-n"] == str(i)
                assert response.read() == b"body %d" % i
    assert server.accepted == 1


def test_body_streams_lazily(server: Server) -> None:
    with transport() as t, t.send(HttpRequest("GET", server.url("/chunks?n=3"))) as response:
        body = sync_body_of(response)
        assert next(body) == b"A"  # arrived while chunk 1 is still held back by the server
        server.open_gate()
        assert b"".join(body) == b"BC"


def test_threads_share_one_transport(server: Server) -> None:
    errors: list[BaseException] = []
    done: list[int] = []

    def worker(n: int) -> None:
        try:
            for i in range(25):
                body = b"%d-%d" % (n, i)
                with t.send(HttpRequest("POST", server.url("/echo"), body=body)) as response:
                    assert response.read() == body
            done.append(n)
        except BaseException as exc:
            errors.append(exc)

    with transport(max_connections=4) as t:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert errors == []
    assert sorted(done) == list(range(8))
    assert server.accepted <= 4


def test_a_thread_streams_while_another_sends(server: Server) -> None:
    with transport() as t:
        stream = t.send(HttpRequest("GET", server.url("/infinite")))
        result: list[bytes] = []

        def other() -> None:
            with t.send(HttpRequest("POST", server.url("/echo"), body=b"ping")) as response:
                result.append(response.read())

        thread = threading.Thread(target=other)
        thread.start()
        read = 0
        for chunk in stream.iter_bytes():
            read += len(chunk)
            if read > 1_000_000:
                break
        thread.join(timeout=10)
        stream.close()
    assert result == [b"ping"]


def test_pool_timeout(server: Server) -> None:
    with transport(max_connections=1) as t:
        held = t.send(HttpRequest("GET", server.url("/infinite")))
        with pytest.raises(PoolTimeout):
            t.send(HttpRequest("GET", server.url("/echo"), timeout=Timeout(pool=0.1)))
        held.close()
        assert t.send(HttpRequest("GET", server.url("/echo"))).read() == b""


def test_body_limit(server: Server) -> None:
    with transport(max_body_bytes=50_000) as t:
        response = t.send(HttpRequest("GET", server.url("/infinite")))
        with pytest.raises(ResponseTooLarge) as caught:
            response.read()
    assert caught.value.size > 50_000


def test_close_wakes_and_fails_later_use(server: Server) -> None:
    t = transport()
    response = t.send(HttpRequest("GET", server.url("/stall-body")))
    body = sync_body_of(response)
    assert next(body) == b"A"
    closer = threading.Timer(0.2, t.close)
    closer.start()
    started = time.monotonic()
    with pytest.raises(TransportError, match="closed"):
        next(body)
    assert time.monotonic() - started < 5
    with pytest.raises(TransportError, match="closed"):
        t.send(HttpRequest("GET", server.url("/echo")))
    closer.join()


def test_keepalive_limits(server: Server) -> None:
    with transport(max_connections=4, max_keepalive_connections=1) as t:
        # Four responses in flight at once (held behind the gate) need four connections.
        held = [t.send(HttpRequest("GET", server.url("/chunks?n=2"))) for _ in range(4)]
        server.open_gate()
        for response in held:
            assert response.read() == b"AB"
        assert server.accepted == 4
        t.send(HttpRequest("GET", server.url("/echo"))).read()  # reuses the one idle connection
        deadline = time.monotonic() + 5
        while server.open_connections() > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.open_connections() == 1
        assert server.accepted == 4


def test_keepalive_expiry(server: Server) -> None:
    with transport(keepalive_expiry=1.0) as t:
        t.send(HttpRequest("GET", server.url("/echo"))).read()
        t.send(HttpRequest("GET", server.url("/echo"))).read()
        assert server.accepted == 1
        time.sleep(1.3)
        t.send(HttpRequest("GET", server.url("/echo"))).read()
        assert server.accepted == 2  # the idle connection had expired


def test_no_keepalive_closes_every_connection(server: Server) -> None:
    with transport(max_keepalive_connections=0) as t:
        for _ in range(3):
            t.send(HttpRequest("GET", server.url("/echo"))).read()
    assert server.accepted == 3


def test_one_handle_switches_methods_cleanly(server: Server) -> None:
    """Handles are reused without reset(): nothing of one request may leak into the next."""
    sequence = [
        ("GET", b""),
        ("POST", b"first body"),
        ("HEAD", b""),
        ("GET", b""),
        ("PUT", b"put body"),
        ("DELETE", b""),
        ("POST", b""),
        ("DELETE", b"delete body"),
        ("PATCH", b"p"),
        ("GET", b""),
    ]
    with transport(max_connections=1) as t:  # one handle serves every request
        for method, body in sequence:
            request = HttpRequest(method, server.url("/echo"), {"X-M": method}, body)
            with t.send(request) as response:
                data = response.read()
            assert response.headers["x-method"] == method
            assert response.headers["x-seen-x-m"] == method
            assert data == (b"" if method == "HEAD" else body)
            sent = server.requests_seen[-1]
            assert (sent.method, sent.body) == (method, body)
