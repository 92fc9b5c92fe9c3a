"""The sync Client: the same attempt loop as ``Client`` on a sync transport, no event loop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Self, Unpack

from atoll_registry import Registry
from atoll_wire import SyncTransport, Timeout
from opentelemetry import trace

from ._auth import Auth, NoAuth
from ._base import ClientBase
from ._dialect import Embeddings
from ._drive import send_sync
from ._exceptions import InvalidOptionError
from ._options import ChatOptions
from ._redactor import Redactor
from ._request import MessagesOrPrompt
from ._result import ClientResponse
from ._retry import RetryPolicy
from ._sync_stream import SyncChatStream
from ._transports import default_sync_transport

if TYPE_CHECKING:  # loaded when first needed, not on import
    from opentelemetry.metrics import MeterProvider

    from ._callbacks import Callback, Callbacks

__all__ = ["SyncClient"]


class SyncClient(ClientBase):
    """A blocking client with the same behaviour as ``Client``.

    It runs on a ``SyncTransport`` (default: atoll_curl's, else atoll_httpx's) in the calling
    thread; it never starts an event loop. Arguments are those of ``Client``; the deadline
    caps each transport phase (a blocking call cannot be interrupted otherwise). Callbacks must
    be sync: there is no event loop to await async ones.
    """

    def __init__(
        self,
        model: str | Sequence[str],
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: SyncTransport | None = None,
        retry: RetryPolicy | None = None,
        timeout: float | Timeout | None = None,
        dialect: str | None = None,
        registry: Registry | None = None,
        capture_content: bool = False,
        tracer_provider: trace.TracerProvider | None = None,
        auth: Auth | None = None,
        settings: Mapping[str, str] | None = None,
        default_headers: Mapping[str, str] | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        redactor: Redactor | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        if transport is not None and not isinstance(transport, SyncTransport):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("transport", transport, "an atoll_wire.SyncTransport")
        if auth is None and api_key is None and transport is not None and transport.authenticates:
            auth = NoAuth()  # the transport puts its own credentials on every request
        self._setup(
            model,
            tracer_provider,
            capture_content,
            base_url=base_url,
            api_key=api_key,
            retry=retry,
            timeout=timeout,
            dialect=dialect,
            registry=registry,
            auth=auth,
            settings=settings,
            default_headers=default_headers,
            callbacks=callbacks,
            redactor=redactor,
            meter_provider=meter_provider,
            sync_only=True,
        )
        self._owns_transport = transport is None
        self._transport = transport if transport is not None else default_sync_transport()

    def __repr__(self) -> str:
        names = [t.label for t in self._engine.targets]
        return f"SyncClient(models={names!r}, transport={type(self._transport).__name__})"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the transport if this client made it."""
        if self._owns_transport:
            self._transport.close()

    def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ClientResponse:
        """Send one chat call and return the whole response; see ``Client.chat``."""
        loop = self._chat_loop(
            messages_or_prompt,
            options,
            stream=False,
            timeout=timeout,
            transport_timeout=self._transport.default_timeout,
            callbacks=callbacks,
        )
        response, body = send_sync(loop, self._transport, read=True)
        assert body is not None
        return loop.parsed(body, response.headers)

    def stream(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> SyncChatStream:
        """Stream one chat call: ``with client.stream(...) as s: for event in s: ...``."""
        loop = self._chat_loop(
            messages_or_prompt,
            options,
            stream=True,
            timeout=timeout,
            transport_timeout=self._transport.default_timeout,
            callbacks=callbacks,
        )
        return SyncChatStream(loop, self._transport)

    def embed(
        self,
        inputs: str | Sequence[str],
        *,
        dimensions: int | None = None,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
    ) -> Embeddings:
        """Embed texts; see ``Client.embed``."""
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        loop = self._loop(
            "embeddings",
            lambda target: target.dialect.build_embeddings(texts, target, dimensions=dimensions),
            timeout=timeout,
            transport_timeout=self._transport.default_timeout,
            callbacks=callbacks,
        )
        _, body = send_sync(loop, self._transport, read=True)
        assert body is not None
        target = loop.target
        try:
            result = target.dialect.parse_embeddings(body, target)
        except BaseException as error:
            loop.abandon(error)
            raise
        loop.succeeded(result.usage)
        return result
