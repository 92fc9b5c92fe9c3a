"""The async Client: one neutral call in, one lossless response or event stream out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Self, Unpack

from atoll_registry import Registry
from atoll_wire import AsyncTransport, Timeout
from opentelemetry import trace

from ._auth import Auth, NoAuth
from ._base import ClientBase
from ._dialect import Embeddings
from ._drive import send_async
from ._exceptions import InvalidOptionError
from ._options import ChatOptions
from ._redactor import Redactor
from ._request import MessagesOrPrompt
from ._result import ClientResponse
from ._retry import RetryPolicy
from ._stream import ChatStream
from ._transports import default_async_transport

if TYPE_CHECKING:  # loaded when first needed, not on import
    from opentelemetry.metrics import MeterProvider

    from ._callbacks import Callback, Callbacks

__all__ = ["Client"]


class Client(ClientBase):
    """An async client for any model in the registry, or any compatible server.

    Args:
        model: A registry name or alias (``"openai/gpt-4o-mini"``, ``"claudeh"``), or a list of
            them to fall back through in order when one fails with a retryable error after its
            retries are spent.
        base_url: Send requests to this API root instead of the provider's (a proxy, a local
            server); with a name the registry does not know it makes a custom target.
        api_key: The key; default: the provider's environment variable. Never shown anywhere.
        transport: An ``AsyncTransport``; default: atoll_curl when installed, else atoll_httpx.
        retry: The retry policy (default ``RetryPolicy()``: 3 attempts, full jitter).
        timeout: One number: the overall deadline of each call across all attempts and waits;
            a ``Timeout``: per-phase transport limits and no overall deadline. Precedence, per
            phase: the call's ``timeout`` > the Client's > the transport's own > its default.
        dialect: Speak this dialect (a registered id) instead of the provider's; for a custom
            ``base_url`` the default is ``"openai-chat"``. The target then takes the dialect's
            own defaults for quirks and auth.
        registry: Where model facts and prices come from (default ``Registry.default()``).
        capture_content: Record message content on spans (off by default: it may be private).
        tracer_provider: An OpenTelemetry tracer provider (default: the global one).
        auth: Authenticate this way instead of the provider's scheme (``TokenAuth`` for OAuth
            tokens, or any ``Auth``).
        settings: Endpoint settings the dialect and auth read (``api_version``, ``project``,
            ``location``, ...), over the registry's.
        default_headers: Headers sent with every request (gateways, ranking headers); they go
            over the dialect's and the auth's. Checked now (no newlines); never logged.
        callbacks: Called with every call's events (``RequestStarted``, ``FirstToken``,
            ``RetryScheduled``, ``FallbackUsed``, ``RequestFinished``, ``RequestFailed``): sync
            callables run in place, async ones from a bounded queue in a task that
            ``async with Client(...)`` starts. A ``Callbacks`` set is used as it is.
        redactor: What spans, events, logs and errors may show (default ``Redactor()``;
            ``capture_content=True`` turns its content capture on). The client's own keys are
            always masked by value.
        meter_provider: An OpenTelemetry meter provider for the GenAI metrics (default: the
            global one; nothing is recorded until an SDK provider is configured).

    Raises:
        UnknownModelError: A name is not in the registry and no ``base_url`` was given.
        MissingAPIKeyError: A provider needs a key and none was found (names the variable).
        UnknownDialectError: The dialect or auth scheme named is not registered.
        InvalidOptionError: A setting of the wrong type or value (``retry=3``, ...).

    Example:
        >>> async with Client("openai/gpt-4o-mini", callbacks=[print]) as client:  # doctest: +SKIP
        ...     reply = await client.chat("Hello")
    """

    def __init__(
        self,
        model: str | Sequence[str],
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        transport: AsyncTransport | None = None,
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
        if transport is not None and not isinstance(transport, AsyncTransport):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidOptionError("transport", transport, "an atoll_wire.AsyncTransport")
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
        )
        self._owns_transport = transport is None
        self._transport = transport if transport is not None else default_async_transport()
        self._started_callbacks = False

    def __repr__(self) -> str:
        names = [t.label for t in self._engine.targets]
        return f"Client(models={names!r}, transport={type(self._transport).__name__})"

    async def __aenter__(self) -> Self:
        callbacks = self._callbacks
        if callbacks is not None and callbacks.has_async and not callbacks.running:
            await callbacks.start()  # their tasks live as long as this block
            self._started_callbacks = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Deliver queued events to async callbacks; close the transport if this client made it.

        Call it from the task that entered the client (``async with`` does).
        """
        if self._started_callbacks and self._callbacks is not None:
            self._started_callbacks = False
            await self._callbacks.aclose()
        if self._owns_transport:
            await self._transport.aclose()

    async def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        # A per-call deadline across retries and waits, reported as our typed TimeoutError with
        # the attempt record; a caller's fail_after could not say which attempt it cut.
        timeout: float | None = None,  # noqa: ASYNC109
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ClientResponse:
        """Send one chat call and return the whole response.

        Args:
            messages_or_prompt: A prompt, a ``Message``, messages (or OpenAI-style dicts), or a
                ``ChatRequest``.
            timeout: The overall deadline of this call, overriding the client's.
            callbacks: Callbacks for this call's events, besides the client's.
            **options: ``ChatOptions``: ``system``, ``temperature``, ``top_p``,
                ``max_tokens``, ``stop``, ``seed``, ``tools``, ``tool_choice``,
                ``parallel_tool_calls``, ``output_schema``, ``extra``, ``metadata``,
                ``extra_headers``.

        Returns:
            The response with usage, cost (None plus ``cost_note`` when a price is unknown),
            ``served_by`` and the failed ``attempts`` before it.

        Raises:
            InvalidOptionError: An option of the wrong name, type or value (nothing was sent).
            UnsupportedRequestError: The model cannot serve the request (nothing was sent).
            APIError: The typed error of the last attempt (RateLimitError, ServerError, ...).
            TransportError: The last attempt's connection failure.
            TimeoutError: The deadline passed.
        """
        loop = self._chat_loop(
            messages_or_prompt,
            options,
            stream=False,
            timeout=timeout,
            transport_timeout=None,
            callbacks=callbacks,
        )
        response, body = await send_async(loop, self._transport, read=True)
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
    ) -> ChatStream:
        """Stream one chat call.

        Use it as ``async with client.stream(...) as s: async for event in s: ...``, then read
        ``s.response``. Entering sends the request (with retries and fallbacks until the first
        byte); after an event has reached you, a failure raises (``StreamInterrupted``,
        ``TimeoutError`` or the provider's typed error) with ``exc.partial`` and is never
        retried silently.

        Args:
            messages_or_prompt: As for ``chat``.
            timeout: The overall deadline of this call, overriding the client's.
            callbacks: Callbacks for this call's events, besides the client's.
            **options: As for ``chat``.

        Raises:
            InvalidOptionError: An option of the wrong name, type or value (nothing was sent).
        """
        loop = self._chat_loop(
            messages_or_prompt,
            options,
            stream=True,
            timeout=timeout,
            transport_timeout=None,
            callbacks=callbacks,
        )
        return ChatStream(loop, self._transport)

    async def embed(
        self,
        inputs: str | Sequence[str],
        *,
        dimensions: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (see chat)
        callbacks: Sequence[Callback] | Callbacks | None = None,
    ) -> Embeddings:
        """Embed texts with the client's first model, with the same retries as a chat call.

        Args:
            inputs: One text or several.
            dimensions: Ask for shorter vectors where the model supports it.
            timeout: The overall deadline of this call.
            callbacks: Callbacks for this call's events, besides the client's.

        Returns:
            One vector per input, in order, with the provider's usage.
        """
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        loop = self._loop(
            "embeddings",
            lambda target: target.dialect.build_embeddings(texts, target, dimensions=dimensions),
            timeout=timeout,
            transport_timeout=None,
            callbacks=callbacks,
        )
        _, body = await send_async(loop, self._transport, read=True)
        assert body is not None
        target = loop.target
        try:
            result = target.dialect.parse_embeddings(body, target)
        except BaseException as error:
            loop.abandon(error)
            raise
        loop.succeeded(result.usage)
        return result
