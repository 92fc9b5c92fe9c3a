"""atoll_httpx: atoll_wire's Transport interface on httpx (async and sync).

``HttpxTransport`` (async, asyncio or trio) and ``SyncHttpxTransport`` (blocking) send an
``atoll_wire.HttpRequest`` and return a response whose body streams as you iterate it. They pool
and keep connections alive, verify TLS (optionally against your own CA bundle), honour proxy
environment variables, apply connect/read/write/pool timeouts, cap the response size, speak
HTTP/2 on request (``http2=True``, with ``h2``), and raise only ``atoll_wire.TransportError``
subclasses.
httpx is preferred; httpx2 (the maintained fork) is used when it is the one installed, or when
asked for with ``backend="httpx2"``.

Example:
    >>> import anyio
    >>> from atoll_wire import HttpRequest
    >>> from atoll_httpx import HttpxTransport
    >>> async def main() -> None:
    ...     async with HttpxTransport() as transport:
    ...         request = HttpRequest("GET", "https://example.org/")
    ...         async with await transport.send(request) as response:
    ...             async for chunk in response.aiter_bytes():
    ...                 print(len(chunk))
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._async import HttpxTransport
from ._sync import SyncHttpxTransport

__version__ = "0.1.0"

__all__: tuple[str, ...] = (
    "AtollError",
    "HttpxTransport",
    "SyncHttpxTransport",
)
