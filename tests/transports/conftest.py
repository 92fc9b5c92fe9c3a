"""The transport conformance suite: every test runs for each transport in ``KINDS``.

To plug a new transport in, append one ``TransportKind`` to ``KINDS`` (see ``HTTPX`` below): two
factories that build the async and the sync transport from the suite's ``Options``. Everything
else (the plain peer server, TLS material, fd counting) is shared. Async tests additionally run
on asyncio and trio through the root ``anyio_backend`` fixture.

A kind that cannot honour a behaviour lists that test's name in ``unsupported`` with the reason;
the test then skips for that kind only, visibly, instead of silently passing. A kind whose async
transport belongs to the event loop that first used it (httpx's pool does) says so with
``one_event_loop=True``: it must then refuse other loops with a clear ``TransportError``.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from atoll_httpx import HttpxTransport, SyncHttpxTransport
from atoll_wire import AsyncTransport, HttpResponse, SyncTransport, Timeout, TransportError

from tests.curl.kind import curl_async, curl_sync
from tests.sdk_openai.kind import sdk_async, sdk_sync
from tests.transports._peer import PlainServer

# Generous enough never to fire on a healthy run, short enough that a hang fails fast.
SUITE_TIMEOUT = Timeout(connect=5.0, read=15.0, write=15.0, pool=30.0)


@dataclass(frozen=True)
class Options:
    """What the suite asks of a transport; each kind maps this onto its own constructor.

    ``trust_env`` is off unless a test needs it, so the host's proxy variables cannot interfere.
    """

    timeout: float | Timeout | None = SUITE_TIMEOUT
    max_body_bytes: int | None = 256 * 1024 * 1024
    ca_bundle: str | None = None
    verify: bool = True
    max_connections: int = 100
    trust_env: bool = False


@dataclass(frozen=True)
class TransportKind:
    """One transport under test."""

    name: str
    make_async: Callable[[Options], AsyncTransport]
    make_sync: Callable[[Options], SyncTransport]
    unsupported: dict[str, str] = field(default_factory=dict[str, str])
    one_event_loop: bool = False


def _httpx_async(options: Options, backend: str = "httpx") -> AsyncTransport:
    return HttpxTransport(
        timeout=options.timeout,
        max_body_bytes=options.max_body_bytes,
        ca_bundle=options.ca_bundle,
        verify=options.verify,
        max_connections=options.max_connections,
        trust_env=options.trust_env,
        backend="httpx2" if backend == "httpx2" else "httpx",
    )


def _httpx_sync(options: Options, backend: str = "httpx") -> SyncTransport:
    return SyncHttpxTransport(
        timeout=options.timeout,
        max_body_bytes=options.max_body_bytes,
        ca_bundle=options.ca_bundle,
        verify=options.verify,
        max_connections=options.max_connections,
        trust_env=options.trust_env,
        backend="httpx2" if backend == "httpx2" else "httpx",
    )


HTTPX = TransportKind("httpx", _httpx_async, _httpx_sync, one_event_loop=True)

CURL = TransportKind(
    "curl",
    curl_async,
    curl_sync,
    unsupported={
        "test_a_connection_the_server_closed_within_a_second_is_replaced": (
            "libcurl checks a pooled connection's health at most once a second; a connection "
            "the server closed, unannounced, within that second fails the next request with "
            "RemoteProtocolError, and it is not sent twice (tests/curl/test_errors.py)"
        )
    },
)

SDK_OPENAI = TransportKind("openai-sdk", sdk_async, sdk_sync, one_event_loop=True)

# Append new transports here (one line each).
KINDS: list[TransportKind] = [HTTPX, CURL, SDK_OPENAI]


@pytest.fixture(params=KINDS, ids=lambda kind: kind.name)
def kind(request: pytest.FixtureRequest) -> TransportKind:
    """The transport under test; skips tests the kind declares unsupported."""
    chosen: TransportKind = request.param
    test_name = request.node.originalname
    if test_name in chosen.unsupported:
        pytest.skip(f"{chosen.name}: {chosen.unsupported[test_name]}")
    return chosen


@pytest.fixture
def server() -> Iterator[PlainServer]:
    """A fresh plain HTTP/1.1 peer on 127.0.0.1."""
    with PlainServer() as peer:
        yield peer


@dataclass(frozen=True)
class TLSMaterial:
    """A throwaway CA and the PEM file a client trusts it from."""

    ca: trustme.CA
    ca_file: Path
    server_context: ssl.SSLContext


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLSMaterial:
    """A trustme CA with a certificate for 127.0.0.1 (session-wide: key generation is slow)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = tmp_path_factory.mktemp("tls") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TLSMaterial(ca, ca_file, context)


@pytest.fixture
def tls_server(tls: TLSMaterial) -> Iterator[PlainServer]:
    """The plain peer behind TLS, with a certificate from the ``tls`` CA."""
    with PlainServer(tls.server_context) as peer:
        yield peer


def open_fds() -> int:
    """How many file descriptors this process holds (Linux)."""
    return len(os.listdir("/proc/self/fd"))


@asynccontextmanager
async def body_of(response: HttpResponse) -> AsyncIterator[AsyncGenerator[bytes]]:
    """``response.aiter_bytes()``, closed on exit even when abandoned half-read (trio insists)."""
    body = response.aiter_bytes()
    assert isinstance(body, AsyncGenerator)
    async with aclosing(body) as closing:
        yield closing


# Replies that are not HTTP: each transport must raise RemoteProtocolError (the server broke HTTP).
GARBAGE_REPLIES = {
    "not-http": b"garbage\r\n\r\n",
    "status-not-a-number": b"HTTP/1.1 abc OK\r\ncontent-length: 0\r\n\r\n",
    "two-digit-status": b"HTTP/1.1 20 OK\r\ncontent-length: 0\r\n\r\n",
    "unknown-version": b"HTTP/9.9 200 OK\r\ncontent-length: 2\r\n\r\nok",
    "binary": b"\x00\x01\x02\xff\r\n\r\n",
    "another-protocol": b"SSH-2.0-OpenSSH_9.6\r\n",
    "header-without-colon": b"HTTP/1.1 200 OK\r\nno colon here\r\ncontent-length: 2\r\n\r\nok",
}


def assert_clean_timeout(exc: TransportError, seconds: float | None) -> None:
    """A timeout says which limit expired, never the event loop's cancellation internals."""
    text = str(exc)
    assert "cancel" not in text.lower(), text
    assert not re.search(r"\b[0-9a-f]{8,}\b", text), text  # no object ids ("scope 7f55...")
    if seconds is not None:
        assert f"{seconds:g} s" in exc.message, exc.message


@pytest.fixture
def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (the port was just released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture
def blackhole_url() -> Iterator[str]:
    """A URL on 127.0.0.1 whose TCP handshake never completes.

    A listener with backlog 0 that never accepts, its queue already full: Linux then drops new
    SYNs, so connecting hangs until the client's connect timeout.
    """
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
