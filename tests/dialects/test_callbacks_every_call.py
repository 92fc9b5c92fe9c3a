"""Per-call ``callbacks=`` reach every kind of call: each reply of ``output=``, completions."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import pytest
from atoll_dialects import Client, RequestFinished, RequestStarted, SyncClient, TelemetryEvent
from atoll_testing import FakeLLMServer, Script, Turn

pytestmark = pytest.mark.anyio

GOOD = {"score": 4}
BAD = {"score": "four"}
SCHEMA = {
    "type": "object",
    "properties": {"score": {"type": "integer"}},
    "required": ["score"],
    "additionalProperties": False,
}


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer() as srv:
        yield srv


@pytest.fixture
def sync_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


def _kinds(events: list[TelemetryEvent]) -> list[str]:
    return [type(e).__name__ for e in events if isinstance(e, RequestStarted | RequestFinished)]


async def test_output_calls_report_every_reply_to_the_calls_callbacks(
    server: FakeLLMServer,
) -> None:
    server.models["shop"] = Script([json.dumps(BAD), json.dumps(GOOD), "plain"])
    heard: list[TelemetryEvent] = []
    async with Client("shop", base_url=server.base_url) as client:
        reply = await client.chat(
            "Rate it.", output=SCHEMA, output_mode="native", callbacks=[heard.append]
        )
        assert reply.parsed == GOOD
        assert _kinds(heard) == ["RequestStarted", "RequestFinished"] * 2, "the repair too"
        heard.clear()
        await client.chat("no callbacks here")
    assert heard == [], "a call's callbacks hear only that call"


async def test_completions_and_embeddings_report_to_the_calls_callbacks(
    server: FakeLLMServer,
) -> None:
    server.models["coder"] = Script([Turn(text=" world"), Turn(text=" again")])
    heard: list[TelemetryEvent] = []
    async with Client("coder", base_url=server.base_url) as client:
        assert (await client.complete("hello", callbacks=[heard.append])).text == " world"
        async with client.complete_stream("hello", callbacks=[heard.append]) as stream:
            async for _ in stream:
                pass
        await client.embed(["a", "b"], callbacks=[heard.append])
    assert _kinds(heard) == ["RequestStarted", "RequestFinished"] * 3
    finished = [e for e in heard if isinstance(e, RequestFinished)]
    assert (finished[0].usage.output_tokens or 0) > 0, "the completion's usage is reported"


def test_the_sync_client_reports_completions_to_the_calls_callbacks(
    sync_server: FakeLLMServer,
) -> None:
    sync_server.models["coder"] = Script([Turn(text=" world")])
    heard: list[TelemetryEvent] = []
    with SyncClient("coder", base_url=sync_server.base_url) as client:
        assert client.complete("hello", callbacks=[heard.append]).text == " world"
    assert _kinds(heard) == ["RequestStarted", "RequestFinished"]
