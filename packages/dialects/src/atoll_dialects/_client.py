"""The async Client: one neutral call in, one lossless response or event stream out."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import anyio
from atoll_registry import Registry
from atoll_wire import AsyncTransport, HttpRequest, HttpResponse, Timeout, TransportError
from opentelemetry import trace

from ._deadline import DEFAULT_TRANSPORT_TIMEOUT, Deadline
from ._dialect import Embeddings
from ._engine import Engine, deadline_error
from ._exceptions import APIError, InvalidResponseError
from ._request import MessagesOrPrompt, build_request
from ._result import Attempt, ClientResponse
from ._retry import RetryPolicy
from ._stream import ChatStream
from ._target import Target, resolve_target
from ._telemetry import CallSpan, get_tracer
from ._transports import default_async_transport

_MAX_RESPONSE_BYTES = 64 * 1024 * 1024


class Client:
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
            a ``Timeout``: per-phase transport limits and no overall deadline.
        dialect: The dialect id for a custom ``base_url`` target (default ``"openai-chat"``).
        registry: Where model facts and prices come from (default ``Registry.default()``).
        capture_content: Record message content on spans (off by default: it may be private).
        tracer_provider: An OpenTelemetry tracer provider (default: the global one).

    Raises:
        UnknownModelError: A name is not in the registry and no ``base_url`` was given.
        MissingAPIKeyError: A provider needs a key and none was found (names the variable).

    Example:
        >>> async with Client("openai/gpt-4o-mini") as client:  # doctest: +SKIP
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
    ) -> None:
        self._engine = make_engine(
            model, base_url, api_key, retry, timeout, dialect, registry or Registry.default()
        )
        self._owns_transport = transport is None
        self._transport = transport if transport is not None else default_async_transport()
        self._tracer = get_tracer(tracer_provider)
        self._capture = capture_content

    @property
    def targets(self) -> Sequence[Target]:
        """The resolved models, in fallback order."""
        return self._engine.targets

    @property
    def registry(self) -> Registry:
        """The registry prices and model facts come from."""
        return self._engine.registry

    def __repr__(self) -> str:
        names = [t.label for t in self._engine.targets]
        return f"Client(models={names!r}, transport={type(self._transport).__name__})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the transport if this client made it."""
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
        **options: Any,
    ) -> ClientResponse:
        """Send one chat call and return the whole response.

        Args:
            messages_or_prompt: A prompt, a ``Message``, messages, or a ``ChatRequest``.
            timeout: The overall deadline of this call, overriding the client's.
            **options: ``system``, ``temperature``, ``top_p``, ``max_tokens``, ``stop``,
                ``seed``, ``tools``, ``tool_choice``, ``output_schema``, ``extra``, ``metadata``.

        Returns:
            The response with usage, cost (None plus ``cost_note`` when a price is unknown),
            ``served_by`` and the failed ``attempts`` before it.

        Raises:
            APIError: The typed error of the last attempt (RateLimitError, ServerError, ...).
            TimeoutError: The deadline passed.
            UnsupportedRequestError: The model cannot serve the request (nothing was sent).
        """
        request = build_request(messages_or_prompt, options, stream=False)
        engine = self._engine
        deadline = engine.deadline(timeout)
        history: list[Attempt] = []
        for position, target in enumerate(engine.targets):
            span = CallSpan(self._tracer, "chat", target, request, capture_content=self._capture)
            try:
                sent, http = engine.http_request(target, request, deadline)
                response, body = await send_with_retries(
                    engine, self._transport, target, http, deadline, history, span, read=True
                )
                await response.aclose()
                assert body is not None
                result = engine.finish(
                    target,
                    target.dialect.parse(body, target.provider, target.model, request=sent),
                    history,
                    response.headers,
                )
            except BaseException as error:
                span.fail(error)
                if isinstance(error, Exception) and engine.may_fall_back(error, position):
                    continue
                raise
            span.succeed(result)
            return result
        raise AssertionError("unreachable: the last target re-raises")  # pragma: no cover

    def stream(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        timeout: float | None = None,
        **options: Any,
    ) -> ChatStream:
        """Stream one chat call.

        Use it as ``async with client.stream(...) as s: async for event in s: ...``, then read
        ``s.response``. Entering sends the request (with retries and fallbacks until the first
        byte); after an event has reached you, a failure raises (``StreamInterrupted``,
        ``TimeoutError`` or the provider's typed error) with ``exc.partial`` and is never
        retried silently.

        Args:
            messages_or_prompt: A prompt, a ``Message``, messages, or a ``ChatRequest``.
            timeout: The overall deadline of this call, overriding the client's.
            **options: As for ``chat``.
        """
        request = build_request(messages_or_prompt, options, stream=True)
        return ChatStream(
            self._engine,
            self._transport,
            request,
            self._engine.deadline(timeout),
            tracer=self._tracer,
            capture_content=self._capture,
        )

    async def embed(
        self,
        inputs: str | Sequence[str],
        *,
        dimensions: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (see chat)
    ) -> Embeddings:
        """Embed texts with the client's (first) model on an OpenAI-compatible endpoint.

        Args:
            inputs: One text or several.
            dimensions: Ask for shorter vectors where the model supports it.
            timeout: The overall deadline of this call.

        Returns:
            One vector per input, in order, with the provider's usage.
        """
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        engine = self._engine
        target = engine.targets[0]
        deadline = engine.deadline(timeout)
        http = target.dialect.build_embeddings(
            texts,
            target.request_model,
            target.provider,
            target.api_key,
            target.base_url,
            dimensions=dimensions,
        )
        http.timeout = deadline.transport_timeout(engine.transport_timeout)
        span = CallSpan(self._tracer, "embeddings", target, None, capture_content=False)
        try:
            response, body = await send_with_retries(
                engine, self._transport, target, http, deadline, [], span, read=True
            )
            await response.aclose()
            assert body is not None
            result = target.dialect.parse_embeddings(body)
        except BaseException as error:
            span.fail(error)
            raise
        span.end()
        return result


