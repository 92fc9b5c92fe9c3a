"""OpenAI chat completions over plain httpx: echo, streams with usage, the request log."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from atoll_testing import FakeLLMServer, Script, ToolCall, Turn

Sse = Callable[[str], list[tuple[str, Any]]]
BODY = {
    "model": "echo",
    "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hello there  world"},
    ],
}


def test_echo_non_stream(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        resp = client.post("/chat/completions", json=BODY)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    data = resp.json()
    assert data["object"] == "chat.completion"
    assert data["model"] == "echo"
    choice = data["choices"][0]
    assert choice["message"] == {
        "role": "assistant",
        "content": "hello there  world",
        "refusal": None,
        "annotations": [],
    }
    assert choice["finish_reason"] == "stop"
    # whitespace tokens: "be brief" (2) + "hello there  world" (3) in, 3 out
    assert data["usage"]["prompt_tokens"] == 5
    assert data["usage"]["completion_tokens"] == 3
    assert data["usage"]["total_tokens"] == 8


def test_echo_stream_with_usage(server: FakeLLMServer, sse: Sse) -> None:
    body = {**BODY, "stream": True, "stream_options": {"include_usage": True}}
    with httpx.Client(base_url=server.base_url) as client:
        resp = client.post("/chat/completions", json=body)
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["transfer-encoding"] == "chunked"
    events = sse(resp.text)
    assert events[-1] == ("message", "[DONE]")
    chunks = [d for _, d in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "hello there  world"
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finish[-1] == "stop" and set(finish[:-1]) == {None}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 3
    assert all(c["usage"] is None for c in chunks[:-1])


def test_stream_without_usage_has_no_usage_chunk(server: FakeLLMServer, sse: Sse) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        resp = client.post("/chat/completions", json={**BODY, "stream": True})
    chunks = [d for _, d in sse(resp.text)[:-1]]
    assert all("usage" not in c for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("count", [1, 200, 5000])
def test_stream_n_model(server: FakeLLMServer, sse: Sse, count: int) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        resp = client.post(
            "/chat/completions", json={"model": f"stream-{count}", "messages": [], "stream": True}
        )
    chunks = [d for _, d in sse(resp.text)[:-1]]
    deltas = [c["choices"][0]["delta"]["content"] for c in chunks[1:-1]]
    assert deltas == [f"tok{i} " for i in range(count)]


def test_request_log_redacts_secrets_and_counts(server: FakeLLMServer) -> None:
    server.clear()
    headers = {
        "Authorization": "Bearer sk-secret-123",
        "x-api-key": "sk-ant-456",
        "x-custom": "kept",
    }
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        client.post("/chat/completions", json=BODY)
        client.post("/chat/completions", json={**BODY, "model": "stream-3"})
    log = server.requests
    assert [r.model for r in log] == ["echo", "stream-3"]
    assert log[0].method == "POST" and log[0].path == "/v1/chat/completions"
    assert log[0].headers["authorization"] == "[redacted]"
    assert log[0].headers["x-api-key"] == "[redacted]"
    assert log[0].headers["x-custom"] == "kept"
    assert "sk-secret" not in repr(log) and "sk-ant" not in repr(log)
    assert log[0].json() == BODY
    assert server.counts == {"echo": 1, "stream-3": 1}


def test_unknown_model_is_openai_404(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        resp = client.post("/chat/completions", json={**BODY, "model": "nope"})
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "model_not_found"


def test_bad_body_is_400(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        resp = client.post("/chat/completions", content=b'{"model": 3}')
    assert resp.status_code == 400
    assert resp.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.anyio
async def test_async_context_manager_on_both_backends(sse: Sse) -> None:
    async with FakeLLMServer() as srv:
        assert srv.base_url.endswith("/v1")
        assert srv.base_url.startswith("http://127.0.0.1:")
        async with httpx.AsyncClient(base_url=srv.base_url) as client:
            resp = await client.post("/chat/completions", json=BODY)
            assert resp.json()["choices"][0]["message"]["content"] == "hello there  world"
            async with client.stream(
                "POST", "/chat/completions", json={**BODY, "stream": True}
            ) as stream:
                raw = b"".join([part async for part in stream.aiter_bytes()])
        assert sse(raw.decode())[-1][1] == "[DONE]"
        assert len(srv.requests) == 2
    assert srv.port == 0  # stopped


def test_query_secrets_are_redacted(server: FakeLLMServer) -> None:
    httpx.post(server.base_url + "/chat/completions?key=AIzaSECRET&alt=sse", json=BODY)
    entry = server.requests[-1]
    assert "AIzaSECRET" not in entry.query
    assert "alt=sse" in entry.query


def test_streams_decode_with_atoll_wire(server: FakeLLMServer) -> None:
    from atoll_wire import SSEDecoder

    with (
        httpx.Client(base_url=server.base_url) as client,
        client.stream("POST", "/chat/completions", json={**BODY, "stream": True}) as resp,
    ):
        decoder = SSEDecoder()
        events = [e for part in resp.iter_bytes() for e in decoder.feed(part)]
        events.extend(decoder.flush())
    assert events[-1].data == "[DONE]"
    assert all(e.event == "message" for e in events)


RICH = Turn(
    thinking="the user wants the weather in two cities, so two calls",
    text="checking",
    tool_calls=[
        ToolCall(name="get_weather", arguments={"city": "Paris", "unit": "celsius"}, id="call_a"),
        ToolCall(name="get_weather", arguments={"city": "Oslo"}),
    ],
    reasoning_tokens=5,
)


@pytest.fixture(scope="module")
def rich() -> Iterator[FakeLLMServer]:
    with FakeLLMServer(models={"rich": Script([RICH], repeat_last=True)}).run_in_thread() as srv:
        yield srv


def test_rich_completion(rich: FakeLLMServer) -> None:
    resp = httpx.post(rich.base_url + "/chat/completions", json={**BODY, "model": "rich"})
    choice = resp.json()["choices"][0]
    message = choice["message"]
    assert choice["finish_reason"] == "tool_calls"
    assert message["content"] == "checking"
    assert message["reasoning_content"] == RICH.thinking
    calls = message["tool_calls"]
    assert [c["type"] for c in calls] == ["function", "function"]
    assert calls[0]["id"] == "call_a" and calls[1]["id"].startswith("call_")
    assert calls[0]["id"] != calls[1]["id"]
    assert [json.loads(c["function"]["arguments"]) for c in calls] == [
        {"city": "Paris", "unit": "celsius"},
        {"city": "Oslo"},
    ]
    usage = resp.json()["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 5


def test_rich_stream_parallel_tool_calls_and_reasoning(rich: FakeLLMServer, sse: Sse) -> None:
    body = {**BODY, "model": "rich", "stream": True, "stream_options": {"include_usage": True}}
    resp = httpx.post(rich.base_url + "/chat/completions", json=body)
    events = sse(resp.text)
    assert events[-1] == ("message", "[DONE]")
    chunks = [d for _, d in events[:-1]]
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    reasoning = "".join(d.get("reasoning_content", "") for d in deltas)
    assert reasoning == RICH.thinking
    assert sum("reasoning_content" in d for d in deltas) > 1  # streamed in pieces
    assert "".join(d.get("content") or "" for d in deltas) == "checking"
    # reasoning comes before the text, the text before the calls
    kinds = [k for d in deltas for k in ("reasoning_content", "content", "tool_calls") if d.get(k)]
    assert kinds == sorted(kinds, key=["reasoning_content", "content", "tool_calls"].index)
    # tool calls: the first fragment of each index carries id, type and name; arguments append
    fragments = [f for d in deltas for f in d.get("tool_calls", [])]
    by_index: dict[int, list[dict[str, Any]]] = {}
    for fragment in fragments:
        by_index.setdefault(fragment["index"], []).append(fragment)
    assert sorted(by_index) == [0, 1]
    names, arguments = [], []
    for index in (0, 1):
        first, *rest = by_index[index]
        assert first["type"] == "function" and first["id"]
        assert all("id" not in f and "name" not in f["function"] for f in rest)
        names.append(first["function"]["name"])
        arguments.append(json.loads("".join(f["function"]["arguments"] for f in by_index[index])))
    assert len(by_index[0]) > 2  # arguments arrive in several fragments
    assert by_index[0][0]["id"] == "call_a"
    assert names == ["get_weather", "get_weather"]
    assert arguments == [{"city": "Paris", "unit": "celsius"}, {"city": "Oslo"}]
    finishes = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]]
    assert finishes[-1] == "tool_calls" and set(finishes[:-1]) == {None}
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] == 5
