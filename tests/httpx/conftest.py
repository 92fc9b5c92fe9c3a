"""Fixtures for atoll_httpx's own tests, shared with the conformance suite.

The conformance suite runs ``HttpxTransport`` on httpx. ``test_httpx2.py`` re-runs a selection
of its tests with the httpx2 backend through the ``kind`` fixture below.
"""

from __future__ import annotations

from functools import partial

import pytest

from tests.transports.conftest import (
    TransportKind,
    _httpx_async,  # pyright: ignore[reportPrivateUsage]
    _httpx_sync,  # pyright: ignore[reportPrivateUsage]
    blackhole_url,
    refused_url,
    server,
    tls,
    tls_server,
)

HTTPX2 = TransportKind(
    "httpx2", partial(_httpx_async, backend="httpx2"), partial(_httpx_sync, backend="httpx2")
)


@pytest.fixture
def kind() -> TransportKind:
    """The httpx2 flavour of HttpxTransport, for the re-run conformance tests."""
    return HTTPX2


__all__ = ["blackhole_url", "kind", "refused_url", "server", "tls", "tls_server"]