def make_engine(
    model: str | Sequence[str],
    base_url: str | None,
    api_key: str | None,
    retry: RetryPolicy | None,
    timeout: float | Timeout | None,
    dialect: str | None,
    registry: Registry,
) -> Engine:
    """Resolve the models and gather the settings both clients share."""
    names = [model] if isinstance(model, str) else list(model)
    if not names:
        raise ValueError("Client needs at least one model name")
    targets = [
        resolve_target(n, registry=registry, base_url=base_url, api_key=api_key, dialect=dialect)
        for n in names
    ]
    if isinstance(timeout, Timeout):
        transport_timeout, overall = timeout, None
    else:
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        transport_timeout, overall = DEFAULT_TRANSPORT_TIMEOUT, timeout
    return Engine(
        targets=targets,
        registry=registry,
        retry=retry or RetryPolicy(),
        transport_timeout=transport_timeout,
        deadline_seconds=overall,
        max_response_bytes=_MAX_RESPONSE_BYTES,
    )


async def send_with_retries(
    engine: Engine,
    transport: AsyncTransport,
    target: Target,
    http: HttpRequest,
    deadline: Deadline,
    history: list[Attempt],
    span: CallSpan,
    *,
    read: bool,
    first_attempt: int = 1,
) -> tuple[HttpResponse, bytes | None]:
    """Send until a success response arrives, retrying as the policy allows.

    With ``read=True`` the body is read inside the retried region (a cut-off body is retried
    like any failure before the caller saw a byte); otherwise the open response is returned.

    Raises:
        APIError: The typed error of the last attempt.
        TransportError: The last attempt's connection failure.
        TimeoutError: The deadline passed.
    """
    number = first_attempt
    while True:
        http.timeout = deadline.transport_timeout(engine.transport_timeout)
        error: BaseException
        try:
            response, body = await _exchange(engine, transport, http, deadline, read=read)
        except TransportError as exc:
            error, decision = engine.judge_transport(target, number, exc)
        except builtins.TimeoutError as exc:  # anyio's deadline scope fired
            raise deadline_error(target, deadline.seconds, None) from exc
        else:
            if response.status < 400:
                return response, body
            error_body = body if body is not None else await _read_error_body(response)
            await response.aclose()
            error, decision = engine.judge_status(
                target, number, response.status, response.headers, error_body
            )
        if not decision.retry or not deadline.allows_wait(decision.delay):
            engine.record(history, target, number, error)
            engine.annotate(error, history)
            raise error
        engine.record(history, target, number, error, retry_in=decision.delay)
        span.attempt_failed(number, error, decision.delay)
        await anyio.sleep(decision.delay)
        number += 1


async def _exchange(
    engine: Engine, transport: AsyncTransport, http: HttpRequest, deadline: Deadline, *, read: bool
) -> tuple[HttpResponse, bytes | None]:
    left = deadline.remaining()
    if left is None:
        return await _send(engine, transport, http, read=read)
    with anyio.fail_after(left):
        return await _send(engine, transport, http, read=read)


async def _send(
    engine: Engine, transport: AsyncTransport, http: HttpRequest, *, read: bool
) -> tuple[HttpResponse, bytes | None]:
    response = await transport.send(http)
    if not read:
        return response, None
    try:
        return response, await response.aread(engine.max_response_bytes)
    finally:
        if not response.closed:  # a body read to its end has closed itself: no scope to pay for
            with anyio.CancelScope(shield=True):
                await response.aclose()


async def _read_error_body(response: HttpResponse) -> bytes:
    try:
        return await response.aread(1024 * 1024)
    except (TransportError, InvalidResponseError, APIError):
        return b""
