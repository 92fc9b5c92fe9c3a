"""Property tests: any text survives both dialects' bodies and streams; any request split works."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from atoll_testing import FakeLLMServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Run one server for the whole module: hypothesis calls the test body many times.
_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def client(server: FakeLLMServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url) as http:
        yield http


@_SETTINGS
@given(text=st.text(max_size=80))
def test_any_text_round_trips_in_both_dialects(
    client: httpx.Client, sse: Callable[[str], list[tuple[str, Any]]], text: str
) -> None:
    messages = [{"role": "user", "content": text}]
    oa = client.post("/v1/chat/completions", json={"model": "echo", "messages": messages}).json()
    assert oa["choices"][0]["message"]["content"] == text
    stream = client.post(
        "/v1/chat/completions", json={"model": "echo", "messages": messages, "stream": True}
    )
    chunks = [d for _, d in sse(stream.text)[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == text
    body = {"model": "echo", "max_tokens": 5, "messages": messages, "stream": True}
    an = client.post("/v1/messages", json=body)
    deltas = [d["delta"]["text"] for e, d in sse(an.text) if e == "content_block_delta"]
    assert "".join(deltas) == text


def _requests(texts: list[str]) -> bytes:
    out = b""
    for i, text in enumerate(texts):
        raw = json.dumps(
            {"model": "echo", "messages": [{"role": "user", "content": text}]}
        ).encode()
        head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n"
        if i % 2:
            out += head + b"transfer-encoding: chunked\r\n\r\n%x\r\n%b\r\n0\r\n\r\n" % (
                len(raw),
                raw,
            )
        else:
            out += head + b"content-length: %d\r\n\r\n%b" % (len(raw), raw)
    return out


@_SETTINGS
@given(
    texts=st.lists(st.text(alphabet="abc xyz", max_size=10), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=6),
)
def test_pipelined_requests_split_anywhere(
    server: FakeLLMServer, texts: list[str], cuts: list[int]
) -> None:
    payload = _requests(texts)
    points = sorted({c for c in cuts if c < len(payload)})
    pieces = [payload[a:b] for a, b in zip([0, *points], [*points, len(payload)], strict=True)]
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for piece in pieces:
            sock.sendall(piece)
        got: list[str] = []
        buf = b""
        while len(got) < len(texts):
            while b"\r\n\r\n" not in buf:
                buf += sock.recv(65536)
            head, buf = buf.split(b"\r\n\r\n", 1)
            length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
            while len(buf) < length:
                buf += sock.recv(65536)
            got.append(json.loads(buf[:length])["choices"][0]["message"]["content"])
            buf = buf[length:]
    assert got == texts


def test_restart_after_stop() -> None:
    srv = FakeLLMServer()
    srv.start()
    first = srv.port
    srv.stop()
    assert srv.port == 0
    srv.start()
    try:
        resp = httpx.post(
            srv.base_url + "/chat/completions", json={"model": "echo", "messages": []}
        )
        assert resp.status_code == 200 and srv.port > 0
    finally:
        srv.stop()
    assert first > 0


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(garbage=st.binary(max_size=200))
def test_garbage_never_breaks_the_server(server: FakeLLMServer, garbage: bytes) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.settimeout(5)
        sock.sendall(garbage + b"\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    # whatever came back is HTTP (an error, or an answer if the bytes happened to be a request)
    assert reply == b"" or reply.startswith(b"HTTP/1.1 ")
    resp = httpx.post(server.base_url + "/chat/completions", json={"model": "echo", "messages": []})
    assert resp.status_code == 200


def test_log_limit_keeps_the_newest() -> None:
    with FakeLLMServer(log_limit=3).run_in_thread() as srv:
        for i in range(5):
            body = {"model": "echo", "messages": [{"role": "user", "content": str(i)}]}
            httpx.post(srv.base_url + "/chat/completions", json=body)
        assert [r.json()["messages"][0]["content"] for r in srv.requests] == ["2", "3", "4"]
        assert srv.counts == {"echo": 5}
