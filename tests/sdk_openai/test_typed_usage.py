"""Typed usage of atoll_openai_sdk: pyright checks the `assert_type`s; pytest runs them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import assert_type

import atoll_openai_sdk
import openai
import pytest
from atoll_openai_sdk import OpenAISDKTransport, SyncOpenAISDKTransport
from atoll_wire import (
    AsyncTransport,
    HttpRequest,
    HttpResponse,
    SyncHttpResponse,
    SyncTransport,
)

from tests.transports._peer import PlainServer


@pytest.fixture
def server() -> Iterator[PlainServer]:
    with PlainServer() as peer:
        yield peer


@pytest.mark.anyio
async def test_async_usage(server: PlainServer) -> None:
    async with openai.AsyncOpenAI(api_key="sk-typed", base_url=server.url("/v1")) as sdk:
        transport = OpenAISDKTransport(sdk, max_body_bytes=1 << 20)
        assert_type(transport.client, openai.AsyncOpenAI)
        as_interface: AsyncTransport = transport
        async with transport as entered:
            assert_type(entered, OpenAISDKTransport)
            request = HttpRequest("POST", server.url("/v1/echo"), body=b"typed")
            response = await as_interface.send(request)
            assert_type(response, HttpResponse)
            body = await response.aread()
            assert_type(body, bytes)
    assert response.status == 404  # the peer has no /v1/echo: a response, not an error
    assert server.requests[-1].body == b"typed"


def test_sync_usage(server: PlainServer) -> None:
    with openai.OpenAI(api_key="sk-typed", base_url=server.url("/")) as sdk:
        with SyncOpenAISDKTransport(sdk, use_client_endpoint=True) as transport:
            assert_type(transport, SyncOpenAISDKTransport)
            as_interface: SyncTransport = transport
            with as_interface.send(HttpRequest("GET", server.url("/status/200"))) as response:
                assert_type(response, SyncHttpResponse)
                chunks = list(response.iter_bytes())
                assert_type(chunks, list[bytes])
    assert b"".join(chunks) == b"status 200"


def test_public_names() -> None:
    assert atoll_openai_sdk.__all__ == (
        "AtollError",
        "OpenAISDKTransport",
        "SyncOpenAISDKTransport",
    )
    assert atoll_openai_sdk.__version__ == "0.1.0"
