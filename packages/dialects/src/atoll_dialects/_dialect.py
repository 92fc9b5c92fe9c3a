"""The Dialect ABC: one API family translated between neutral types and bytes on the wire.

A dialect is stateless and shared, and registers itself under its id (``register_dialect``).
It owns its URLs, its default auth scheme, its quirk record and its error-body parsing; what
differs between providers speaking it comes from the registry's data, read into the target's
``quirks`` and ``facts`` once, never from an ``if provider == ...`` chain. Per-stream state
lives in a ``StreamDecoder`` made per response.

Adding a dialect is: a module with a ``Dialect`` subclass (and a quirk record if it has quirks),
``register_dialect(MyDialect())``, and a registry data entry naming it. The Client, the attempt
loop, retries, fallbacks, cost and spans need no change.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from atoll_wire import SSEDecoder

from ._dialect_calls import DialectCalls
from ._error_bodies import error_from_response
from ._exceptions import APIError, UnsupportedRequestError
from ._quirks import DialectQuirks, read_quirks

if TYPE_CHECKING:
    from atoll_registry import ModelSpec, ProviderSpec
    from atoll_wire import (
        ChatRequest,
        ChatResponse,
        HttpRequest,
        ServerSentEvent,
        StreamEvent,
        Usage,
    )

    from ._target import Target

__all__ = ["Dialect", "Embeddings", "StreamDecoder"]


class StreamDecoder(ABC):
    """Turns one streamed response into neutral stream events.

    Make one per stream with ``Dialect.stream_decoder``; it keeps the state a dialect needs to
    tell tool calls apart, hold reasoning, and avoid counting usage twice. The Client hands it
    the body's bytes (``feed_bytes``, then ``finish_bytes``); by default they are split into
    Server-Sent Events and each goes to ``feed``. A dialect whose stream is framed otherwise
    (newline-delimited JSON, a JSON array) overrides ``feed_bytes`` and ``finish_bytes``.
    """

    _sse: SSEDecoder | None = None

    def feed_bytes(self, chunk: bytes) -> list[StreamEvent]:
        """Translate the next bytes of the body (the default reads Server-Sent Events)."""
        sse = self._sse
        if sse is None:
            sse = self._sse = SSEDecoder()
        out: list[StreamEvent] = []
        for event in sse.feed(chunk):
            out.extend(self.feed(event))
        return out

    def finish_bytes(self) -> list[StreamEvent]:
        """The body ended: flush what the framing holds, then ``finish``."""
        out: list[StreamEvent] = []
        if self._sse is not None:
            for event in self._sse.flush():
                out.extend(self.feed(event))
        out.extend(self.finish())
        return out

    @abstractmethod
    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        """Translate one server-sent event.

        Args:
            event: The next event from the SSE decoder (comments never reach here).

        Returns:
            Zero or more neutral events, in order.
        """

    @abstractmethod
    def finish(self) -> list[StreamEvent]:
        """Close the stream: flush what is held back and end open tool calls.

        When the provider's end marker (``[DONE]``, ``message_stop``) never came, no
        ``MessageEnd`` is emitted, so the accumulated response is marked incomplete.

        Returns:
            The final neutral events.
        """

    @property
    @abstractmethod
    def done(self) -> bool:
        """Whether the provider's end-of-stream marker has arrived."""


@dataclass(frozen=True, slots=True)
class Embeddings:
    """The result of an embeddings call.

    Attributes:
        vectors: One vector per input, in input order.
        model: The model the provider reports, if any.
        usage: Input tokens counted by the provider (``output_tokens`` stays ``None``).
    """

    vectors: list[list[float]]
    model: str | None = None
    usage: Usage | None = field(default=None)


