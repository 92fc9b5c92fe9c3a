"""Transport interface: request normalisation, redaction, response bodies, ABCs, errors."""

from __future__ import annotations

import gc
from collections.abc import AsyncGenerator, AsyncIterator, Generator, Iterator
from contextlib import aclosing, closing
from typing import cast

import anyio
import pytest
from atoll_wire import (
    AsyncTransport,
    ConnectError,
    ConnectTimeout,
    HttpRequest,
    HttpResponse,
    PoolTimeout,
    ReadTimeout,
    RemoteProtocolError,
    ResponseConsumed,
    ResponseTooLarge,
    SyncHttpResponse,
    SyncTransport,
    Timeout,
    TransportError,
    TransportTimeout,
    WireError,
    WriteTimeout,
    checked_header_value,
    redact_headers,
    redact_url,
)
from hypothesis import given
from hypothesis import strategies as st

SECRET = "sk-ant-abcdefghijklmnopqrstuvwxyz"


def _req(**kw: object) -> HttpRequest:
    return HttpRequest(
        method="post",
        url="https://api.example.com/v1/chat?key=" + SECRET,
        headers={"Authorization": f"Bearer {SECRET}", "x-api-key": SECRET, "Accept": "a/b"},
        body=b'{"a": 1}',
        **kw,  # type: ignore[arg-type]
    )


def test_timeout_one_number_applies_to_every_phase() -> None:
    assert _req(timeout=5).timeout == Timeout(connect=5.0, read=5.0, write=5.0, pool=5.0)
    per_phase = Timeout(connect=1, read=30)
    assert _req(timeout=per_phase).timeout is per_phase
    assert _req().timeout == Timeout()
    with pytest.raises(ValueError, match="positive"):
        _req(timeout=0)


def test_timeout_per_phase_values_as_a_mapping_and_checked() -> None:
    assert _req(timeout={"connect": 2, "read": 60}).timeout == Timeout(connect=2, read=60)
    assert _req(timeout={}).timeout == Timeout()
    with pytest.raises(ValueError, match="unknown timeout phase"):
        _req(timeout={"conect": 2})
    for bad in (0, -1, float("nan"), True, "5"):
        with pytest.raises(ValueError, match="positive number of seconds"):
            Timeout(read=bad)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="positive number of seconds"):
            _req(timeout=bad)


def test_request_normalises_and_copies() -> None:
    headers = {"A": "1"}
    req = HttpRequest("get", "https://x", headers=headers, extensions={"k": 1})
    headers["B"] = "2"
    assert req.method == "GET"
    assert req.headers == {"A": "1"}
    assert req.body == b""
    assert req.extensions == {"k": 1}
    assert req == HttpRequest("GET", "https://x", headers={"A": "1"}, extensions={"k": 1})
    with pytest.raises(TypeError, match="bytes"):
        HttpRequest("POST", "https://x", body="text")  # type: ignore[arg-type]


def test_request_repr_never_shows_secrets() -> None:
    text = repr(_req())
    assert SECRET not in text
    assert "[redacted]" in text
    assert "'Accept': 'a/b'" in text
    assert "<8 bytes>" in text


def test_redaction_helpers() -> None:
    assert redact_headers({"Authorization": "x", "X-Goog-Api-Key": "y", "Content-Type": "z"}) == {
        "Authorization": "[redacted]",
        "X-Goog-Api-Key": "[redacted]",
        "Content-Type": "z",
    }
    assert redact_url("https://h/p") == "https://h/p"
    assert SECRET not in redact_url(f"https://user:{SECRET}@h/p?alt=sse&key={SECRET}")
    assert "alt=sse" in redact_url(f"https://h/p?alt=sse&key={SECRET}")


def test_error_tree_and_fields() -> None:
    req = _req()
    for cls in (ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout):
        assert issubclass(cls, TransportTimeout)
    for cls in (ConnectError, TransportTimeout, RemoteProtocolError, ResponseTooLarge):
        assert issubclass(cls, TransportError)
    assert issubclass(TransportError, WireError)
    err = ReadTimeout("no bytes for 30s", request=req)
    assert err.method == "POST"
    assert err.message == "no bytes for 30s"
    assert err.url is not None and SECRET not in err.url
    assert SECRET not in str(err)
    assert "POST" in str(err)
    big = ResponseTooLarge("too big", limit=10, size=11, request=req)
    assert (big.limit, big.size) == (10, 11)
    bare = ConnectError("refused")
    assert (bare.method, bare.url, str(bare)) == (None, None, "refused")


