"""SyncClient: the same behaviour on the sync transports, with no event loop."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from atoll_dialects import RetryPolicy, ServerError, StreamInterrupted, SyncClient, TimeoutError
from atoll_testing import FakeLLMServer
from atoll_wire import SyncTransport, TextDelta


def _factories() -> dict[str, Callable[[], SyncTransport]]:
    from atoll_curl import SyncCurlTransport
    from atoll_httpx import SyncHttpxTransport

    return {"curl": SyncCurlTransport, "httpx": SyncHttpxTransport}


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


@pytest.fixture(params=["curl", "httpx"])
def transport(request: pytest.FixtureRequest) -> Iterator[SyncTransport]:
    with _factories()[request.param]() as made:
        yield made


def test_chat_and_stream(server: FakeLLMServer, transport: SyncTransport) -> None:
    client = SyncClient("echo", base_url=server.base_url, transport=transport)
    assert client.chat("sync hello").text == "sync hello"
    with client.stream("a b c") as stream:
        text = "".join(e.text for e in stream if isinstance(e, TextDelta))
    assert text == "a b c"
    assert stream.response.text == "a b c"


def test_retries_then_succeeds(server: FakeLLMServer, transport: SyncTransport) -> None:
    server.clear()
    server.inject("status=502", times=2)
    policy = RetryPolicy(attempts=3, initial_backoff=0.0)
    client = SyncClient("echo", base_url=server.base_url, transport=transport, retry=policy)
    reply = client.chat("third time")
    assert reply.text == "third time"
    assert [a.status for a in reply.attempts] == [502, 502]


def test_disconnect_mid_stream(server: FakeLLMServer, transport: SyncTransport) -> None:
    server.clear()
    server.inject("disconnect-events=3")
    client = SyncClient("stream-40", base_url=server.base_url, transport=transport)
    with pytest.raises(StreamInterrupted) as caught, client.stream("go") as stream:
        for _ in stream:
            pass
    assert caught.value.partial is not None and caught.value.partial.incomplete


def test_deadline(server: FakeLLMServer, transport: SyncTransport) -> None:
    server.clear()
    server.inject("delay=3")
    client = SyncClient("echo", base_url=server.base_url, transport=transport, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        client.chat("slow")
    assert time.monotonic() - started < 2.0


def test_fallback_and_the_final_errors_note(
    server: FakeLLMServer, transport: SyncTransport
) -> None:
    server.clear()
    server.inject("status=503")
    policy = RetryPolicy(attempts=1)
    client = SyncClient(
        ["first", "echo"], base_url=server.base_url, transport=transport, retry=policy
    )
    reply = client.chat("second model")
    assert (reply.served_by, reply.text) == ("custom/echo", "second model")
    assert [(a.model, a.status) for a in reply.attempts] == [("custom/first", 503)]
    server.inject("status=503", times=2)
    with pytest.raises(ServerError) as caught:
        client.chat("both down")
    assert caught.value.__notes__ == [
        "attempts: custom/first #1 ServerError 503; custom/echo #1 ServerError 503"
    ]


def test_embed_on_the_sync_path(server: FakeLLMServer, transport: SyncTransport) -> None:
    client = SyncClient("echo", base_url=server.base_url, transport=transport)
    vectors = client.embed(["a", "b", "a"])
    assert len(vectors.vectors) == 3
    assert vectors.vectors[0] == vectors.vectors[2], "the fake server's vectors are deterministic"
    assert vectors.vectors[0] != vectors.vectors[1]