class Dialect(DialectCalls, ABC):
    """Translates one API family: neutral request → HttpRequest, and responses → neutral types.

    Subclasses set ``name`` (the registry's dialect id), ``auth`` (the auth scheme used when the
    registry names none, and for custom ``base_url`` targets) and ``quirks_type`` (their quirk
    record; its defaults are the dialect's reference behaviour). Instances hold no per-call
    state and are shared. Requests are built without credentials: the Client adds the target's
    auth headers to every attempt. The hooks for other calls (completions, model lists, token
    counts, schema fitting) come from ``DialectCalls`` with defaults a dialect overrides.
    """

    name: ClassVar[str]
    auth: ClassVar[str] = "bearer"
    quirks_type: ClassVar[type[DialectQuirks]] = DialectQuirks

    def quirks(self, provider: ProviderSpec | None, model: ModelSpec | None) -> DialectQuirks:
        """Read a provider's registry quirks (with the model's overrides) into ``quirks_type``.

        Args:
            provider: The provider's entry, or None for the dialect's defaults.
            model: A model of that provider whose overrides apply, or None.

        Raises:
            RegistryDataError: A quirk this dialect does not know, or a value of the wrong type.
        """
        if provider is None:
            return self.quirks_type()
        return read_quirks(self.quirks_type, provider.quirks_for(model), provider=provider.name)

    @abstractmethod
    def build(self, request: ChatRequest, target: Target) -> HttpRequest:
        """Build the HTTP request for a chat call (without auth headers).

        The request is checked against the model's capabilities first: a request the model
        cannot serve raises before anything is sent.

        Args:
            request: The neutral request (``model`` already the target's wire name);
                ``request.stream`` selects a streaming body.
            target: Where it goes: base URL, quirks, facts, settings.

        Raises:
            UnsupportedRequestError: The request asks for something the model or dialect cannot do.
        """

    def default_target(self) -> Target:
        """A target with this dialect's defaults and nothing known about the model."""
        from ._target import Target  # the target module imports this one

        return Target.of(dialect=self.name)

    @abstractmethod
    def parse(
        self, body: bytes, target: Target | None = None, request: ChatRequest | None = None
    ) -> ChatResponse:
        """Parse a successful non-streaming response body.

        Args:
            body: The raw response body.
            target: The target that answered (quirks, facts); None: the dialect's defaults.
            request: The request that was sent; when it asked for structured output through a
                forced tool, that tool's arguments come back as the reply's text.

        Raises:
            APIError: The body is an error sent with a success status.
            InvalidResponseError: The body is not this API's response.
        """

    @abstractmethod
    def stream_decoder(
        self, target: Target | None = None, request: ChatRequest | None = None
    ) -> StreamDecoder:
        """Make a decoder for one streamed response (see ``parse`` for the arguments)."""

    def parse_error(
        self, status: int, headers: Mapping[str, str], body: bytes, target: Target
    ) -> APIError:
        """Turn an HTTP error response into the typed error (returned, not raised).

        The default reads the OpenAI/Anthropic envelope; a dialect with another error shape
        overrides this and builds its error with ``error_for``.

        Args:
            status: The HTTP status.
            headers: The response headers.
            body: The response body (at most the Client's error-body cap).
            target: The target that answered.
        """
        return error_from_response(
            status, headers, body, provider=target.provider.name, model=target.request_model
        )

    def build_embeddings(
        self, inputs: list[str], target: Target, *, dimensions: int | None = None
    ) -> HttpRequest:
        """Build an embeddings request; dialects with an embeddings endpoint override it.

        Args:
            inputs: The texts to embed.
            target: Where it goes.
            dimensions: Ask for shorter vectors, where the model supports it.

        Raises:
            UnsupportedRequestError: This dialect has no embeddings endpoint.
        """
        raise UnsupportedRequestError(
            f"the {self.name} dialect has no embeddings endpoint",
            provider=target.provider.name,
            model=target.request_model,
        )

    def parse_embeddings(self, body: bytes, target: Target | None = None) -> Embeddings:
        """Parse an embeddings response body.

        Raises:
            UnsupportedRequestError: This dialect has no embeddings endpoint.
        """
        raise UnsupportedRequestError(f"the {self.name} dialect has no embeddings endpoint")
