"""Factories that plug atoll_curl into the shared conformance suite (tests/transports)."""

from __future__ import annotations

from typing import Protocol

from atoll_curl import CurlTransport, SyncCurlTransport
from atoll_wire import Timeout


class SuiteOptions(Protocol):
    """The fields of ``tests.transports.conftest.Options`` the factories read."""

    @property
    def timeout(self) -> float | Timeout | None: ...
    @property
    def max_body_bytes(self) -> int | None: ...
    @property
    def ca_bundle(self) -> str | None: ...
    @property
    def verify(self) -> bool: ...
    @property
    def max_connections(self) -> int: ...
    @property
    def trust_env(self) -> bool: ...


def curl_async(options: SuiteOptions) -> CurlTransport:
    """A ``CurlTransport`` configured from the suite's options."""
    return CurlTransport(
        timeout=options.timeout,
        max_body_bytes=options.max_body_bytes,
        ca_bundle=options.ca_bundle,
        verify=options.verify,
        max_connections=options.max_connections,
        trust_env=options.trust_env,
    )


def curl_sync(options: SuiteOptions) -> SyncCurlTransport:
    """A ``SyncCurlTransport`` configured from the suite's options."""
    return SyncCurlTransport(
        timeout=options.timeout,
        max_body_bytes=options.max_body_bytes,
        ca_bundle=options.ca_bundle,
        verify=options.verify,
        max_connections=options.max_connections,
        trust_env=options.trust_env,
    )
