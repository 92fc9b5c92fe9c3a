"""The async Client: one neutral call in, one lossless response or event stream out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar, Unpack, overload

from atoll_registry import Registry
from atoll_wire import AsyncTransport, Timeout
from opentelemetry import trace

from ._auth import Auth, NoAuth
from ._client_calls import MAX_MODEL_PAGES, ClientCalls, completion_decoder
from ._dialect import Embeddings
from ._drive import send_async
from ._exceptions import InvalidOptionError
from ._options import ChatOptions, ToolChoiceOption, ToolSource
from ._redactor import Redactor
from ._request import MessagesOrPrompt
from ._result import ClientResponse
from ._retry import RetryPolicy
from ._stream import ChatStream
from ._transports import default_async_transport

if TYPE_CHECKING:  # loaded when first needed, not on import
    from atoll_generic import Limiter
    from opentelemetry.metrics import MeterProvider

    from ._callbacks import Callback, Callbacks
    from ._completions import CompletionOptions
    from ._model_list import ModelInfo
    from ._output import OutputLike
    from ._output_stream import OutputStream
    from ._parsed import ParsedResponse
    from ._token_count import TokenCount, Tokenizer

__all__ = ["Client", "OutputMode"]

T = TypeVar("T")
OutputMode = Literal["auto", "native", "tool", "prompted"]
"""How ``output=`` is asked for: ``auto`` (from the registry), the provider's JSON-schema mode,
a forced ``final_result`` tool, or the schema in a system message."""


class Client(ClientCalls):
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
        limiters: atoll_generic limiters (``RequestLimiter``, ``TokenLimiter``) told about the
            provider's rate-limit headers and 429s of every call, so work an ``Executor``
            runs with the same limiters slows down too. Feedback only: calls never wait on them.

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
        limiters: Sequence[Limiter] | None = None,
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
            limiters=limiters,
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

    @overload
    async def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: OutputLike[T],
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ParsedResponse[T]: ...

    @overload
    async def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: type[T],
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ParsedResponse[T]: ...

    @overload
    async def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: Mapping[str, Any],
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ParsedResponse[dict[str, Any]]: ...

    @overload
    async def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: None = None,
        timeout: float | None = None,  # noqa: ASYNC109
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ClientResponse: ...

    async def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: object = None,
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
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
            output: Structured output: a type (a pydantic model, dataclass, ``list[str]``...,
                with atoll-tools installed), a JSON Schema mapping, or an output spec such as
                ``atoll_tools.OutputSpec.of(T)``. The reply is validated into ``.parsed``.
            output_retries: Repair turns for a reply that fails validation (default 1): the
                error goes back to the model, which answers again.
            output_mode: ``auto`` (default: the provider's JSON-schema mode where the registry
                says the model has one, else a forced tool, else the schema in the prompt),
                or one of ``native``, ``tool``, ``prompted``.
            timeout: The overall deadline of this call (with ``output=``: of every reply),
                overriding the client's.
            callbacks: Callbacks for this call's events, besides the client's.
            **options: ``ChatOptions``: ``system``, ``temperature``, ``top_p``,
                ``max_tokens``, ``stop``, ``seed``, ``tools``, ``tool_choice``,
                ``parallel_tool_calls``, ``output_schema``, ``extra``, ``metadata``,
                ``extra_headers``.

        Returns:
            The response with usage, cost (None plus ``cost_note`` when a price is unknown),
            ``served_by`` and the failed ``attempts`` before it; with ``output=``, a
            ``ParsedResponse`` whose ``parsed`` is the validated value.

        Raises:
            InvalidOptionError: An option of the wrong name, type or value (nothing was sent).
            UnsupportedRequestError: The model cannot serve the request (nothing was sent).
            StructuredOutputError: With ``output=``: the last reply still failed validation
                after ``output_retries`` repairs.
            APIError: The typed error of the last attempt (RateLimitError, ServerError, ...).
            TransportError: The last attempt's connection failure.
            TimeoutError: The deadline passed.
        """
        if output is not None:
            call = self._output_call(
                messages_or_prompt,
                options,
                output=output,
                retries=output_retries,
                mode=output_mode,
                timeout=timeout,
                stream=False,
                callbacks=callbacks,
            )
            while True:
                loop = call.loop(stream=False, transport_timeout=None)
                response, body = await send_async(loop, self._transport, read=True)
                assert body is not None
                result = call.plan.judge(loop.parsed(body, response.headers))
                if result is not None:
                    return result
        if output_retries is not None or output_mode is not None:
            raise InvalidOptionError(
                "output_retries" if output_retries is not None else "output_mode",
                output_retries if output_retries is not None else output_mode,
                "given only with output=",
            )
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

    @overload
    def stream(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: OutputLike[T],
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> OutputStream[T]: ...

    @overload
    def stream(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: type[T],
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> OutputStream[T]: ...

    @overload
    def stream(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: Mapping[str, Any],
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> OutputStream[dict[str, Any]]: ...

    @overload
    def stream(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: None = None,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ChatStream: ...

    def stream(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: object = None,
        output_retries: int | None = None,
        output_mode: OutputMode | None = None,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ChatStream | OutputStream[Any]:
        """Stream one chat call.

        Use it as ``async with client.stream(...) as s: async for event in s: ...``, then read
        ``s.response``. Entering sends the request (with retries and fallbacks until the first
        byte); after an event has reached you, a failure raises (``StreamInterrupted``,
        ``TimeoutError`` or the provider's typed error) with ``exc.partial`` and is never
        retried silently.

        With ``output=`` it is an ``OutputStream``: ``s.partial`` is the object received so
        far (unvalidated), and after the stream ``s.parsed`` the validated value; a reply that
        fails validation is repaired (``output_retries``) and streams again.

        Args:
            messages_or_prompt: As for ``chat``.
            output: As for ``chat``.
            output_retries: As for ``chat``.
            output_mode: As for ``chat``.
            timeout: The overall deadline of this call, overriding the client's.
            callbacks: Callbacks for this call's events, besides the client's.
            **options: As for ``chat``.

        Raises:
            InvalidOptionError: An option of the wrong name, type or value (nothing was sent).
        """
        if output is not None:
            call = self._output_call(
                messages_or_prompt,
                options,
                output=output,
                retries=output_retries,
                mode=output_mode,
                timeout=timeout,
                stream=True,
                callbacks=callbacks,
            )
            from ._output_stream import OutputStream

            output_stream: OutputStream[Any] = OutputStream(
                call,
                lambda: ChatStream(call.loop(stream=True, transport_timeout=None), self._transport),
            )
            return output_stream
        if output_retries is not None or output_mode is not None:
            raise InvalidOptionError(
                "output_retries" if output_retries is not None else "output_mode",
                output_retries if output_retries is not None else output_mode,
                "given only with output=",
            )
        loop = self._chat_loop(
            messages_or_prompt,
            options,
            stream=True,
            timeout=timeout,
            transport_timeout=None,
            callbacks=callbacks,
        )
        return ChatStream(loop, self._transport)

    async def complete(
        self,
        prompt: str,
        /,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (see chat)
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[CompletionOptions],
    ) -> ClientResponse:
        """A legacy text completion: continue ``prompt`` (or fill the gap before ``suffix``).

        It goes to the provider's ``/completions`` endpoint (where the registry says it has
        one) with the same retries, fallbacks, deadline and spans as a chat call.

        Args:
            prompt: The text to continue.
            timeout: The overall deadline of this call.
            callbacks: Callbacks for this call's events, besides the client's.
            **options: ``CompletionOptions``: ``suffix`` (fill-in-the-middle), ``max_tokens``,
                ``temperature``, ``top_p``, ``stop``, ``seed``, ``extra``, ``extra_headers``.

        Returns:
            A response whose ``text`` is the completion, with usage, cost and the record.

        Raises:
            InvalidOptionError: An option of the wrong name, type or value (nothing was sent).
            UnsupportedRequestError: The provider has no completions endpoint, or takes no
                ``suffix`` (nothing was sent).
            APIError: The typed error of the last attempt.
            TimeoutError: The deadline passed.
        """
        loop = self._completion_loop(
            prompt,
            options,
            stream=False,
            timeout=timeout,
            transport_timeout=None,
            callbacks=callbacks,
        )
        response, body = await send_async(loop, self._transport, read=True)
        assert body is not None
        return self._completion_result(loop, body, response.headers)

    def complete_stream(
        self,
        prompt: str,
        /,
        *,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[CompletionOptions],
    ) -> ChatStream:
        """Stream a legacy text completion: ``async with client.complete_stream(...) as s``.

        The stream behaves as a chat stream (``TextDelta`` events, then ``s.response``);
        arguments are those of ``complete``.

        Raises:
            InvalidOptionError: An option of the wrong name, type or value (nothing was sent).
        """
        loop = self._completion_loop(
            prompt,
            options,
            stream=True,
            timeout=timeout,
            transport_timeout=None,
            callbacks=callbacks,
        )
        return ChatStream(loop, self._transport, completion_decoder)

    async def models(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 (see chat)
    ) -> list[ModelInfo]:
        """The models the first model's provider lists, with the registry's facts about each.

        Every page is fetched (Anthropic's list pages; OpenAI-compatible lists do not), each
        with the usual retries. A listed model the registry knows carries its context window,
        output limit, price and ``verified``; others carry only what the provider said.

        Args:
            timeout: The overall deadline for all pages.

        Raises:
            UnsupportedRequestError: The dialect has no model list.
            APIError: The typed error of a page's last attempt.
            TimeoutError: The deadline passed.
        """
        deadline = self._models_deadline(timeout)
        found: list[ModelInfo] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_MODEL_PAGES):
            loop = self._models_loop(cursor, deadline, None)
            response, body = await send_async(loop, self._transport, read=True)
            assert body is not None
            cursor = self._models_page(loop, body, response.headers, found)
            if cursor is None or cursor in seen:
                break
            seen.add(cursor)
        return found

    async def count_tokens(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        tools: ToolSource | Sequence[Any] | None = None,
        system: str | None = None,
        tool_choice: ToolChoiceOption | None = None,
        tokenizer: Tokenizer | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (see chat)
    ) -> TokenCount:
        """Count the input tokens a chat call with these messages and tools would use.

        The provider counts where its API can (Anthropic's ``count_tokens``: exact); else the
        ``tokenizer`` you pass counts locally, else it is an estimate (``exact=False``,
        ``method="estimate"``). With ``tokenizer=`` nothing is sent.

        Args:
            messages_or_prompt: As for ``chat``.
            tools: The tools the call would declare.
            system: A system prompt.
            tool_choice: The call's tool choice (Anthropic counts it).
            tokenizer: Count locally with this (anything with ``encode(text)``).
            timeout: The overall deadline of the provider's count.

        Raises:
            InvalidOptionError: An option of the wrong type or value (nothing was sent).
            APIError: The typed error of the counting call's last attempt.
        """
        plan = self._token_plan(
            messages_or_prompt,
            tools=tools,
            system=system,
            tool_choice=tool_choice,
            tokenizer=tokenizer,
            timeout=timeout,
            transport_timeout=None,
        )
        if plan.loop is None:
            assert plan.result is not None
            return plan.result
        response, body = await send_async(plan.loop, self._transport, read=True)
        assert body is not None
        return self._token_result(plan.loop, body, response.headers)

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
        response, body = await send_async(loop, self._transport, read=True)
        assert body is not None
        target = loop.target
        try:
            result = target.dialect.parse_embeddings(body, target)
        except BaseException as error:
            loop.abandon(error)
            raise
        loop.succeeded(result.usage, response.headers)
        return result