async def _chunks() -> AsyncIterator[bytes]:
    yield b"ab"
    yield b""
    yield b"cd"


@pytest.mark.anyio
async def test_async_response_streams_once_and_closes() -> None:
    closed: list[bool] = []

    async def on_close() -> None:
        closed.append(True)

    resp = HttpResponse(
        200,
        [("Content-Type", "text/plain"), ("Set-Cookie", "a"), ("set-cookie", "b")],
        _req(),
        _chunks(),
        elapsed=0.25,
        on_close=on_close,
    )
    assert resp.headers == {"content-type": "text/plain", "set-cookie": "a, b"}
    assert resp.is_success
    assert resp.elapsed == 0.25
    async with resp:
        got = [c async for c in resp.aiter_bytes()]
        assert got == [b"ab", b"cd"]
        with pytest.raises(ResponseConsumed):
            await resp.aread()
    assert closed == [True]
    await resp.aclose()
    assert closed == [True]
    assert resp.closed
    assert SECRET not in repr(resp)


@pytest.mark.anyio
async def test_async_aread_limits_size() -> None:
    resp = HttpResponse(200, {}, _req(), b"0123456789")
    with pytest.raises(ResponseTooLarge) as info:
        await resp.aread(max_bytes=4)
    assert info.value.limit == 4
    assert info.value.size == 10
    assert resp.closed
    ok = HttpResponse(404, {"X": "1"}, _req(), _chunks())
    assert await ok.aread() == b"abcd"
    assert not ok.is_success


class _Body:
    """An async body that counts how it was closed, like a transport's stream."""

    def __init__(self, chunks: list[bytes], fail_after: int | None = None) -> None:
        self.chunks = list(chunks)
        self.fail_after = fail_after
        self.served = 0
        self.closes = 0

    def __aiter__(self) -> _Body:
        return self

    async def __anext__(self) -> bytes:
        if self.fail_after is not None and self.served == self.fail_after:
            raise ReadTimeout("stalled")
        if not self.chunks:
            raise StopAsyncIteration
        self.served += 1
        return self.chunks.pop(0)

    async def aclose(self) -> None:
        self.closes += 1


def _tracked(body: _Body) -> tuple[HttpResponse, list[bool]]:
    released: list[bool] = []

    async def on_close() -> None:
        released.append(True)

    return HttpResponse(200, {}, _req(), body, on_close=on_close), released


@pytest.mark.anyio
async def test_reading_the_body_to_its_end_releases_the_connection() -> None:
    body = _Body([b"a", b"b"])
    resp, released = _tracked(body)
    assert [c async for c in resp.aiter_bytes()] == [b"a", b"b"]
    assert resp.closed and body.closes == 1 and released == [True]
    await resp.aclose()
    assert body.closes == 1 and released == [True]  # idempotent


@pytest.mark.anyio
async def test_stopping_early_with_a_closed_iterator_releases_the_connection() -> None:
    body = _Body([b"a", b"b", b"c"])
    resp, released = _tracked(body)
    async with aclosing(cast("AsyncGenerator[bytes]", resp.aiter_bytes())) as chunks:
        async for _ in chunks:
            break
    assert resp.closed and body.closes == 1 and released == [True]
    assert body.chunks == [b"b", b"c"]  # nothing was read past the point of giving up


@pytest.mark.anyio
async def test_stopping_early_inside_async_with_response_releases_the_connection() -> None:
    body = _Body([b"a", b"b"])
    resp, released = _tracked(body)
    chunks = resp.aiter_bytes()
    async with resp:
        async for _ in chunks:
            break
    assert resp.closed and body.closes == 1 and released == [True]
    await cast("AsyncGenerator[bytes]", chunks).aclose()
    assert body.closes == 1 and released == [True]


