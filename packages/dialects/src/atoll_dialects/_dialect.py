"""The Dialect ABC: one API family translated between neutral types and bytes on the wire.

A dialect is stateless and shared; everything that differs between providers speaking the same
dialect (a base URL, the auth header, whether ``stream_options`` is accepted, where reasoning
text arrives ...) is read from the registry's ``ProviderSpec``/``ModelSpec`` data, never from an
``if provider == ...`` chain. Per stream state lives in a ``StreamDecoder`` made per response.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from ._exceptions import APIError, UnsupportedRequestError, error_from_response

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


class StreamDecoder(ABC):
    """Turns one response's server-sent events into neutral stream events.

    Make one per stream with ``Dialect.stream_decoder``; it keeps the state a dialect needs to
    tell tool calls apart, hold reasoning, and avoid counting usage twice.
    """

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


class Dialect(ABC):
    """Translates one API family: neutral request → HttpRequest, and responses → neutral types.

    Subclasses set ``name`` to the registry's dialect id (``"openai-chat"``,
    ``"anthropic-messages"``). Instances hold no per-call state and may be shared.
    """

    name: ClassVar[str]

    @abstractmethod
    def build(
        self,
        request: ChatRequest,
        provider: ProviderSpec,
        model: ModelSpec | None,
        api_key: str | None,
        base_url: str,
    ) -> HttpRequest:
        """Build the HTTP request for a chat call.

        Secrets go in headers only. The request is checked against the model's capabilities
        first: a request the model cannot serve raises before anything is sent.

        Args:
            request: The neutral request; ``request.stream`` selects a streaming body.
            provider: The provider's registry entry (auth style and quirks are read from it).
            model: The model's registry entry, or ``None`` for a model the registry does not
                know (capabilities are then not checked).
            api_key: The key, or ``None`` for servers that need none (local Ollama, vLLM).
            base_url: The base URL to call (the provider's, or the user's override).

        Returns:
            The request to hand to a transport.

        Raises:
            UnsupportedRequestError: The request asks for something the model or dialect cannot do.
        """

    @abstractmethod
    def parse(
        self,
        body: bytes,
        provider: ProviderSpec | None = None,
        model: ModelSpec | None = None,
        *,
        request: ChatRequest | None = None,
    ) -> ChatResponse:
        """Parse a successful non-streaming response body.

        Args:
            body: The raw response body.
            provider: The provider's registry entry, for quirks (may be ``None``).
            model: The model's registry entry (may be ``None``).
            request: The request that was sent; when it asked for structured output through a
                forced tool, that tool's arguments come back as the reply's text.

        Returns:
            The neutral response.
        """

    @abstractmethod
    def stream_decoder(
        self,
        provider: ProviderSpec | None = None,
        model: ModelSpec | None = None,
        *,
        request: ChatRequest | None = None,
    ) -> StreamDecoder:
        """Make a decoder for one streamed response.

        Args:
            provider: The provider's registry entry, for quirks (may be ``None``).
            model: The model's registry entry (may be ``None``).
            request: The request that was sent (see ``parse``).

        Returns:
            A fresh decoder, used for exactly one stream.
        """

    def parse_error(
        self,
        status: int,
        headers: Mapping[str, str],
        body: bytes,
        provider: str | None = None,
        model: str | None = None,
    ) -> APIError:
        """Turn an HTTP error response into the typed error (returned, not raised).

        Args:
            status: The HTTP status.
            headers: The response headers.
            body: The response body.
            provider: The provider name, recorded on the error.
            model: The model name, recorded on the error.

        Returns:
            The most specific APIError subclass for the status and body.
        """
        return error_from_response(status, headers, body, provider=provider, model=model)

    def build_embeddings(
        self,
        inputs: list[str],
        model: str,
        provider: ProviderSpec,
        api_key: str | None,
        base_url: str,
        *,
        dimensions: int | None = None,
    ) -> HttpRequest:
        """Build an embeddings request; only dialects with an embeddings endpoint override it.

        Args:
            inputs: The texts to embed.
            model: The provider's model name.
            provider: The provider's registry entry.
            api_key: The key, if the server needs one.
            base_url: The base URL to call.
            dimensions: Ask for shorter vectors, where the model supports it.

        Raises:
            UnsupportedRequestError: This dialect has no embeddings endpoint.
        """
        raise UnsupportedRequestError(
            f"the {self.name} dialect has no embeddings endpoint",
            provider=provider.name,
            model=model,
        )

    def parse_embeddings(self, body: bytes) -> Embeddings:
        """Parse an embeddings response body.

        Args:
            body: The raw response body.

        Raises:
            UnsupportedRequestError: This dialect has no embeddings endpoint.
        """
        raise UnsupportedRequestError(f"the {self.name} dialect has no embeddings endpoint")
