"""Issue 24's reliability fixes that live in the Client, each proven against the local server.

Every test here failed on the code before the fix: a custom Anthropic-compatible server got
OpenAI's quirks and a bearer header; ``retry-after: nan`` crashed ``anyio.sleep``; the Client
overrode a transport's own read timeout with 600 s; oversized SSE lines escaped raw, without
``partial``; leaving a stream early on trio warned per stream; echoed credentials survived in
error headers and in mid-stream error payloads; error bodies were read whole.
"""

from __future__ import annotations

import gc
import logging
import time
import warnings
from collections.abc import AsyncIterator, Callable

import anyio
import anyio.lowlevel
import pytest
from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_dialects import (
    Client,
    ClientError,
    InvalidOptionError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamInterrupted,
    SyncClient,
    TimeoutError,
)
from atoll_httpx import HttpxTransport, SyncHttpxTransport
from atoll_testing import ChatInput, FakeLLMServer, Turn
from atoll_wire import AsyncTransport, ReadTimeout, StreamError, SyncTransport, TextDelta, Timeout

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(attempts=2, initial_backoff=0.0, max_backoff=0.0)
ASYNC: dict[str, Callable[..., AsyncTransport]] = {"curl": CurlTransport, "httpx": HttpxTransport}
SYNC: dict[str, Callable[..., SyncTransport]] = {
    "curl": SyncCurlTransport,
    "httpx": SyncHttpxTransport,
}


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(api_key="k") as srv:
        yield srv


def cached_turn(request: ChatInput) -> Turn:
    return Turn(text="cached", input_tokens=30, output_tokens=2, cache_read_tokens=20)


@pytest.mark.parametrize("kind", ["curl", "httpx"])
async def test_custom_anthropic_server_gets_its_dialects_auth_and_usage(
    server: FakeLLMServer, kind: str
) -> None:
    server.models["my-claude"] = cached_turn
    async with (
        ASYNC[kind]() as transport,
        Client(
            "my-claude",
            base_url=server.base_url,
            dialect="anthropic-messages",
            api_key="k",
            transport=transport,
        ) as client,
    ):
        reply = await client.chat("hello")
    # The server accepts only x-api-key on its Anthropic routes: a bearer header would be a 401.
    assert server.requests[-1].headers.get("x-api-key") == "[redacted]"
    assert "authorization" not in server.requests[-1].headers
    # Anthropic reports cache reads apart from input (10 + 20 here): the neutral input count is
    # their sum; with OpenAI's quirks it was 10.
    assert reply.usage.cache_read_tokens == 20
    assert reply.usage.input_tokens == 30


