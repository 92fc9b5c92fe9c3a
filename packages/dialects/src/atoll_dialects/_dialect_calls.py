"""The Dialect's hooks for calls other than chat: completions, model lists, token counts.

``Dialect`` inherits these defaults; a dialect overrides the ones its API has. A default either
refuses before anything is sent (``UnsupportedRequestError`` naming the dialect) or says "not
here" (``build_count_tokens`` returns None, so the Client counts locally), and
``fit_schema``/``relaxed_target`` default to changing nothing. The Client, its attempt loop,
retries, deadline and spans are the same for every call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ._exceptions import UnsupportedRequestError

if TYPE_CHECKING:
    from atoll_wire import ChatRequest, ChatResponse, HttpRequest

    from ._completions import CompletionRequest
    from ._dialect import StreamDecoder
    from ._exceptions import APIError
    from ._model_list import ModelPage
    from ._target import Target

__all__ = ["DialectCalls"]


class DialectCalls:
    """Default hooks for the calls beside chat (see the module docstring)."""

    name: ClassVar[str]

    def _unsupported(self, what: str, target: Target) -> UnsupportedRequestError:
        return UnsupportedRequestError(
            f"the {self.name} dialect has no {what}",
            provider=target.provider.name,
            model=target.request_model,
        )

    # ------------------------------------------------------------------ structured output

    def fit_schema(self, schema: Mapping[str, Any], target: Target) -> dict[str, Any]:
        """The JSON Schema as this API's enforced structured output and strict tools accept it.

        Keywords the provider refuses move into descriptions (the caller validates the reply
        against the full schema). The default changes nothing.

        Args:
            schema: An output schema or a strict tool's parameters (not modified).
            target: Where it goes (its quirks may list what the provider refuses).
        """
        return dict(schema)

    # ------------------------------------------------------------------ completions

    def build_completion(self, request: CompletionRequest, target: Target) -> HttpRequest:
        """Build a legacy text-completion request (``request.stream`` selects streaming).

        Raises:
            UnsupportedRequestError: The API (or the provider, per its quirks) has no
                completions endpoint, or no ``suffix`` when one is given.
        """
        raise self._unsupported("text completions endpoint", target)

    def parse_completion(self, body: bytes, target: Target) -> ChatResponse:
        """Parse a non-streamed completion body into a response holding the text.

        Raises:
            InvalidResponseError: The body is not a completion.
        """
        raise self._unsupported("text completions endpoint", target)

    def completion_stream_decoder(self, target: Target) -> StreamDecoder:
        """A decoder for one streamed completion (``TextDelta``, usage, ``MessageEnd``)."""
        raise self._unsupported("text completions endpoint", target)

    # ------------------------------------------------------------------ model lists

    def build_models(self, target: Target, cursor: str | None = None) -> HttpRequest:
        """Build one page's request of the provider's model list.

        Args:
            target: The provider to ask.
            cursor: The previous page's ``ModelPage.cursor`` (None: the first page).

        Raises:
            UnsupportedRequestError: The API has no model list.
        """
        raise self._unsupported("model list endpoint", target)

    def parse_models(self, body: bytes, target: Target) -> ModelPage:
        """Parse one page of the model list.

        Raises:
            InvalidResponseError: The body is not a model list.
        """
        raise self._unsupported("model list endpoint", target)

    # ------------------------------------------------------------------ token counts

    def build_count_tokens(self, request: ChatRequest, target: Target) -> HttpRequest | None:
        """Build a request to the provider's token-counting endpoint, or None when it has none.

        Args:
            request: The chat request whose input is counted (``model`` filled in).
            target: Where it goes.
        """
        return None

    def parse_count_tokens(self, body: bytes, target: Target) -> int:
        """The input token count in a counting endpoint's reply.

        Raises:
            InvalidResponseError: The body holds no count.
        """
        raise self._unsupported("token counting endpoint", target)

    # ------------------------------------------------------------------ request fields

    def relaxed_target(self, error: APIError, target: Target) -> Target | None:
        """The target adjusted to stop sending a field the server just refused, or None.

        A dialect sends some fields by default that not every compatible server accepts
        (openai-chat's ``stream_options``). When a server rejects one with a 400 naming it,
        the Client retries once with the target this returns, and keeps using it for the rest
        of the Client's life. The default never relaxes anything.

        Args:
            error: The typed error of the refused attempt (a ``BadRequestError``).
            target: The target that refused it.
        """
        return None
