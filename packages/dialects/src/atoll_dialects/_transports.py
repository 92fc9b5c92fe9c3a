"""Which transport a Client uses when the caller does not pass one.

libcurl is the fast path (see benchmarks/transports.py), so atoll_curl wins when installed;
atoll_httpx is the fallback. Neither is a hard dependency: they are the ``[curl]`` and
``[httpx]`` extras, and a client without either says which to install.
"""

from __future__ import annotations

import importlib

from atoll_wire import AsyncTransport, SyncTransport

_MISSING = (
    'atoll_dialects needs a transport: pip install "atoll-dialects[curl]" (fastest) or '
    '"atoll-dialects[httpx]", or pass transport=...'
)


def default_async_transport() -> AsyncTransport:
    """A new async transport: ``atoll_curl.CurlTransport``, else ``atoll_httpx.HttpxTransport``.

    Raises:
        ImportError: Neither transport package is installed (names the extras).
    """
    for module, name in (("atoll_curl", "CurlTransport"), ("atoll_httpx", "HttpxTransport")):
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        transport: AsyncTransport = factory()
        return transport
    raise ImportError(_MISSING)


def default_sync_transport() -> SyncTransport:
    """A new sync transport: atoll_curl's ``SyncCurlTransport``, else atoll_httpx's.

    Raises:
        ImportError: Neither transport package is installed (names the extras).
    """
    for module, name in (
        ("atoll_curl", "SyncCurlTransport"),
        ("atoll_httpx", "SyncHttpxTransport"),
    ):
        try:
            factory = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
        transport: SyncTransport = factory()
        return transport
    raise ImportError(_MISSING)