@pytest.mark.anyio
async def test_a_failed_read_releases_the_connection() -> None:
    body = _Body([b"a", b"b"], fail_after=1)
    resp, released = _tracked(body)
    with pytest.raises(ReadTimeout):
        async for _ in resp.aiter_bytes():
            pass
    assert resp.closed and body.closes == 1 and released == [True]


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
@pytest.mark.anyio
async def test_a_dropped_iterator_is_closed_by_the_loop_finaliser(anyio_backend: str) -> None:
    # asyncio only: trio closes it too, but warns (ResourceWarning) as it should.
    body = _Body([b"a", b"b"])
    resp, released = _tracked(body)
    async for _ in resp.aiter_bytes():
        break
    gc.collect()
    with anyio.fail_after(2):
        while not resp.closed:  # noqa: ASYNC110  # the finaliser runs as a task of the loop
            await anyio.sleep(0.001)
    assert body.closes == 1 and released == [True]


def test_sync_body_closes_the_response_however_iteration_ends() -> None:
    closed: list[str] = []

    def gen() -> Iterator[bytes]:
        try:
            yield b"x"
            yield b"y"
        finally:
            closed.append("stream")

    resp = SyncHttpResponse(200, {}, _req(), gen(), on_close=lambda: closed.append("conn"))
    assert list(resp.iter_bytes()) == [b"x", b"y"]
    assert resp.closed and closed == ["stream", "conn"]
    closed.clear()
    early = SyncHttpResponse(200, {}, _req(), gen(), on_close=lambda: closed.append("conn"))
    with closing(cast("Generator[bytes]", early.iter_bytes())) as chunks:
        for _ in chunks:
            break
    assert early.closed and closed == ["stream", "conn"]


def test_sync_response() -> None:
    def gen() -> Iterator[bytes]:
        yield b"x"
        yield b"y"

    closed: list[int] = []
    resp = SyncHttpResponse(200, {"A": "1"}, _req(), gen(), on_close=lambda: closed.append(1))
    with resp:
        assert resp.read() == b"xy"
    assert closed == [1]
    with pytest.raises(ResponseConsumed):
        list(resp.iter_bytes())
    with pytest.raises(ResponseTooLarge):
        SyncHttpResponse(200, None, _req(), b"abc").read(max_bytes=2)


class _EchoTransport(AsyncTransport):
    def __init__(self) -> None:
        self.closed = False

    async def send(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(200, {}, request, request.body)

    async def aclose(self) -> None:
        self.closed = True


class _SyncEcho(SyncTransport):
    def __init__(self) -> None:
        self.closed = False

    def send(self, request: HttpRequest) -> SyncHttpResponse:
        return SyncHttpResponse(200, {}, request, request.body)

    def close(self) -> None:
        self.closed = True


@pytest.mark.anyio
async def test_async_transport_abc() -> None:
    with pytest.raises(TypeError):
        AsyncTransport()  # type: ignore[abstract]
    transport = _EchoTransport()
    async with transport as t:
        resp = await t.send(_req())
        assert await resp.aread() == b'{"a": 1}'
    assert transport.closed


def test_sync_transport_abc() -> None:
    with pytest.raises(TypeError):
        SyncTransport()  # type: ignore[abstract]
    transport = _SyncEcho()
    with transport as t:
        assert t.send(_req()).read() == b'{"a": 1}'
    assert transport.closed


def test_header_rules_strip_spaces_and_refuse_injection_without_echoing_the_value() -> None:
    request = HttpRequest("POST", "http://127.0.0.1:1/", {})
    assert checked_header_value("Authorization", " \tBearer k \t", request) == "Bearer k"
    assert checked_header_value("X-Empty", "", request) == ""
    for name, value in [
        ("Authorization", "Bearer sk-SECRET\n"),
        ("Authorization", "Bearer sk-SECRET\r\nX-Injected: 1"),
        ("X-Note", "caf\u00e9 sk-SECRET"),
    ]:
        with pytest.raises(TransportError, match=f"header {name!r}") as caught:
            checked_header_value(name, value, request)
        assert "SECRET" not in str(caught.value) and caught.value.method == "POST"
    with pytest.raises(TransportError, match="invalid header name"):
        checked_header_value("Bad Name", "v", request)


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_any_visible_ascii_value_is_sent_as_given_minus_surrounding_blanks(value: str) -> None:
    request = HttpRequest("GET", "http://127.0.0.1:1/")
    assert checked_header_value("X-Any", value, request) == value.strip(" \t")
