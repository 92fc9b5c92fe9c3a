"""Fixtures for the curl-specific tests: the local server, TLS material, fd counting."""

from __future__ import annotations

import os
import ssl
from collections.abc import AsyncGenerator, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pytest
import trustme
from atoll_wire import HttpResponse, SyncHttpResponse, Timeout

from tests.curl._server import Server

# Generous enough never to fire on a healthy run, short enough that a hang fails fast.
TEST_TIMEOUT = Timeout(connect=5.0, read=15.0, write=15.0, pool=30.0)


@pytest.fixture
def server() -> Iterator[Server]:
    """A fresh HTTP/1.1 server on 127.0.0.1."""
    with Server() as srv:
        yield srv


@dataclass(frozen=True)
class TLS:
    """A throwaway CA, the PEM file that trusts it, and a server context it signed."""

    ca_file: Path
    cert_file: Path
    server_context: ssl.SSLContext


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TLS:
    """A trustme CA with a certificate for 127.0.0.1 (session-wide: keys are slow to make)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    folder = tmp_path_factory.mktemp("curl-tls")
    ca_file = folder / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert_file = folder / "server.pem"  # key and chain, for servers that build their own context
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_file))
    return TLS(ca_file, cert_file, context)


@pytest.fixture
def tls_server(tls: TLS) -> Iterator[Server]:
    """The server behind TLS with a certificate from the ``tls`` CA."""
    with Server(tls.server_context) as srv:
        yield srv


def open_fds() -> int:
    """How many file descriptors this process holds (Linux)."""
    return len(os.listdir("/proc/self/fd"))


def body_of(response: HttpResponse) -> AsyncGenerator[bytes, None]:
    """``response.aiter_bytes()``, typed as the async generator it is (for ``aclosing``)."""
    return cast("AsyncGenerator[bytes, None]", response.aiter_bytes())


def sync_body_of(response: SyncHttpResponse) -> Generator[bytes, None, None]:
    """``response.iter_bytes()``, typed as the generator it is (it has ``close``)."""
    return cast("Generator[bytes, None, None]", response.iter_bytes())
