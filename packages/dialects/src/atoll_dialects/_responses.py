"""The OpenAI Responses dialect: ``POST {base_url}/responses``, stream and non-stream.

Chosen per model by the registry (a model whose entry names ``dialect: "openai-responses"``)
or for any model with ``Client(..., dialect="openai-responses")``. Stateless by default: the
whole conversation goes in ``input`` with ``store: false``, and reasoning comes back encrypted
and goes out again with the next turn (see ``_responses_request``); embeddings go to the same
provider's ``/embeddings`` as chat completions does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import msgspec
from atoll_wire import ChatRequest, ChatResponse, HttpRequest, Message, Usage
from atoll_wire.responses import decode_response

from ._capabilities import check_capabilities
from ._dialect import Dialect, Embeddings
from ._dialects import dialect_named, register_builtin_dialect
from ._error_bodies import error_from_stream_error, parse_error_fields
from ._exceptions import CapabilityError, InvalidResponseError
from ._quirks import DialectQuirks, ModelFacts
from ._responses_parse import failure_type, finish_of, normalise_usage, output_parts
from ._responses_quirks import OpenAIResponsesQuirks
from ._responses_request import build_body
from ._responses_stream import ResponsesStreamDecoder

if TYPE_CHECKING:
    from ._target import Target

_DEFAULT_QUIRKS = OpenAIResponsesQuirks()
_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
_SSE_HEADERS = {"Content-Type": "application/json", "Accept": "text/event-stream"}


def quirks_of(target: Target) -> OpenAIResponsesQuirks:
    """The target's quirk record (the dialect's defaults if another dialect made it)."""
    quirks = target.quirks
    return quirks if isinstance(quirks, OpenAIResponsesQuirks) else _DEFAULT_QUIRKS


def _schema_as_tool(request: ChatRequest, facts: ModelFacts) -> bool:
    """Structured output through a forced tool when the model lacks JSON-schema output."""
    if request.output_schema is None or facts.json_schema is not False:
        return False
    if facts.tools is False:
        raise CapabilityError(
            "json_schema",
            "the model supports neither JSON-schema output nor tools",
            provider=facts.provider,
            model=facts.model or request.model,
        )
    return True


def _output_tool(request: ChatRequest | None, facts: ModelFacts) -> str | None:
    if request is None or request.output_schema is None:
        return None
    return request.output_schema.name if _schema_as_tool(request, facts) else None


def _reasons(target: Target) -> bool | None:
    model = target.model
    if model is None or not model.known:
        return None
    return model.capabilities.reasoning


class OpenAIResponsesDialect(Dialect):
    """Speaks OpenAI's Responses API (``POST {base_url}/responses``).

    Example:
        >>> from atoll_dialects import OpenAIResponsesDialect
        >>> OpenAIResponsesDialect().name
        'openai-responses'
    """

    name: ClassVar[str] = "openai-responses"
    auth: ClassVar[str] = "bearer"
    quirks_type: ClassVar[type[DialectQuirks]] = OpenAIResponsesQuirks

    def build(self, request: ChatRequest, target: Target) -> HttpRequest:
        """Build ``POST {base_url}/responses``; see ``Dialect.build``.

        Raises:
            UnsupportedRequestError: Stop sequences, a seed, audio input, or a part the API
                cannot take.
            InvalidOptionError: A Responses option in ``extra`` (``store``, ``include``,
                ``reasoning``, ``reasoning_effort``) of the wrong type.
        """
        facts = target.facts
        check_capabilities(request, facts)
        body = build_body(
            request,
            quirks_of(target),
            facts,
            schema_as_tool=_schema_as_tool(request, facts),
            reasons=_reasons(target),
        )
        headers = dict(target.provider.headers)
        headers.update(_SSE_HEADERS if request.stream else _JSON_HEADERS)
        return HttpRequest(
            method="POST",
            url=target.base_url.rstrip("/") + "/responses",
            headers=headers,
            body=body,
        )

    def parse(
        self, body: bytes, target: Target | None = None, request: ChatRequest | None = None
    ) -> ChatResponse:
        """Parse a Responses JSON body; see ``Dialect.parse``.

        Raises:
            APIError: The response failed (``status: failed``) or the body is an error.
            InvalidResponseError: The body is not a response at all.
        """
        target = target or self.default_target()
        facts = target.facts
        try:
            response = decode_response(body)
        except msgspec.DecodeError as exc:
            raise InvalidResponseError(
                f"the response is not a Responses API response: {exc}",
                status=200,
                provider=facts.provider,
                model=facts.model,
                body=body.decode("utf-8", "replace"),
            ) from exc
        if response.status == "failed" or (response.error is not None and not response.output):
            error = response.error
            code = error.code if error is not None else None
            # A failed response carries a code only; an error envelope sent with 200 its type.
            error_type = (
                None if response.status == "failed" else parse_error_fields(body).error_type
            )
            raise error_from_stream_error(
                error_type=error_type or failure_type(code),
                message=(error.message if error is not None else "") or "the response failed",
                status=None,
                code=code,
                body=body.decode("utf-8", "replace"),
                provider=facts.provider,
                model=facts.model,
            )
        parts, calls = output_parts(response.output, _output_tool(request, facts))
        finish, raw = finish_of(response, calls=calls)
        return ChatResponse(
            id=response.id or None,
            model=response.model or None,
            message=Message(role="assistant", parts=parts),
            finish_reason=finish,
            raw_finish_reason=raw,
            usage=normalise_usage(response.usage) if response.usage else Usage(),
            provider=facts.provider,
        )

    def stream_decoder(
        self, target: Target | None = None, request: ChatRequest | None = None
    ) -> ResponsesStreamDecoder:
        """A decoder for one Responses stream; see ``Dialect.stream_decoder``."""
        target = target or self.default_target()
        return ResponsesStreamDecoder(output_tool=_output_tool(request, target.facts))

    def build_embeddings(
        self, inputs: list[str], target: Target, *, dimensions: int | None = None
    ) -> HttpRequest:
        """Build ``POST {base_url}/embeddings``: the provider's chat-completions endpoint family."""
        return dialect_named("openai-chat").build_embeddings(inputs, target, dimensions=dimensions)

    def parse_embeddings(self, body: bytes, target: Target | None = None) -> Embeddings:
        """Parse an embeddings response (as the openai-chat dialect does)."""
        return dialect_named("openai-chat").parse_embeddings(body, target)


register_builtin_dialect(OpenAIResponsesDialect())
