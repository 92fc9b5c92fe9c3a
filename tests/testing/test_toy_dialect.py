"""A dialect written entirely in this file, through atoll_testing's public extension points.

"Toy" has its own path (with a path parameter), its own auth header, its own error body and its
own stream framing (newline-delimited JSON, not SSE). The server must speak it through its
route table exactly as it speaks OpenAI and Anthropic: chat, stream, tool calls, scripts,
faults, auth, request log and counters, without any change to the package.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from atoll_testing import (
    ChatInput,
    DialectError,
    FakeLLMServer,
    Recorder,
    RequestError,
    Rule,
    Script,
    ToolCall,
    Turn,
    register_server_dialect,
    registered_server_dialects,
    unregister_server_dialect,
)

from tests.testing._toy_server import ToyDialect

KEY = {"x-toy-pass": "toy-secret"}
WEATHER = ToolCall(name="get_weather", arguments={"city": "Paris"}, id="tc1")


@pytest.fixture(scope="module")
def toy() -> Iterator[FakeLLMServer]:
    agent = Script(
        [Turn(tool_calls=[WEATHER])],
        rules=[Rule(Turn(text="sunny in Paris"), tool_result_for="get_weather")],
        repeat_last=True,
    )
    server = FakeLLMServer(models={"agent": agent}, api_key="toy-secret", dialects=[ToyDialect()])
    with server.run_in_thread() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh(toy: FakeLLMServer) -> None:
    toy.clear()


def _talk(
    srv: FakeLLMServer, model: str, body: dict[str, Any], *, stream: bool = False, fault: str = ""
) -> httpx.Response:
    path = f"/toy/v0/talk/{model}" + (":stream" if stream else "")
    headers = {**KEY, "x-atoll-fault": fault} if fault else KEY
    return httpx.post(srv.url + path, json=body, headers=headers)


def _lines(resp: httpx.Response) -> list[dict[str, Any]]:
    return [json.loads(line) for line in resp.text.splitlines()]


def test_chat(toy: FakeLLMServer) -> None:
    resp = _talk(toy, "echo", {"say": "hello toy"})
    assert resp.status_code == 200
    body = resp.json()
    assert body == {"talk_id": body["talk_id"], "reply": "hello toy", "calls": [], "why": "said"}
    assert toy.counts == {"echo": 1}
    (logged,) = toy.requests
    assert (logged.path, logged.model) == ("/toy/v0/talk/echo", "echo")
    # Not a header name atoll_wire knows to hide: hidden because it carries the credential.
    assert logged.headers["x-toy-pass"] == "[redacted]"


def test_stream_in_its_own_framing(toy: FakeLLMServer) -> None:
    resp = _talk(toy, "stream-3", {"say": "go"}, stream=True)
    assert resp.headers["content-type"] == "application/x-ndjson"
    assert resp.headers["transfer-encoding"] == "chunked"
    assert _lines(resp) == [
        {"piece": "tok0 "},
        {"piece": "tok1 "},
        {"piece": "tok2 "},
        {"done": True, "why": "said"},
    ]


def test_tool_call_round_trip(toy: FakeLLMServer) -> None:
    first = _talk(toy, "agent", {"say": "weather?", "tools": ["get_weather"]})
    assert first.json()["calls"] == [
        {"id": "tc1", "name": "get_weather", "args": '{"city":"Paris"}'}
    ]
    result = {"id": "tc1", "name": "get_weather", "output": "18C"}
    second = _talk(toy, "agent", {"results": [result]}, stream=True)
    assert "".join(line.get("piece", "") for line in _lines(second)) == "sunny in Paris"
    streamed = _talk(toy, "agent", {"say": "again?"}, stream=True)
    call = {"id": "tc1", "name": "get_weather", "args": '{"city":"Paris"}'}
    assert _lines(streamed) == [{"call": call}, {"done": True, "why": "call"}]


def test_models_see_the_dialect_name() -> None:
    seen: list[ChatInput] = []

    def spy(chat: ChatInput) -> Turn:
        seen.append(chat)
        return Turn(text="ok")

    with FakeLLMServer(models={"spy": spy}, dialects=[ToyDialect()]).run_in_thread() as srv:
        _talk(srv, "spy", {"say": "a b c", "tools": ["t1", "t2"]})
    (chat,) = seen
    assert (chat.dialect, chat.model, chat.tool_names, chat.input_tokens) == (
        "toy",
        "spy",
        ("t1", "t2"),
        3,
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-toy-pass": "wrong"}, {"authorization": "Bearer toy-secret"}],
    ids=["missing", "wrong", "another-dialects-header"],
)
def test_auth_in_its_own_header_and_shape(toy: FakeLLMServer, headers: dict[str, str]) -> None:
    resp = httpx.post(toy.url + "/toy/v0/talk/echo", json={"say": "x"}, headers=headers)
    assert resp.status_code == 401
    assert resp.json() == {"oops": {"code": 401, "why": "show your toy token", "kind": "no_token"}}


def test_http_fault_in_its_error_shape(toy: FakeLLMServer) -> None:
    fault = "status=429; retry-after=2; rl.requests.remaining=0; message=slow down"
    resp = _talk(toy, "echo", {"say": "x"}, fault=fault)
    assert resp.status_code == 429
    assert resp.json() == {"oops": {"code": 429, "why": "slow down", "kind": "toy_429"}}
    assert resp.headers["retry-after"] == "2"
    assert resp.headers["toy-quota-requests-remaining"] == "0"
    assert "x-ratelimit-remaining-requests" not in resp.headers


def test_stream_faults_use_its_framing(toy: FakeLLMServer) -> None:
    broken = _talk(toy, "stream-4", {"say": "x"}, stream=True, fault="error-event=2")
    assert _lines(broken) == [
        {"piece": "tok0 "},
        {"piece": "tok1 "},
        {"oops": {"why": "the toy broke", "kind": "toy_stream"}},
    ]
    toy.inject("no-done")
    cut = _talk(toy, "stream-2", {"say": "x"}, stream=True)
    assert _lines(cut) == [{"piece": "tok0 "}, {"piece": "tok1 "}]
    scripted = FakeLLMServer(
        models={"s": Script([Turn(text="a b", fault="error-event=0; error-type=toy_quota")])},
        dialects=[ToyDialect()],
    )
    with scripted.run_in_thread() as srv:
        lines = _lines(_talk(srv, "s", {"say": "x"}, stream=True))
    assert lines == [{"oops": {"why": "stream error", "kind": "toy_quota"}}]


def test_bad_requests_in_its_shape(toy: FakeLLMServer) -> None:
    unknown = _talk(toy, "no-such-model", {"say": "x"})
    invalid = _talk(toy, "echo", {"say": "x", "volume": 11})
    empty = _talk(toy, "echo", {})
    unrouted = httpx.post(toy.url + "/v1/chat/completions", json={}, headers=KEY)
    assert (unknown.status_code, unknown.json()["oops"]["kind"]) == (404, "toy_404")
    assert (invalid.status_code, invalid.json()["oops"]["kind"]) == (400, "toy_400")
    assert "volume" in invalid.json()["oops"]["why"]
    assert empty.json() == {"oops": {"code": 422, "why": "say something", "kind": "empty_talk"}}
    # Only toy is spoken here: OpenAI's path is unknown and the 404 has toy's shape.
    assert (unrouted.status_code, unrouted.json()["oops"]["code"]) == (404, 404)


def test_non_chat_route(toy: FakeLLMServer) -> None:
    resp = httpx.get(toy.url + "/toy/v0/ping", headers=KEY)
    assert (resp.status_code, resp.text) == (200, "pong")


def test_async_handler(toy: FakeLLMServer) -> None:
    ok = httpx.post(toy.url + "/toy/v0/later", content=b"abc", headers=KEY)
    failed = httpx.post(toy.url + "/toy/v0/later?fail=yes", content=b"abc", headers=KEY)
    faulted = httpx.post(
        toy.url + "/toy/v0/later", content=b"abc", headers={**KEY, "x-atoll-fault": "503"}
    )
    assert (ok.status_code, ok.text) == (200, "cba")
    assert failed.json() == {"oops": {"code": 409, "why": "not now", "kind": "toy_busy"}}
    assert (faulted.status_code, faulted.json()["oops"]["kind"]) == (503, "toy_503")


def test_a_model_may_answer_with_an_error_of_its_dialect(toy: FakeLLMServer) -> None:
    def refuse(chat: ChatInput) -> Turn:
        raise RequestError(403, f"{chat.dialect} says no", "forbidden")

    toy.models["refuse"] = refuse
    try:
        resp = _talk(toy, "refuse", {"say": "x"})
    finally:
        del toy.models["refuse"]
    assert resp.json() == {"oops": {"code": 403, "why": "toy says no", "kind": "forbidden"}}


def test_beside_the_built_in_dialects() -> None:
    dialects = [*registered_server_dialects(), ToyDialect()]
    with FakeLLMServer(dialects=dialects).run_in_thread() as srv:
        toy = httpx.post(srv.url + "/toy/v0/talk/echo", json={"say": "hi toy"})
        oa = httpx.post(
            srv.base_url + "/chat/completions",
            json={"model": "echo", "messages": [{"role": "user", "content": "hi openai"}]},
        )
        names = [d.name for d in srv.dialects]
    assert toy.json()["reply"] == "hi toy"
    assert oa.json()["choices"][0]["message"]["content"] == "hi openai"
    assert names == [*(d.name for d in registered_server_dialects()), "toy"]


def test_unrouted_requests_accept_and_hide_any_dialects_key() -> None:
    dialects = [*registered_server_dialects(), ToyDialect()]
    with FakeLLMServer(dialects=dialects, api_key="toy-secret").run_in_thread() as srv:
        resp = httpx.get(srv.url + "/nowhere", headers=KEY)
        logged = srv.requests[-1].headers
    assert resp.status_code == 404  # the key was accepted; the path is unknown
    assert logged["x-toy-pass"] == "[redacted]"


def test_registered_dialect_is_spoken_by_new_servers() -> None:
    register_server_dialect(ToyDialect())
    try:
        with pytest.raises(DialectError, match="already registered"):
            register_server_dialect(ToyDialect())
        register_server_dialect(ToyDialect(), replace=True)
        with FakeLLMServer().run_in_thread() as srv:
            resp = httpx.post(srv.url + "/toy/v0/talk/echo", json={"say": "registered"})
        assert resp.json()["reply"] == "registered"
    finally:
        unregister_server_dialect("toy")
    assert "toy" not in [d.name for d in registered_server_dialects()]
    with FakeLLMServer().run_in_thread() as srv:
        assert httpx.post(srv.url + "/toy/v0/talk/echo", json={"say": "x"}).status_code == 404


def test_recorder_files_its_exchanges_under_its_corpus_name(tmp_path: Path) -> None:
    with FakeLLMServer(dialects=[ToyDialect()]).run_in_thread() as upstream:
        recorder = Recorder(upstream.url, tmp_path, provider="toyco")
        proxy = FakeLLMServer(recorder=recorder, dialects=[ToyDialect()])
        with proxy.run_in_thread() as srv:
            resp = httpx.post(srv.url + "/toy/v0/talk/echo", json={"say": "keep me"})
    assert resp.json()["reply"] == "keep me"
    (path,) = recorder.recorded
    assert path.parent.name == "toy-talk"
    case = json.loads(path.read_text())
    assert case["dialect"] == "toy-talk"
    assert case["notes"] == [
        "expect not computed: atoll_testing does not parse the toy-talk dialect"
    ]


def test_two_dialects_may_not_answer_the_same_route() -> None:
    class Renamed(ToyDialect):
        name = "toy-two"

    with pytest.raises(DialectError, match="already answered by toy"):
        FakeLLMServer(dialects=[ToyDialect(), Renamed()])


def test_a_server_needs_distinctly_named_dialects() -> None:
    with pytest.raises(DialectError, match="share this name"):
        FakeLLMServer(dialects=[ToyDialect(), ToyDialect()])
    with pytest.raises(DialectError, match="at least one dialect"):
        FakeLLMServer(dialects=[])
    with pytest.raises(DialectError, match="is not a ServerDialect"):
        FakeLLMServer(dialects=[object()])  # type: ignore[list-item]
