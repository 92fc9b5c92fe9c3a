"""Result files are read line by line as they stream, whatever the chunking; never whole."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from atoll_dialects import BatchClient, InvalidResponseError, StreamInterrupted
from atoll_testing import BatchControl, FakeLLMServer
from atoll_wire import AsyncTransport, HttpRequest, HttpResponse, RemoteProtocolError
from hypothesis import given, settings
from hypothesis import strategies as st

from .conftest import MakeClient, wait


class ChunkTransport(AsyncTransport):
    """Answers every request with one body in the given chunks (and then, maybe, a failure)."""

    def __init__(self, chunks: list[bytes], *, fail: bool = False) -> None:
        self.chunks = chunks
        self.fail = fail
        self.closed = 0

    async def send(self, request: HttpRequest) -> HttpResponse:
        async def body() -> AsyncIterator[bytes]:
            for chunk in self.chunks:
                yield chunk
            if self.fail:
                raise RemoteProtocolError("peer closed the connection", request=request)

        async def closed() -> None:
            self.closed += 1

        return HttpResponse(200, {}, request, body(), on_close=closed)

    async def aclose(self) -> None:
        pass


async def _read(transport: ChunkTransport, *, stop_after: int | None = None) -> list[bytes]:
    async with BatchClient("openai/gpt-4o-mini", api_key="k", transport=transport) as client:
        got: list[bytes] = []
        async with client.http.lines("batch.results", "http://127.0.0.1:9/v1/x", {}) as lines:
            async for line in lines:
                got.append(line)
                if stop_after is not None and len(got) == stop_after:
                    break
        return got


_line = st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"\n", b"x"))


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(_line, max_size=20),
    cuts=st.lists(st.integers(min_value=0, max_value=2_000), max_size=30),
    blank=st.booleans(),
    final_newline=st.booleans(),
)
def test_lines_come_out_whole_whatever_the_chunks(
    lines: list[bytes], cuts: list[int], blank: bool, final_newline: bool
) -> None:
    body = b"\n".join(lines) + (b"\n\n" if blank else b"") + (b"\n" if final_newline else b"")
    points = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    chunks = [body[a:b] for a, b in itertools.pairwise(points)]
    got = anyio.run(_read, ChunkTransport(chunks))
    assert got == [line for line in lines if line.strip()]


def test_a_broken_download_is_typed_and_the_response_closed() -> None:
    transport = ChunkTransport([b'{"a": 1}\n{"b"'], fail=True)
    with pytest.raises(StreamInterrupted, match="broke off") as caught:
        anyio.run(_read, transport)
    assert caught.value.provider == "openai"
    assert transport.closed == 1


def test_stopping_early_closes_the_download() -> None:
    transport = ChunkTransport([b"1\n2\n", b"3\n"])
    assert anyio.run(lambda: _read(transport, stop_after=1)) == [b"1"]
    assert transport.closed == 1


def test_an_endless_line_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import atoll_dialects._batch_http as module

    monkeypatch.setattr(module, "MAX_RESPONSE_BYTES", 100)
    with pytest.raises(InvalidResponseError, match="longer than 100 bytes"):
        anyio.run(_read, ChunkTransport([b"x" * 60, b"y" * 60]))


@pytest.mark.anyio
async def test_results_read_from_a_body_sent_in_small_pieces(
    make_client: MakeClient, server: FakeLLMServer, control: BatchControl, tmp_path: Path
) -> None:
    async with make_client() as batch:
        job = await batch.submit(
            {f"q{i}": f"a fairly long prompt {i}" for i in range(30)}, record=tmp_path / "j"
        )
        await wait(job)
        server.inject("chunk-delay=0.0001", times=1)  # the download comes in 64-byte pieces
        async with job.results() as results:
            texts = {item.custom_id: item.text async for item in results}  # type: ignore[union-attr]
    assert texts == {f"q{i}": f"re: a fairly long prompt {i}" for i in range(30)}


def test_results_urls_elsewhere_get_no_key() -> None:
    from atoll_dialects._batch_api import same_origin

    base = "https://api.anthropic.com/v1"
    assert same_origin("https://api.anthropic.com/v1/messages/batches/x/results", base)
    assert not same_origin("https://evil.example/v1/messages/batches/x/results", base)
    assert not same_origin("http://api.anthropic.com/v1/x", base)  # another scheme
    assert not same_origin("https://api.anthropic.com:8443/v1/x", base)  # another port
