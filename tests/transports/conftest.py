"""The transport conformance suite: every test runs for each transport in ``KINDS``.

To plug a new transport in, append one ``TransportKind`` to ``KINDS`` (see ``HTTPX`` below): two
factories that build the async and the sync transport from the suite's ``Options``. Everything
else (the plain peer server, TLS material, fd counting) is shared. Async tests additionally run
on asyncio and trio through the root ``anyio_backend`` fixture.

A kind that cannot honour a behaviour lists that test's name in ``unsupported`` with the reason;
the test then skips for that kind only, visibly, instead of silently passing.
"""

from __future__ import annotations

import contextlib
import os
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
from atoll_wire import AsyncTransport, HttpResponse, SyncTransport, Timeout

from tests.curl.kind import curl_async, curl_sync
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


HTTPX = TransportKind("httpx", _httpx_async, _httpx_sync)

# Append new transports here (one line each).
KINDS: list[TransportKind] = [HTTPX, TransportKind("curl", curl_async, curl_sync)]


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
