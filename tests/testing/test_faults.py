"""Every fault, by header, by script turn and by ``inject``, in both dialects."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from atoll_testing import FakeLLMServer, Fault, FaultSyntaxError, Script, Turn
from hypothesis import given
from hypothesis import strategies as st

Sse = Callable[[str], list[tuple[str, Any]]]
OA = {"model": "stream-5", "messages": [{"role": "user", "content": "hi"}]}
AN = {**OA, "max_tokens": 10}


def _post(srv: FakeLLMServer, dialect: str, fault: str, *, stream: bool = False) -> httpx.Response:
    path, body = ("/v1/chat/completions", OA) if dialect == "openai" else ("/v1/messages", AN)
    return httpx.post(
        srv.url + path, json={**body, "stream": stream}, headers={"x-atoll-fault": fault}
    )


def _raw_until_error(
    srv: FakeLLMServer, dialect: str, fault: str
) -> tuple[bytes, Exception | None]:
    path, body = ("/v1/chat/completions", OA) if dialect == "openai" else ("/v1/messages", AN)
    got = b""
    with httpx.Client() as client:
        try:
            with client.stream(
                "POST",
                srv.url + path,
                json={**body, "stream": True},
                headers={"x-atoll-fault": fault},
            ) as resp:
                for part in resp.iter_raw():
                    got += part
        except httpx.HTTPError as exc:
            return got, exc
    return got, None


DIALECTS = pytest.mark.parametrize("dialect", ["openai", "anthropic"])


@DIALECTS
@pytest.mark.parametrize("stream", [False, True])
def test_429_with_retry_after_seconds(server: FakeLLMServer, dialect: str, stream: bool) -> None:
    resp = _post(server, dialect, "status=429; retry-after=2", stream=stream)
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "2"
    assert resp.headers["content-type"] == "application/json"
    if dialect == "openai":
        assert resp.json()["error"]["code"] == "rate_limit_exceeded"
    else:
        assert resp.json() == {
            "type": "error",
            "error": {"type": "rate_limit_error", "message": "Rate limit reached for requests"},
            "request_id": None,
        }


def test_retry_after_as_date_and_ms(server: FakeLLMServer) -> None:
    resp = _post(server, "openai", "429; retry-after-date=30; retry-after-ms=1500; retry-after=0.5")
    dates = [v for k, v in resp.headers.multi_items() if k == "retry-after"]
    assert "0.5" in dates
    (date,) = [d for d in dates if d != "0.5"]
    when = email.utils.parsedate_to_datetime(date).timestamp()
    assert 20 < when - time.time() <= 31
    assert resp.headers["retry-after-ms"] == "1500"


@DIALECTS
@pytest.mark.parametrize("status", [500, 502, 503, 529])
def test_server_errors(server: FakeLLMServer, dialect: str, status: int) -> None:
    resp = _post(server, dialect, str(status))
    assert resp.status_code == status
    error = resp.json()["error"]
    if dialect == "anthropic":
        assert error["type"] == ("overloaded_error" if status == 529 else "api_error")
    else:
        assert error["type"] == "server_error"


def test_error_type_and_message_override(server: FakeLLMServer) -> None:
    resp = _post(
        server, "anthropic", "status=400; error-type=invalid_request_error; message=bad thing"
    )
    assert resp.json()["error"] == {"type": "invalid_request_error", "message": "bad thing"}


def test_should_retry_ratelimit_and_custom_headers(server: FakeLLMServer) -> None:
    spec = "should-retry=false; rl.requests.remaining=0; rl.tokens.reset=6m0s; header.x-extra=yes"
    oa = _post(server, "openai", spec)
    an = _post(server, "anthropic", spec)
    assert oa.status_code == an.status_code == 200  # headers only, the answer is normal
    assert oa.headers["x-should-retry"] == "false"
    assert oa.headers["x-ratelimit-remaining-requests"] == "0"
    assert oa.headers["x-ratelimit-reset-tokens"] == "6m0s"
    assert an.headers["anthropic-ratelimit-requests-remaining"] == "0"
    assert an.headers["anthropic-ratelimit-tokens-reset"] == "6m0s"
    assert oa.headers["x-extra"] == an.headers["x-extra"] == "yes"


def test_delay_before_headers(server: FakeLLMServer) -> None:
    start = time.perf_counter()
    resp = _post(server, "openai", "delay=0.2")
    assert time.perf_counter() - start >= 0.2
    assert resp.status_code == 200


@DIALECTS
def test_delay_between_chunks(server: FakeLLMServer, dialect: str) -> None:
    path, body = ("/v1/chat/completions", OA) if dialect == "openai" else ("/v1/messages", AN)
    arrivals: list[float] = []
    with httpx.Client() as client:
        start = time.perf_counter()
        with client.stream(
            "POST",
            server.url + path,
            json={**body, "stream": True},
            headers={"x-atoll-fault": "chunk-delay=0.02"},
        ) as resp:
            for _ in resp.iter_raw():
                arrivals.append(time.perf_counter() - start)
    assert len(arrivals) >= 5  # events arrive one by one, not in one write
    assert arrivals[-1] >= 0.02 * 6


def test_chunk_delay_on_a_plain_body(server: FakeLLMServer) -> None:
    start = time.perf_counter()
    resp = _post(server, "openai", "chunk-delay=0.01")
    assert time.perf_counter() - start >= 0.03
    assert resp.json()["choices"][0]["message"]["content"].startswith("tok0 ")


@DIALECTS
def test_disconnect_after_bytes(server: FakeLLMServer, dialect: str) -> None:
    got, error = _raw_until_error(server, dialect, "disconnect-bytes=100")
    assert isinstance(error, httpx.RemoteProtocolError)
    assert len(got) == 100


@DIALECTS
@pytest.mark.parametrize("paced", [False, True])
def test_disconnect_after_events(
    server: FakeLLMServer, sse: Sse, dialect: str, paced: bool
) -> None:
    fault = "disconnect-events=3" + ("; chunk-delay=0.001" if paced else "")
    got, error = _raw_until_error(server, dialect, fault)
    assert isinstance(error, httpx.RemoteProtocolError)
    assert len(sse(got.decode())) == 3


def test_disconnect_on_plain_body(server: FakeLLMServer) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        _post(server, "openai", "disconnect-bytes=10")


@DIALECTS
def test_malformed_event(server: FakeLLMServer, dialect: str) -> None:
    resp = _post(server, dialect, "malformed=2", stream=True)
    from_text = [block for block in resp.text.split("\n\n") if block]
    datas = [
        line[6:] for block in from_text for line in block.split("\n") if line.startswith("data: ")
    ]
    bad = []
    for i, data in enumerate(datas):
        if data == "[DONE]":
            continue
        try:
            json.loads(data)
        except json.JSONDecodeError:
            bad.append(i)
    assert bad == [2]
    assert resp.text.endswith(
        "data: [DONE]\n\n" if dialect == "openai" else 'data: {"type":"message_stop"}\n\n'
    )


def test_malformed_plain_body(server: FakeLLMServer) -> None:
    resp = _post(server, "openai", "malformed=0")
    with pytest.raises(json.JSONDecodeError):
        json.loads(resp.text)


@DIALECTS
def test_stream_without_done(server: FakeLLMServer, sse: Sse, dialect: str) -> None:
    resp = _post(server, dialect, "no-done", stream=True)
    events = sse(resp.text)
    assert resp.status_code == 200
    if dialect == "openai":
        assert all(d != "[DONE]" for _, d in events)
        assert events[-1][1]["choices"][0]["finish_reason"] == "stop"
    else:
        assert events[-1][0] == "message_delta"


@DIALECTS
def test_error_event_mid_stream(server: FakeLLMServer, sse: Sse, dialect: str) -> None:
    resp = _post(server, dialect, "error-event=2", stream=True)
    events = sse(resp.text)
    assert len(events) == 3
    name, data = events[-1]
    if dialect == "openai":
        assert name == "message"
        assert data["error"]["type"] == "server_error"
    else:
        assert name == "error"
        assert data == {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"},
        }


def test_error_event_type_override(server: FakeLLMServer, sse: Sse) -> None:
    resp = _post(
        server, "anthropic", "error-event=1; error-type=api_error; message=boom", stream=True
    )
    assert sse(resp.text)[-1][1]["error"] == {"type": "api_error", "message": "boom"}


def test_fault_from_script_turn_and_inject(sse: Sse) -> None:
    script = Script([Turn(text="first", fault="status=503; retry-after=0"), "second"])
    with FakeLLMServer(models={"s": script}).run_in_thread() as srv:
        url = srv.base_url + "/chat/completions"
        body = {"model": "s", "messages": [{"role": "user", "content": "x"}]}
        first = httpx.post(url, json=body)
        second = httpx.post(url, json=body)
        srv.inject("429", times=2)
        injected = [httpx.post(url, json={**body, "model": "echo"}).status_code for _ in range(3)]
    assert (first.status_code, first.headers["retry-after"]) == (503, "0")
    assert second.json()["choices"][0]["message"]["content"] == "second"
    assert injected == [429, 429, 200]


def test_bad_fault_header_is_400(server: FakeLLMServer) -> None:
    resp = _post(server, "anthropic", "explode=1")
    assert resp.status_code == 400
    assert "unknown fault 'explode'" in resp.json()["error"]["message"]


@pytest.mark.parametrize(
    ("spec", "item"),
    [
        ("status=99", "status=99"),
        ("delay=-1", "delay=-1"),
        ("delay=soon", "delay=soon"),
        ("delay=inf", "delay=inf"),
        ("chunk-delay=nan", "chunk-delay=nan"),
        ("retry-after", "retry-after"),
        ("should-retry=maybe", "should-retry=maybe"),
        ("rl.apples.remaining=1", "rl.apples.remaining=1"),
        ("header.bad name=1", "header.bad name=1"),
    ],
)
def test_fault_syntax_errors(spec: str, item: str) -> None:
    with pytest.raises(FaultSyntaxError) as info:
        Fault.parse(spec)
    assert info.value.item == item
    assert info.value.spec == spec


def test_fault_parse_round_trip() -> None:
    fault = Fault.parse(" 429 ; retry-after=1.5;no-done; chunk-delay=0.01;rl.input-tokens.limit=9 ")
    assert fault.status == 429 and fault.retry_after == 1.5 and fault.no_done
    assert fault.chunk_delay == 0.01
    assert fault.ratelimit == (("input-tokens", "limit", "9"),)
    assert fault.is_error and fault.shapes_stream


@given(st.text(max_size=60))
def test_fault_parse_never_crashes(spec: str) -> None:
    try:
        Fault.parse(spec)
    except FaultSyntaxError:
        pass


def test_close_after_response_and_connection_counter() -> None:
    with FakeLLMServer().run_in_thread() as srv, httpx.Client(base_url=srv.base_url) as client:
        body = {"model": "echo", "messages": []}
        for _ in range(3):
            assert client.post("/chat/completions", json=body).status_code == 200
        assert srv.connections_opened == 1  # keep-alive: one connection for three requests
        closed = client.post("/chat/completions", json=body, headers={"x-atoll-fault": "close"})
        assert closed.headers["connection"] == "close"
        assert client.post("/chat/completions", json=body).status_code == 200
        assert srv.connections_opened == 2
        srv.clear()
        assert srv.connections_opened == 0


@pytest.mark.parametrize("extra", ["", "; delay=0.01"])
def test_drop_without_response(server: FakeLLMServer, extra: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        _post(server, "openai", "drop" + extra)
