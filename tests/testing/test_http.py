"""The HTTP/1.1 layer over raw sockets: keep-alive, pipelining, chunked bodies, bad input."""

from __future__ import annotations

import json
import socket

import pytest
from atoll_testing import FakeLLMServer


def _request(body: dict[str, object], *, chunked: bool = False, extra: str = "") -> bytes:
    raw = json.dumps(body).encode()
    head = f"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: text/json\r\n{extra}"
    if chunked:
        mid = len(raw) // 2
        parts = [raw[:mid], raw[mid:]]
        framed = (
            b"".join(b"%x;ext=1\r\n%b\r\n" % (len(p), p) for p in parts)
            + b"0\r\nx-trailer: 1\r\n\r\n"
        )
        return (head + "transfer-encoding: chunked\r\n\r\n").encode() + framed
    return (head + f"content-length: {len(raw)}\r\n\r\n").encode() + raw


def _read_responses(sock: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    buf = b""
    out: list[tuple[int, dict[str, str], bytes]] = []
    while len(out) < count:
        while b"\r\n\r\n" not in buf:
            data = sock.recv(65536)
            assert data, "connection closed early"
            buf += data
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        length = int(headers["content-length"])
        while len(buf) < length:
            buf += sock.recv(65536)
        out.append((status, headers, buf[:length]))
        buf = buf[length:]
    return out


def _say(text: str) -> dict[str, object]:
    return {"model": "echo", "messages": [{"role": "user", "content": text}]}


def test_pipelined_requests_answer_in_order(server: FakeLLMServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        payload = (
            _request(_say("one")) + _request(_say("two"), chunked=True) + _request(_say("three"))
        )
        sock.sendall(payload)
        responses = _read_responses(sock, 3)
    texts = [json.loads(body)["choices"][0]["message"]["content"] for _, _, body in responses]
    assert texts == ["one", "two", "three"]


def test_pipelined_request_waits_for_delayed_one(server: FakeLLMServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        slow = _request(_say("slow"), extra="x-atoll-fault: delay=0.05\r\n")
        sock.sendall(slow + _request(_say("fast")))
        responses = _read_responses(sock, 2)
    assert [json.loads(b)["choices"][0]["message"]["content"] for _, _, b in responses] == [
        "slow",
        "fast",
    ]


def test_byte_by_byte_request(server: FakeLLMServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        for byte in _request(_say("drip"), chunked=True):
            sock.send(bytes([byte]))
        ((status, _, body),) = _read_responses(sock, 1)
    assert status == 200
    assert json.loads(body)["choices"][0]["message"]["content"] == "drip"


def test_expect_continue(server: FakeLLMServer) -> None:
    raw = json.dumps(_say("hi")).encode()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\n"
        f"content-length: {len(raw)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(raw)
        ((status, _, _),) = _read_responses(sock, 1)
    assert status == 200


def test_connection_close_is_honoured(server: FakeLLMServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(_request(_say("bye"), extra="connection: close\r\n"))
        ((_, headers, _),) = _read_responses(sock, 1)
        assert headers["connection"] == "close"
        assert sock.recv(10) == b""


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"POST /v1/chat/completions HTTP/1.1\r\nno-colon-here\r\n\r\n", 400),
        (b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: x\r\n\r\n", 400),
        (b"POST /v1/chat/completions HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 400),
    ],
)
def test_malformed_requests_get_400_and_close(
    server: FakeLLMServer, raw: bytes, status: int
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(raw)
        ((got, headers, _),) = _read_responses(sock, 1)
        assert got == status
        assert headers["connection"] == "close"
