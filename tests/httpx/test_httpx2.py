"""The conformance tests that exercise backend-specific paths, re-run on the httpx2 backend.

httpx2 brings its own connection pool (httpcore2), exception classes and stream classes, so the
paths that touch them (error mapping, generator-free request bodies, unwinding abandoned bodies,
pool timeouts without our gate, proxies) are checked again here. The ``kind`` fixture is httpx2's.
"""

from __future__ import annotations

import pytest

from tests.transports.test_cancellation import (
    test_giving_up_closes_the_connection_promptly,
    test_no_leaks_after_a_thousand_cancelled_streams,
    test_slow_consumer_pauses_the_server,
)
from tests.transports.test_exchange import (
    test_a_thousand_concurrent_requests,
    test_body_is_delivered_as_it_arrives,
    test_chunk_boundaries_are_preserved,
    test_connections_are_reused,
    test_large_response_body,
    test_status_and_headers,
)
from tests.transports.test_failures import (
    test_connect_timeout,
    test_disconnect_mid_body_is_remote_protocol_error,
    test_pool_timeout,
    test_read_timeout_before_headers,
    test_read_timeout_mid_body,
    test_streamed_body_over_the_limit,
    test_write_timeout,
)
from tests.transports.test_sync import test_errors, test_no_leaks_after_abandoned_streams
from tests.transports.test_tls_and_proxy import (
    proxy_env,
    test_https_through_a_proxy_tunnel_from_the_environment,
    test_no_proxy_from_the_environment,
    test_proxy_from_the_environment,
    test_tls_is_verified_by_default,
    test_tls_with_a_custom_ca_bundle,
)

pytestmark = pytest.mark.anyio

__all__ = [
    "proxy_env",
    "test_a_thousand_concurrent_requests",
    "test_body_is_delivered_as_it_arrives",
    "test_chunk_boundaries_are_preserved",
    "test_connect_timeout",
    "test_connections_are_reused",
    "test_disconnect_mid_body_is_remote_protocol_error",
    "test_errors",
    "test_giving_up_closes_the_connection_promptly",
    "test_https_through_a_proxy_tunnel_from_the_environment",
    "test_large_response_body",
    "test_no_leaks_after_a_thousand_cancelled_streams",
    "test_no_leaks_after_abandoned_streams",
    "test_no_proxy_from_the_environment",
    "test_pool_timeout",
    "test_proxy_from_the_environment",
    "test_read_timeout_before_headers",
    "test_read_timeout_mid_body",
    "test_slow_consumer_pauses_the_server",
    "test_status_and_headers",
    "test_streamed_body_over_the_limit",
    "test_tls_is_verified_by_default",
    "test_tls_with_a_custom_ca_bundle",
    "test_write_timeout",
]
