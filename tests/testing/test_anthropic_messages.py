"""Anthropic Messages over plain httpx: text, tool_use, thinking, every event type, errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from atoll_testing import FakeLLMServer, Script, ToolCall, Turn

Sse = Callable[[str], list[tuple[str, Any]]]
BODY: dict[str, Any] = {
    "model": "echo",
    "max_tokens": 100,
    "system": "be brief",
    "messages": [{"role": "user", "content": [{"type": "text", "text": "hello world"}]}],
}
RICH = Turn(
    thinking="let me think about it",
    text="calling tools now",
    tool_calls=[
        ToolCall(name="get_weather", arguments={"city": "Paris", "units": "metric"}, id="toolu_1"),
        ToolCall(name="get_time", arguments={"tz": "Europe/Paris"}),
    ],
    cache_read_tokens=2,
)


@pytest.fixture(scope="module")
def rich() -> Iterator[FakeLLMServer]:
    script = Script([RICH], repeat_last=True)
    with FakeLLMServer(models={"rich": script}).run_in_thread() as srv:
        yield srv


def test_echo_message(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        resp = client.post("/v1/messages", json=BODY)
    assert resp.status_code == 200
    data = resp.json()
    assert data["type"] == "message" and data["role"] == "assistant"
    assert data["content"] == [{"type": "text", "text": "hello world"}]
    assert data["stop_reason"] == "end_turn"
    assert data["stop_sequence"] is None
    assert data["usage"]["input_tokens"] == 4
    assert data["usage"]["output_tokens"] == 2
    assert resp.headers["request-id"].startswith("req_")


def test_rich_message(rich: FakeLLMServer) -> None:
    with httpx.Client(base_url=rich.url) as client:
        data = client.post("/v1/messages", json={**BODY, "model": "rich"}).json()
    kinds = [b["type"] for b in data["content"]]
    assert kinds == ["thinking", "text", "tool_use", "tool_use"]
    assert data["content"][0]["thinking"] == "let me think about it"
    assert data["content"][0]["signature"]
    assert data["content"][2] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "get_weather",
        "input": {"city": "Paris", "units": "metric"},
    }
    assert data["content"][3]["id"].startswith("toolu_")
    assert data["stop_reason"] == "tool_use"
    # input_tokens excludes cache reads in Anthropic's convention (4 total, 2 cached)
    assert data["usage"]["input_tokens"] == 2
    assert data["usage"]["cache_read_input_tokens"] == 2


def test_rich_stream_has_every_event_type(rich: FakeLLMServer, sse: Sse) -> None:
    with httpx.Client(base_url=rich.url) as client:
        resp = client.post("/v1/messages", json={**BODY, "model": "rich", "stream": True})
    events = sse(resp.text)
    names = [e for e, _ in events]
    assert all(d["type"] == e for e, d in events)  # event name always matches data.type
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names
    deltas = [d["delta"]["type"] for e, d in events if e == "content_block_delta"]
    assert {"thinking_delta", "signature_delta", "text_delta", "input_json_delta"} <= set(deltas)
    # rebuild blocks from the stream
    blocks: dict[int, dict[str, Any]] = {}
    stops: list[int] = []
    for name, data in events:
        if name == "content_block_start":
            blocks[data["index"]] = {**data["content_block"], "partial": ""}
        elif name == "content_block_delta":
            block, delta = blocks[data["index"]], data["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] += delta["signature"]
            else:
                block["partial"] += delta["partial_json"]
        elif name == "content_block_stop":
            stops.append(data["index"])
    assert stops == [0, 1, 2, 3]
    assert blocks[0]["thinking"] == "let me think about it" and blocks[0]["signature"]
    assert blocks[1]["text"] == "calling tools now"
    assert json.loads(blocks[2]["partial"]) == {"city": "Paris", "units": "metric"}
    assert blocks[3]["name"] == "get_time"
    message_delta = events[-2][1]
    assert message_delta["delta"]["stop_reason"] == "tool_use"
    assert message_delta["usage"]["output_tokens"] > 0


def test_echo_stream(server: FakeLLMServer, sse: Sse) -> None:
    with httpx.Client(base_url=server.url) as client:
        resp = client.post("/v1/messages", json={**BODY, "stream": True})
    events = sse(resp.text)
    text = "".join(d["delta"]["text"] for e, d in events if e == "content_block_delta")
    assert text == "hello world"
    assert events[0][1]["message"]["usage"]["input_tokens"] == 4


def test_errors_in_anthropic_shape(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        missing = client.post("/v1/messages", json={**BODY, "model": "nope"})
        bad = client.post("/v1/messages", json={"model": "echo"})
    assert missing.status_code == 404
    assert missing.json()["type"] == "error"
    assert missing.json()["error"]["type"] == "not_found_error"
    assert bad.status_code == 400
    assert bad.json()["error"]["type"] == "invalid_request_error"


def test_count_tokens(server: FakeLLMServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        resp = client.post("/v1/messages/count_tokens", json=BODY)
        # The real endpoint takes no max_tokens (the SDK's count_tokens sends none).
        bare = {k: v for k, v in BODY.items() if k != "max_tokens"}
        without = client.post("/v1/messages/count_tokens", json=bare)
        bad = client.post("/v1/messages/count_tokens", json={"model": "echo"})
    assert resp.json() == {"input_tokens": 4}
    assert without.json() == {"input_tokens": 4}
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


def test_messages_need_max_tokens_like_the_real_api(server: FakeLLMServer) -> None:
    bare = {k: v for k, v in BODY.items() if k != "max_tokens"}
    resp = httpx.post(server.url + "/v1/messages", json=bare)
    assert resp.status_code == 400
    assert "max_tokens" in resp.json()["error"]["message"]


def test_wrong_method_on_a_known_path_gets_the_paths_dialect_shape(server: FakeLLMServer) -> None:
    resp = httpx.get(server.url + "/v1/messages")
    assert resp.status_code == 404
    assert resp.json()["type"] == "error" and resp.json()["error"]["type"] == "not_found_error"


def test_tool_results_are_read(sse: Sse) -> None:
    seen: list[Any] = []

    def model(request: Any) -> Turn:
        seen.append(request)
        return Turn(text="ok")

    body = {
        "model": "spy",
        "max_tokens": 10,
        "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}],
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": "sunny",
                        "is_error": True,
                    }
                ],
            },
        ],
    }
    with FakeLLMServer(models={"spy": model}).run_in_thread() as srv:
        httpx.post(srv.url + "/v1/messages", json=body)
    (request,) = seen
    assert request.dialect == "anthropic"
    assert request.tool_names == ("get_weather",)
    assert request.last_user_text == "weather?"
    (result,) = request.tool_results
    assert (result.call_id, result.name, result.content, result.is_error) == (
        "t1",
        "get_weather",
        "sunny",
        True,
    )
