"""atoll_curl: async and sync ``Transport`` on libcurl.

``CurlTransport`` drives one pycurl ``CurlMulti`` per transport from anyio socket readiness, so it
runs on asyncio and on trio with no thread per request; ``SyncCurlTransport`` is its blocking
twin with the same options. Both implement atoll_wire's transport interface: connection pooling
and keep-alive, TLS verification (system CA bundle or ``ca_bundle``), proxies from the
environment, per-phase timeouts, a maximum response size, HTTP/2 when libcurl has it, and
streaming bodies with backpressure.

Example:
    >>> from atoll_curl import CurlTransport
    >>> transport = CurlTransport(max_connections=64)
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._async import CurlTransport
from ._sync import SyncCurlTransport

__version__ = "0.1.0"

__all__ = (
    "AtollError",
    "CurlTransport",
    "SyncCurlTransport",
)