@pytest.mark.parametrize("value", ["nan", "inf", "-3"])
async def test_an_unusable_retry_after_falls_back_to_the_backoff(
    server: FakeLLMServer, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with Client("echo", base_url=server.base_url, api_key="k", retry=FAST) as client:
        with caplog.at_level(logging.INFO, logger="atoll_dialects"):
            with pytest.raises(RateLimitError) as info:
                await client.chat(
                    "x", extra_headers={"x-atoll-fault": f"429; header.retry-after={value}"}
                )
    assert info.value.retry_after is None
    assert len(server.requests) == 2, "retried once with the policy's backoff"
    assert any("unusable retry-after" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("kind", ["curl", "httpx"])
async def test_a_transports_own_read_timeout_is_kept(server: FakeLLMServer, kind: str) -> None:
    started = time.monotonic()
    async with (
        ASYNC[kind](timeout=Timeout(connect=5, read=0.5, write=5, pool=5)) as transport,
        Client(
            "echo",
            base_url=server.base_url,
            api_key="k",
            transport=transport,
            retry=RetryPolicy.none(),
        ) as client,
    ):
        with pytest.raises(ReadTimeout):
            await client.chat("x", extra_headers={"x-atoll-fault": "delay=30"})
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("kind", ["curl", "httpx"])
def test_a_sync_transports_read_timeout_is_kept_under_a_deadline(kind: str) -> None:
    with FakeLLMServer(api_key="k").run_in_thread() as srv:
        started = time.monotonic()
        with (
            SYNC[kind](timeout=Timeout(connect=5, read=0.5, write=5, pool=5)) as transport,
            SyncClient(
                "echo",
                base_url=srv.base_url,
                api_key="k",
                transport=transport,
                retry=RetryPolicy.none(),
                timeout=20,  # the deadline caps phases, but never lengthens the transport's 0.5 s
            ) as client,
        ):
            with pytest.raises(ReadTimeout):
                client.chat("x", extra_headers={"x-atoll-fault": "delay=30"})
        assert time.monotonic() - started < 10


async def test_the_call_timeout_wins_over_the_transport(server: FakeLLMServer) -> None:
    async with (
        CurlTransport(timeout=Timeout(read=30)) as transport,
        Client("echo", base_url=server.base_url, api_key="k", transport=transport) as client,
    ):
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.chat("x", timeout=0.5, extra_headers={"x-atoll-fault": "delay=30"})
    assert time.monotonic() - started < 5


async def test_a_per_call_timeout_is_checked(server: FakeLLMServer) -> None:
    async with Client("echo", base_url=server.base_url, api_key="k") as client:
        with pytest.raises(InvalidOptionError, match="timeout='5'"):
            await client.chat("x", timeout="5")  # type: ignore[arg-type]


async def test_an_oversized_sse_line_ends_the_stream_with_its_partial(
    server: FakeLLMServer,
) -> None:
    server.models["huge"] = lambda _: Turn(chunks=["first ", "x" * (17 * 1024 * 1024)])
    async with Client("huge", base_url=server.base_url, api_key="k", retry=FAST) as client:
        seen: list[str] = []
        with pytest.raises(StreamInterrupted) as info:
            async with client.stream("go") as stream:
                async for event in stream:
                    if isinstance(event, TextDelta):
                        seen.append(event.text)
    assert seen == ["first "]
    assert info.value.partial is not None
    assert info.value.partial.text == "first "
    assert info.value.partial.incomplete


async def test_leaving_streams_early_warns_nothing(
    server: FakeLLMServer, anyio_backend: str
) -> None:
    async with Client("stream-50", base_url=server.base_url, api_key="k") as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(50):
                async with client.stream("x") as stream:
                    async for _event in stream:
                        break
            gc.collect()
            await anyio.lowlevel.checkpoint()
    ours = [str(w.message) for w in caught if "generator" in str(w.message)]
    assert ours == []


async def test_echoed_credentials_are_masked_in_headers_and_stream_errors(
    server: FakeLLMServer,
) -> None:
    secret = "sk-proj-abcdefghijklmnop0123456789"
    fault = f"500; header.x-echo-auth=Bearer {secret}"
    async with Client("echo", base_url=server.base_url, api_key="k", retry=FAST) as client:
        with pytest.raises(ServerError) as info:
            await client.chat("x", extra_headers={"x-atoll-fault": fault})
        assert secret not in repr(info.value.headers)
        leak = f"error-event=1; message=bad key {secret}"
        events: list[object] = []
        with pytest.raises(Exception) as mid:
            async with client.stream("one two three", extra_headers={"x-atoll-fault": leak}) as s:
                async for event in s:
                    events.append(event)
    (error_event,) = [e for e in events if isinstance(e, StreamError)]
    assert secret not in error_event.message
    assert secret not in repr(error_event.raw)
    assert secret not in str(mid.value)
    assert getattr(mid.value, "partial", None) is not None
    assert secret not in repr(mid.value.partial)  # type: ignore[attr-defined]


async def test_an_unmapped_4xx_is_a_client_error(server: FakeLLMServer) -> None:
    async with Client("echo", base_url=server.base_url, api_key="k", retry=FAST) as client:
        with pytest.raises(ClientError) as info:
            await client.chat("x", extra_headers={"x-atoll-fault": "418"})
    assert info.value.status == 418
    assert len(server.requests) == 1, "a client error is not retried"


async def test_a_huge_error_body_is_read_only_to_the_cap(server: FakeLLMServer) -> None:
    huge = "e" * (8 * 1024 * 1024)
    server.models["broken"] = lambda _: Turn(fault=f"500; message={huge}")
    async with Client("broken", base_url=server.base_url, api_key="k", retry=FAST) as client:
        started = time.monotonic()
        with pytest.raises(ServerError) as info:
            await client.chat("x")
    assert len(info.value.body) <= 2001
    assert time.monotonic() - started < 10
