"""Typed usage of atoll_httpx: pyright checks this file, pytest runs it.

It shows what a caller writes and what types come back, so an annotation regression in the
package surfaces as a pyright error here.
"""

from __future__ import annotations

from typing import assert_type

import pytest
from atoll_httpx import HttpxTransport, SyncHttpxTransport
from atoll_wire import (
    AsyncTransport,
    HttpRequest,
    HttpResponse,
    SyncHttpResponse,
    SyncTransport,
    Timeout,
)

from tests.transports._peer import PlainServer

pytestmark = pytest.mark.anyio


async def fetch(transport: AsyncTransport, url: str) -> bytes:
    response = await transport.send(HttpRequest("GET", url, timeout=Timeout(read=5)))
    assert_type(response, HttpResponse)
    async with response:
        return await response.aread()


def fetch_sync(transport: SyncTransport, url: str) -> bytes:
    with transport.send(HttpRequest("GET", url, timeout=5.0)) as response:
        assert_type(response, SyncHttpResponse)
        return response.read()


async def test_typed_usage() -> None:
    with PlainServer() as server:
        transport: AsyncTransport = HttpxTransport(timeout=10.0, max_body_bytes=None)
        async with transport:
            assert await fetch(transport, server.url("/status/200")) == b"status 200"
        sync: SyncTransport = SyncHttpxTransport(backend="httpx2", max_connections=4)
        with sync:
            assert fetch_sync(sync, server.url("/status/201")) == b"status 201"
        concrete = HttpxTransport(http2=False)
        assert_type(concrete.backend, str)
        assert_type(concrete.http2, bool | None)
        assert_type(concrete.closed, bool)
        await concrete.aclose()
