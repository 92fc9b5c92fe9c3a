"""Factories that plug atoll_openai_sdk into the shared conformance suite (tests/transports).

Each builds a real openai client from the suite's options (its HTTP client carries TLS, trust_env
and pool limits; the client carries the timeouts) and sends through it with
``use_client_endpoint=False``: the suite's peers live at arbitrary URLs, and the request's URL
and headers must reach them unchanged. Routing to the client's own API has its own tests
(tests/sdk_openai). The clients are built with the SDK's default of two retries, so any retry
the transport failed to switch off would show in the suite's server-side request counts.
"""

from __future__ import annotations

import ssl
from typing import Protocol

import httpx2
import openai
from atoll_openai_sdk import OpenAISDKTransport, SyncOpenAISDKTransport
from atoll_wire import Timeout

SUITE_KEY = "sk-suite-sdk-client"
# Never contacted: with use_client_endpoint=False each request goes to its own URL.
UNUSED_BASE_URL = "http://127.0.0.1:9/v1"


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


class OwningTransport(OpenAISDKTransport):
    """The transport, closing the openai client it was built with (the suite owns both)."""

    async def aclose(self) -> None:
        await super().aclose()
        await self.client.close()


class SyncOwningTransport(SyncOpenAISDKTransport):
    """The sync transport, closing its openai client on close."""

    def close(self) -> None:
        super().close()
        self.client.close()


def _verify(options: SuiteOptions) -> bool | ssl.SSLContext:
    if not options.verify:
        return False
    if options.ca_bundle is not None:
        return ssl.create_default_context(cafile=options.ca_bundle)
    return True


def _timeout(options: SuiteOptions) -> openai.Timeout | None:
    if options.timeout is None:
        return None
    phases = Timeout.of(options.timeout)
    return openai.Timeout(
        connect=phases.connect, read=phases.read, write=phases.write, pool=phases.pool
    )


def _limits(options: SuiteOptions) -> httpx2.Limits:
    return httpx2.Limits(
        max_connections=options.max_connections,
        max_keepalive_connections=options.max_connections,
    )


def sdk_async(options: SuiteOptions) -> OpenAISDKTransport:
    """An ``OpenAISDKTransport`` over a fresh ``openai.AsyncOpenAI`` built from the options."""
    http_client = openai.DefaultAsyncHttpxClient(
        verify=_verify(options), trust_env=options.trust_env, limits=_limits(options)
    )
    client = openai.AsyncOpenAI(
        api_key=SUITE_KEY,
        base_url=UNUSED_BASE_URL,
        http_client=http_client,
        timeout=_timeout(options),
    )
    return OwningTransport(client, use_client_endpoint=False, max_body_bytes=options.max_body_bytes)


def sdk_sync(options: SuiteOptions) -> SyncOpenAISDKTransport:
    """A ``SyncOpenAISDKTransport`` over a fresh ``openai.OpenAI`` built from the options."""
    http_client = openai.DefaultHttpxClient(
        verify=_verify(options), trust_env=options.trust_env, limits=_limits(options)
    )
    client = openai.OpenAI(
        api_key=SUITE_KEY,
        base_url=UNUSED_BASE_URL,
        http_client=http_client,
        timeout=_timeout(options),
    )
    return SyncOwningTransport(
        client, use_client_endpoint=False, max_body_bytes=options.max_body_bytes
    )
