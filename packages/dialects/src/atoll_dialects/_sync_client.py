"""The sync Client: the same attempt loop as ``Client`` on a sync transport, no event loop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, Unpack, overload

from atoll_registry import Registry
from atoll_wire import SyncTransport, Timeout
from opentelemetry import trace

from ._auth import Auth, NoAuth
from ._client import OutputMode
from ._client_calls import MAX_MODEL_PAGES, ClientCalls, completion_decoder
from ._dialect import Embeddings
from ._drive import send_sync
from ._exceptions import InvalidOptionError
from ._options import ChatOptions, ToolChoiceOption, ToolSource
from ._redactor import Redactor
from ._request import MessagesOrPrompt
from ._result import ClientResponse
from ._retry import RetryPolicy
from ._sync_stream import SyncChatStream
from ._transports import default_sync_transport

if TYPE_CHECKING:  # loaded when first needed, not on import
    from atoll_generic import Limiter
    from opentelemetry.metrics import MeterProvider

    from ._callbacks import Callback, Callbacks
    from ._completions import CompletionOptions
    from ._model_list import ModelInfo
    from ._output import OutputLike
    from ._output_stream import SyncOutputStream
    from ._parsed import ParsedResponse
    from ._token_count import TokenCount, Tokenizer

__all__ = ["SyncClient"]

T = TypeVar("T")


class SyncClient(ClientCalls):
    """A blocking client with the same behaviour as ``Client``.

    It runs on a ``SyncTransport`` (default: atoll_curl's, else atoll_httpx's) in the calling
    thread; it never starts an event loop. Arguments are those of ``Client``; the deadline
    caps each transport phase (a blocking call cannot be interrupted otherwise). Callbacks must
    be sync: there is no event loop to await async ones. Its ``limiters`` are told from the
    calling thread: give it limiters no running event loop waits on (atoll_generic limiters
    belong to one loop).
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
        limiters: Sequence[Limiter] | None = None,
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
            limiters=limiters,
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

    @overload
    def chat(
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
    ) -> ParsedResponse[T]: ...

    @overload
    def chat(
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
    ) -> ParsedResponse[T]: ...

    @overload
    def chat(
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
    ) -> ParsedResponse[dict[str, Any]]: ...

    @overload
    def chat(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        output: None = None,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[ChatOptions],
    ) -> ClientResponse: ...

    def chat(
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
    ) -> ClientResponse:
        """Send one chat call and return the whole response; see ``Client.chat``."""
        phases = self._transport.default_timeout
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
                loop = call.loop(stream=False, transport_timeout=phases)
                response, body = send_sync(loop, self._transport, read=True)
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
            transport_timeout=phases,
            callbacks=callbacks,
        )
        response, body = send_sync(loop, self._transport, read=True)
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
    ) -> SyncOutputStream[T]: ...

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
    ) -> SyncOutputStream[T]: ...

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
    ) -> SyncOutputStream[dict[str, Any]]: ...

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
    ) -> SyncChatStream: ...

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
    ) -> SyncChatStream | SyncOutputStream[Any]:
        """Stream one chat call: ``with client.stream(...) as s: for event in s: ...``.

        With ``output=`` it is a ``SyncOutputStream``; see ``Client.stream``.
        """
        phases = self._transport.default_timeout
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
            from ._output_stream import SyncOutputStream

            output_stream: SyncOutputStream[Any] = SyncOutputStream(
                call,
                lambda: SyncChatStream(
                    call.loop(stream=True, transport_timeout=phases), self._transport
                ),
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
            transport_timeout=phases,
            callbacks=callbacks,
        )
        return SyncChatStream(loop, self._transport)

    def complete(
        self,
        prompt: str,
        /,
        *,
        timeout: float | None = None,
        callbacks: Sequence[Callback] | Callbacks | None = None,
        **options: Unpack[CompletionOptions],
    ) -> ClientResponse:
        """A legacy text completion; see ``Client.complete``."""
        loop = self._completion_loop(
            prompt,
            options,
            stream=False,
            timeout=timeout,
            transport_timeout=self._transport.default_timeout,
            callbacks=callbacks,
        )
        response, body = send_sync(loop, self._transport, read=True)
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
    ) -> SyncChatStream:
        """Stream a legacy text completion: ``with client.complete_stream(...) as s``."""
        loop = self._completion_loop(
            prompt,
            options,
            stream=True,
            timeout=timeout,
            transport_timeout=self._transport.default_timeout,
            callbacks=callbacks,
        )
        return SyncChatStream(loop, self._transport, completion_decoder)

    def models(self, *, timeout: float | None = None) -> list[ModelInfo]:
        """The provider's model list with the registry's facts; see ``Client.models``."""
        deadline = self._models_deadline(timeout)
        found: list[ModelInfo] = []
        cursor: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_MODEL_PAGES):
            loop = self._models_loop(cursor, deadline, self._transport.default_timeout)
            response, body = send_sync(loop, self._transport, read=True)
            assert body is not None
            cursor = self._models_page(loop, body, response.headers, found)
            if cursor is None or cursor in seen:
                break
            seen.add(cursor)
        return found

    def count_tokens(
        self,
        messages_or_prompt: MessagesOrPrompt,
        /,
        *,
        tools: ToolSource | Sequence[Any] | None = None,
        system: str | None = None,
        tool_choice: ToolChoiceOption | None = None,
        tokenizer: Tokenizer | None = None,
        timeout: float | None = None,
    ) -> TokenCount:
        """Count a call's input tokens; see ``Client.count_tokens``."""
        plan = self._token_plan(
            messages_or_prompt,
            tools=tools,
            system=system,
            tool_choice=tool_choice,
            tokenizer=tokenizer,
            timeout=timeout,
            transport_timeout=self._transport.default_timeout,
        )
        if plan.loop is None:
            assert plan.result is not None
            return plan.result
        response, body = send_sync(plan.loop, self._transport, read=True)
        assert body is not None
        return self._token_result(plan.loop, body, response.headers)

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
        response, body = send_sync(loop, self._transport, read=True)
        assert body is not None
        target = loop.target
        try:
            result = target.dialect.parse_embeddings(body, target)
        except BaseException as error:
            loop.abandon(error)
            raise
        loop.succeeded(result.usage, response.headers)
        return result
