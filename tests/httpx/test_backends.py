"""Choosing httpx or httpx2, bringing your own client, and what a transport shows of itself."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator

import anyio
import anyio.to_thread
import httpx
import httpx2
import pytest
from atoll_httpx import HttpxTransport, SyncHttpxTransport
from atoll_wire import HttpRequest, ResponseTooLarge, TransportError

from tests.transports._peer import PlainServer, pattern

pytestmark = pytest.mark.anyio


@pytest.fixture
def server() -> Iterator[PlainServer]:
    with PlainServer() as peer:
        yield peer


async def test_httpx_is_preferred() -> None:
    async with HttpxTransport() as transport:
        assert transport.backend == "httpx"
    with SyncHttpxTransport() as sync:
        assert sync.backend == "httpx"


@pytest.mark.parametrize("backend", ["httpx", "httpx2"])
async def test_backend_can_be_chosen(backend: str, server: PlainServer) -> None:
    chosen = "httpx2" if backend == "httpx2" else "httpx"
    async with HttpxTransport(backend=chosen) as transport:
        assert transport.backend == chosen
        response = await transport.send(HttpRequest("POST", server.url("/echo"), body=b"hi"))
        assert await response.aread() == b"hi"
    with SyncHttpxTransport(backend=chosen) as sync:
        assert sync.send(HttpRequest("GET", server.url("/status/200"))).read() == b"status 200"


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        HttpxTransport(backend="requests")  # type: ignore[arg-type]


def test_httpx2_is_used_when_httpx_is_missing() -> None:
    # A fresh interpreter where `import httpx` fails: the transport must fall back to httpx2.
    code = textwrap.dedent(
        """
        import sys
        sys.modules["httpx"] = None  # makes `import httpx` raise ImportError
        from atoll_httpx import HttpxTransport, SyncHttpxTransport
        print(HttpxTransport().backend, SyncHttpxTransport().backend)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["httpx2", "httpx2"]


def test_no_backend_at_all_names_what_to_install() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["httpx"] = None
        sys.modules["httpx2"] = None
        from atoll_httpx import HttpxTransport
        try:
            HttpxTransport()
        except ImportError as exc:
            print(exc)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "pip install" in result.stdout
    assert "httpx2" in result.stdout


async def test_own_httpx2_client(server: PlainServer) -> None:
    client = httpx2.AsyncClient(headers={"x-from-client": "yes"})
    transport = HttpxTransport(client=client)  # type: ignore[arg-type]
    assert transport.backend == "httpx2"
    response = await transport.send(HttpRequest("GET", server.url("/echo")))
    await response.aread()
    assert server.requests[-1].header("x-from-client") == "yes"
    await transport.aclose()
    # The caller owns the client: closing the transport leaves it open.
    assert not client.is_closed
    await client.aclose()


def test_own_sync_client(server: PlainServer) -> None:
    with httpx.Client(headers={"x-from-client": "sync"}) as client:
        with SyncHttpxTransport(client=client) as transport:
            assert transport.backend == "httpx"
            transport.send(HttpRequest("GET", server.url("/echo"))).read()
        assert not client.is_closed
    assert server.requests[-1].header("x-from-client") == "sync"


async def test_own_client_refuses_connection_options() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(ValueError, match=r"verify, max_connections cannot be combined"):
            HttpxTransport(client=client, verify=False, max_connections=3)
        with pytest.raises(ValueError, match="httpx client"):
            HttpxTransport(client=client, backend="httpx2")
    with pytest.raises(TypeError, match="httpx or httpx2"):
        HttpxTransport(client=object())  # type: ignore[arg-type]


async def test_closed_transport_refuses_requests(server: PlainServer) -> None:
    transport = HttpxTransport()
    await transport.aclose()
    await transport.aclose()  # idempotent
    assert transport.closed
    with pytest.raises(TransportError, match="closed"):
        await transport.send(HttpRequest("GET", server.url("/status/200")))
    sync = SyncHttpxTransport()
    sync.close()
    with pytest.raises(TransportError, match="closed"):
        sync.send(HttpRequest("GET", server.url("/status/200")))


async def test_cookies_do_not_stick(server: PlainServer) -> None:
    # A transport is stateless: a Set-Cookie must not ride along on the next request.
    async with HttpxTransport() as transport:
        first = await transport.send(HttpRequest("GET", server.url("/set-cookie")))
        assert first.headers["set-cookie"].startswith("session=abc")
        await first.aread()
        second = await transport.send(HttpRequest("GET", server.url("/echo")))
        await second.aread()
    assert server.requests[-1].header("cookie") is None


def test_repr_shows_configuration_not_secrets() -> None:
    transport = SyncHttpxTransport(proxy="http://user:hunter2@127.0.0.1:3128")
    shown = repr(transport)
    assert shown.startswith("SyncHttpxTransport(backend='httpx'")
    assert "hunter2" not in shown
    transport.close()


@pytest.mark.parametrize("backend", ["httpx", "httpx2"])
async def test_compressed_bodies_are_decoded_and_limited(backend: str, server: PlainServer) -> None:
    chosen = "httpx2" if backend == "httpx2" else "httpx"
    async with HttpxTransport(backend=chosen) as transport:
        response = await transport.send(HttpRequest("GET", server.url("/gzip?size=100000")))
        assert response.headers["content-encoding"] == "gzip"
        assert await response.aread() == pattern(100_000)
        # The limit counts decoded bytes: a small compressed body cannot smuggle a big one in.
        bomb = HttpRequest(
            "GET", server.url("/gzip?size=100000"), extensions={"max_body_bytes": 50_000}
        )
        with pytest.raises(ResponseTooLarge):
            await (await transport.send(bomb)).aread()
    with SyncHttpxTransport(backend=chosen) as sync:
        assert sync.send(HttpRequest("GET", server.url("/gzip?size=1000"))).read() == pattern(1000)


async def test_head_response_is_not_held_to_its_content_length(server: PlainServer) -> None:
    # A HEAD answer announces the GET body's length but carries no body: not "too large".
    async with HttpxTransport(max_body_bytes=10) as transport:
        response = await transport.send(HttpRequest("HEAD", server.url("/large?size=5000")))
        assert response.headers["content-length"] == "5000"
        assert await response.aread() == b""


def test_aclose_from_another_event_loop_is_refused(server: PlainServer) -> None:
    # Its pooled connections belong to the first loop: closing them from another one cannot be
    # done cleanly, so it says so rather than failing inside httpx.
    transport = HttpxTransport(trust_env=False)

    async def use() -> None:
        response = await transport.send(HttpRequest("GET", server.url("/status/200")))
        await response.aread()

    async def close_in_a_thread_loop() -> None:
        await use()
        with pytest.raises(TransportError, match="event loop"):
            await anyio.to_thread.run_sync(lambda: anyio.run(transport.aclose))
        assert transport.closed
        await transport._client.aclose()  # pyright: ignore[reportPrivateUsage]  # tidy up here

    anyio.run(close_in_a_thread_loop)
