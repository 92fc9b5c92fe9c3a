"""Typed usage of atoll_curl's public API: pyright checks these `assert_type`s; pytest runs them."""

from __future__ import annotations

from typing import assert_type

import atoll_curl
import pytest
from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_wire import (
    AsyncTransport,
    HttpRequest,
    HttpResponse,
    SyncHttpResponse,
    SyncTransport,
    Timeout,
)

from tests.curl._server import Server


@pytest.mark.anyio
async def test_async_usage(server: Server) -> None:
    transport = CurlTransport(
        timeout=Timeout(connect=5, read=30, write=30, pool=5),
        max_body_bytes=1 << 20,
        trust_env=False,
        max_connections=8,
        buffer_bytes=64 * 1024,
    )
    as_interface: AsyncTransport = transport
    async with transport as entered:
        assert_type(entered, CurlTransport)
        response = await as_interface.send(HttpRequest("POST", server.url("/echo"), body=b"typed"))
        assert_type(response, HttpResponse)
        body = await response.aread()
        assert_type(body, bytes)
    assert (response.status, body) == (200, b"typed")


def test_sync_usage(server: Server) -> None:
    with SyncCurlTransport(timeout=10.0, trust_env=False) as transport:
        assert_type(transport, SyncCurlTransport)
        as_interface: SyncTransport = transport
        with as_interface.send(HttpRequest("GET", server.url("/echo"))) as response:
            assert_type(response, SyncHttpResponse)
            chunks = list(response.iter_bytes())
            assert_type(chunks, list[bytes])
    assert response.status == 200
    assert chunks == []


def test_public_names() -> None:
    assert atoll_curl.__all__ == ("AtollError", "CurlTransport", "SyncCurlTransport")
    assert atoll_curl.__version__ == "0.1.0"
