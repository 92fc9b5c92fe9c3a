"""The blocking transport under SyncClient, and the raw HTTP surface both transports share."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from atoll_dialects import SyncClient
from atoll_local import LocalModel, LocalTransport, SyncLocalTransport
from atoll_wire import HttpRequest, TextDelta, TransportError

URL = "local://models/chat/completions"


def test_sync_client_chat_and_stream_match_the_async_answer(chat_model: LocalModel) -> None:
    transport = SyncLocalTransport({"tiny": chat_model}, own_models=False)
    with SyncClient("local/tiny", transport=transport) as client:
        reply = client.chat("sync", max_tokens=20, seed=8)
        with client.stream("sync", max_tokens=20, seed=8) as stream:
            text = "".join(e.text for e in stream if isinstance(e, TextDelta))
    assert reply.usage is not None and reply.usage.output_tokens == 20
    assert text == reply.text == stream.response.text


def test_sync_stream_closed_early_frees_the_model(chat_model: LocalModel) -> None:
    transport = SyncLocalTransport({"tiny": chat_model}, own_models=False)
    before = chat_model.stats
    with SyncClient("local/tiny", transport=transport) as client:
        with client.stream("long", max_tokens=900, seed=1) as stream:
            for event in stream:
                if isinstance(event, TextDelta):
                    break
        reply = client.chat("after", max_tokens=2, seed=1)
    after = chat_model.stats
    assert reply.usage is not None and after.cancelled - before.cancelled == 1
    assert after.tokens_after_cancel - before.tokens_after_cancel <= 1


def test_threads_share_one_model_in_turn(chat_model: LocalModel) -> None:
    transport = SyncLocalTransport({"tiny": chat_model}, own_models=False)
    texts: dict[int, str] = {}

    def call(index: int) -> None:
        with SyncClient("local/tiny", transport=transport) as client:
            texts[index] = client.chat("same", max_tokens=15, seed=42).text

    threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(texts.values())) == 1  # the same seed, served one at a time


@pytest.mark.anyio
async def test_raw_requests_and_error_shapes(chat_model: LocalModel) -> None:
    async with LocalTransport({"tiny": chat_model}, own_models=False) as transport:
        listed = await transport.send(HttpRequest("GET", "local://models/models"))
        assert [m["id"] for m in json.loads(await listed.aread())["data"]] == ["tiny"]
        missing = await transport.send(
            HttpRequest("POST", "local://models/completions", body=b"{}")
        )
        assert missing.status == 404
        wrong = await transport.send(HttpRequest("GET", URL))
        assert wrong.status == 405
        bad = await transport.send(HttpRequest("POST", URL, body=b"{not json"))
        error = json.loads(await bad.aread())["error"]
        assert bad.status == 400 and error["type"] == "invalid_request_error"
        body = {"model": "tiny", "messages": [{"role": "user", "content": "x"}], "max_tokens": 3}
        ok = await transport.send(HttpRequest("POST", URL, body=json.dumps(body).encode()))
        answer = json.loads(await ok.aread())
        assert answer["object"] == "chat.completion" and answer["usage"]["completion_tokens"] == 3
        assert answer["choices"][0]["finish_reason"] == "length"
        with pytest.raises(TransportError, match="local:// URLs only"):
            await transport.send(HttpRequest("POST", "http://127.0.0.1:9/v1/chat/completions"))
    with pytest.raises(TransportError, match="closed"):
        await transport.send(HttpRequest("POST", URL, body=b"{}"))


@pytest.mark.anyio
async def test_stream_bytes_are_openai_sse(chat_model: LocalModel) -> None:
    body = {
        "model": "tiny",
        "messages": [{"role": "user", "content": "x"}],
        "max_tokens": 4,
        "stream": True,
        "stream_options": {"include_usage": True},
        "seed": 1,
    }
    async with LocalTransport({"tiny": chat_model}, own_models=False) as transport:
        response = await transport.send(HttpRequest("POST", URL, body=json.dumps(body).encode()))
        assert response.headers["content-type"] == "text/event-stream"
        raw = (await response.aread()).decode()
    events = [e.removeprefix("data: ") for e in raw.split("\n\n") if e]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 4
    assert len({c["id"] for c in chunks}) == 1


def test_a_model_closed_mid_queue_fails_its_callers(chat_gguf: Path) -> None:
    model = LocalModel(chat_gguf, n_ctx=128)
    transport = SyncLocalTransport({"m": model})
    transport.load()
    transport.close()
    assert not model.loaded
    with pytest.raises(TransportError, match="closed"):
        transport.send(HttpRequest("POST", URL, body=b"{}"))
