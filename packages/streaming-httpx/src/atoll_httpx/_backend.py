"""Which httpx to drive: ``httpx`` itself, or ``httpx2``, the maintained fork.

httpx2 keeps httpx's API (it even offers to alias itself as ``httpx``), so both are driven by the
same code. Everything at runtime goes through a :class:`Backend` record built from the imported
module; httpx is imported for type annotations only, so an environment that holds only httpx2
still works. httpx2's classes are typed as their httpx twins: the APIs we call are identical.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Literal, Self, cast

from ._errors import ErrorTable, error_table

if TYPE_CHECKING:
    import httpx

BackendName = Literal["httpx", "httpx2"]

# Preference order when the caller does not choose: the declared dependency first.
_PREFERENCE: tuple[BackendName, ...] = ("httpx", "httpx2")

_INSTALL_HINT = 'install one: pip install "atoll-streaming-httpx" (httpx) or pip install httpx2'


@dataclass(frozen=True, slots=True)
class Backend:
    """The classes of one httpx flavour.

    Attributes:
        name: ``"httpx"`` or ``"httpx2"``.
        version: The module's ``__version__``.
        async_client: Its ``AsyncClient`` class.
        sync_client: Its ``Client`` class.
        limits: Its ``Limits`` class.
        errors: How its exceptions map onto atoll_wire's.
        request_body: Wraps request body bytes as its ``AsyncByteStream`` (see ``_body_stream``).
    """

    name: BackendName
    version: str
    async_client: type[httpx.AsyncClient]
    sync_client: type[httpx.Client]
    limits: type[httpx.Limits]
    errors: ErrorTable
    request_body: Callable[[bytes], httpx.AsyncByteStream]


class _OneChunk:
    """Yields the body once. A plain iterator, not a generator, so nothing is left suspended."""

    __slots__ = ("_body",)

    def __init__(self, body: bytes) -> None:
        self._body: bytes | None = body

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> bytes:
        body = self._body
        if body is None:
            raise StopAsyncIteration
        self._body = None
        return body


def _body_stream(base: type[httpx.AsyncByteStream]) -> Callable[[bytes], httpx.AsyncByteStream]:
    # httpx wraps request bytes in a stream whose ``__aiter__`` is an async generator. When a
    # write fails (write timeout, reset) httpcore abandons it mid-iteration, and trio warns when
    # it is garbage-collected. This stream has the same contract without a generator.
    class RequestBody(base):
        __slots__ = ("_body",)

        def __init__(self, body: bytes) -> None:
            self._body = body

        def __aiter__(self) -> AsyncIterator[bytes]:
            return _OneChunk(self._body)

    return RequestBody


_CACHE: dict[str, Backend] = {}


def _from_module(name: BackendName, module: ModuleType) -> Backend:
    return Backend(
        name=name,
        version=str(getattr(module, "__version__", "unknown")),
        async_client=cast("type[httpx.AsyncClient]", module.AsyncClient),
        sync_client=cast("type[httpx.Client]", module.Client),
        limits=cast("type[httpx.Limits]", module.Limits),
        errors=error_table(module),
        request_body=_body_stream(cast("type[httpx.AsyncByteStream]", module.AsyncByteStream)),
    )


def load_backend(name: BackendName | None = None) -> Backend:
    """Import and describe a backend.

    Args:
        name: ``"httpx"``, ``"httpx2"``, or None for the first one installed (httpx preferred).

    Raises:
        ValueError: ``name`` is not a known backend.
        ImportError: The backend (or, with None, any backend) is not installed.
    """
    if name is not None and name not in _PREFERENCE:
        raise ValueError(f"backend must be one of {list(_PREFERENCE)} or None, got {name!r}")
    candidates: tuple[BackendName, ...] = _PREFERENCE if name is None else (name,)
    for candidate in candidates:
        cached = _CACHE.get(candidate)
        if cached is not None:
            return cached
        try:
            module = importlib.import_module(candidate)
        except ImportError:
            continue
        backend = _CACHE[candidate] = _from_module(candidate, module)
        return backend
    wanted = "httpx or httpx2" if name is None else name
    raise ImportError(f"atoll_httpx needs {wanted}, which is not installed; {_INSTALL_HINT}")


def backend_of(client: object) -> Backend:
    """The backend a ready-made client belongs to (``httpx.AsyncClient`` → httpx).

    Args:
        client: An ``AsyncClient`` or ``Client`` of httpx or httpx2.

    Raises:
        TypeError: ``client`` is not a client of either.
    """
    root = type(client).__module__.partition(".")[0]
    if root not in _PREFERENCE:
        raise TypeError(
            "client must be an httpx or httpx2 AsyncClient/Client, "
            f"got {type(client).__module__}.{type(client).__qualname__}"
        )
    return load_backend("httpx" if root == "httpx" else "httpx2")
