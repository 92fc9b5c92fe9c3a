"""The Anthropic Messages dialect: ``POST {base_url}/messages`` with ``x-api-key``.

Claude on Vertex AI is the same dialect over ``rawPredict``/``streamRawPredict`` (the
``vertex_version`` quirk).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import msgspec
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    HttpRequest,
    Message,
    Part,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
)
from atoll_wire import anthropic as wire

from ._anthropic_quirks import AnthropicQuirks
from ._anthropic_request import build_body
from ._anthropic_stream import AnthropicStreamDecoder, normalise_usage, start_input_text
from ._capabilities import check_capabilities
from ._dialect import Dialect
from ._dialects import register_dialect
from ._encode import dumps, finish_reason, tool_call_part
from ._error_bodies import error_from_stream_error
from ._exceptions import CapabilityError, InvalidResponseError
from ._quirks import DialectQuirks, ModelFacts
from ._vertex import vertex_model_url

if TYPE_CHECKING:
    from ._model_list import ModelPage
    from ._target import Target

#: Sent when the provider's registry entry does not fix a version itself.
DEFAULT_VERSION = "2023-06-01"

_DEFAULT_QUIRKS = AnthropicQuirks()


def quirks_of(target: Target) -> AnthropicQuirks:
    """The target's quirk record (the dialect's defaults if another dialect made it)."""
    quirks = target.quirks
    return quirks if isinstance(quirks, AnthropicQuirks) else _DEFAULT_QUIRKS


def native_output_format(facts: ModelFacts) -> bool:
    """Whether the model takes ``output_config.format`` (the registry says JSON-schema output)."""
    return facts.json_schema is True


def schema_as_tool(request: ChatRequest, facts: ModelFacts) -> bool:
    """Structured output through a forced tool unless the model takes ``output_config.format``."""
    if request.output_schema is None or native_output_format(facts):
        return False
    if facts.tools is False:
        raise CapabilityError(
            "json_schema",
            "the model supports neither native structured output nor tools",
            provider=facts.provider,
            model=facts.model or request.model,
        )
    return True


def _output_tool(request: ChatRequest | None, facts: ModelFacts) -> str | None:
    if request is None or request.output_schema is None:
        return None
    return request.output_schema.name if schema_as_tool(request, facts) else None


def _part(block: wire.ContentBlock, output_tool: str | None) -> Part | None:
    if isinstance(block, wire.TextBlock):
        return TextPart(text=block.text) if block.text else None
    if isinstance(block, wire.ThinkingBlock):
        return ThinkingPart(text=block.thinking, signature=block.signature)
    if isinstance(block, wire.RedactedThinkingBlock):
        return RedactedThinkingPart(data=block.data)
    if isinstance(block, wire.ToolUseBlock):
        arguments = start_input_text(block.input)
        if output_tool is not None and block.name == output_tool:
            return TextPart(text=arguments or "{}")
        return tool_call_part(block.id, block.name, arguments)
    return None  # server tool blocks ran at the provider; they are not client parts


class AnthropicMessagesDialect(Dialect):
    """Speaks Anthropic's native Messages API.

    Example:
        >>> from atoll_dialects import AnthropicMessagesDialect
        >>> AnthropicMessagesDialect().name
        'anthropic-messages'
    """

    name: ClassVar[str] = "anthropic-messages"
    auth: ClassVar[str] = "x-api-key"
    quirks_type: ClassVar[type[DialectQuirks]] = AnthropicQuirks

    def build(self, request: ChatRequest, target: Target) -> HttpRequest:
        """Build ``POST {base_url}/messages``; see ``Dialect.build``."""
        facts = target.facts
        check_capabilities(request, facts)
        if request.output_schema is not None or request.tools:  # nothing to fit otherwise
            from ._schema_fit import fitted_request  # import time matters: only when needed

            request = fitted_request(
                request, lambda s: self.fit_schema(s, target), loose_output=True
            )
        body = build_body(
            request, quirks_of(target), facts, schema_as_tool=schema_as_tool(request, facts)
        )
        headers = dict(target.provider.headers)
        headers["content-type"] = "application/json"
        headers["accept"] = "text/event-stream" if request.stream else "application/json"
        vertex = quirks_of(target).vertex_version
        if vertex is not None:  # Claude on Vertex AI: the model moves to the URL
            fields: dict[str, object] = msgspec.json.decode(body)
            del fields["model"]
            body = dumps({"anthropic_version": vertex, **fields})
            method = ":streamRawPredict" if request.stream else ":rawPredict"
            url = vertex_model_url(target, "anthropic", request.model) + method
        else:
            headers.setdefault("anthropic-version", DEFAULT_VERSION)
            url = target.base_url.rstrip("/") + "/messages"
        return HttpRequest(method="POST", url=url, headers=headers, body=body)

    def parse(
        self, body: bytes, target: Target | None = None, request: ChatRequest | None = None
    ) -> ChatResponse:
        """Parse a Messages JSON body; see ``Dialect.parse``.

        Raises:
            APIError: The body is an error envelope sent with a success status.
            InvalidResponseError: The body is not a message at all.
        """
        target = target or self.default_target()
        facts = target.facts
        try:
            message = wire.decode_response(body)
            error = wire.decode_error(body).error if message.type == "error" else None
        except msgspec.DecodeError as exc:
            raise InvalidResponseError(
                f"the response is not a message: {exc}",
                status=200,
                provider=facts.provider,
                model=facts.model,
                body=body.decode("utf-8", "replace"),
            ) from exc
        if error is not None:
            raise error_from_stream_error(
                error_type=error.type,
                message=error.message,
                status=None,
                code=None,
                body=body.decode("utf-8", "replace"),
                provider=facts.provider,
                model=facts.model,
            )
        output_tool = _output_tool(request, facts)
        parts = [p for p in (_part(b, output_tool) for b in message.content) if p is not None]
        return ChatResponse(
            id=message.id or None,
            model=message.model or None,
            message=Message(role="assistant", parts=parts),
            finish_reason=finish_reason(message.stop_reason),
            raw_finish_reason=message.stop_reason,
            usage=normalise_usage(message.usage, quirks_of(target)),
            provider=facts.provider,
        )

    def stream_decoder(
        self, target: Target | None = None, request: ChatRequest | None = None
    ) -> AnthropicStreamDecoder:
        """A decoder for one Messages stream; see ``Dialect.stream_decoder``."""
        target = target or self.default_target()
        return AnthropicStreamDecoder(
            quirks_of(target), output_tool=_output_tool(request, target.facts)
        )

    def fit_schema(self, schema: Mapping[str, Any], target: Target) -> dict[str, Any]:
        """Keep what Anthropic's structured outputs support; move the rest into descriptions."""
        from ._schema_fit import fit_for_anthropic

        return fit_for_anthropic(schema)

    def build_models(self, target: Target, cursor: str | None = None) -> HttpRequest:
        """Build one page of ``GET {base_url}/models`` (``after_id`` pages on)."""
        from ._anthropic_extras import models_request

        return models_request(target, cursor, DEFAULT_VERSION)

    def parse_models(self, body: bytes, target: Target) -> ModelPage:
        """Parse a page of ``data`` with ``has_more``/``last_id``."""
        from ._model_list import parse_anthropic_models

        return parse_anthropic_models(body, target)

    def build_count_tokens(self, request: ChatRequest, target: Target) -> HttpRequest:
        """Build ``POST {base_url}/messages/count_tokens``."""
        from ._anthropic_extras import count_tokens_request
        from ._schema_fit import fitted_request

        fitted = fitted_request(request, lambda s: self.fit_schema(s, target), loose_output=True)
        return count_tokens_request(fitted, target, quirks_of(target), DEFAULT_VERSION)

    def parse_count_tokens(self, body: bytes, target: Target) -> int:
        """Read ``{"input_tokens": N}``."""
        from ._anthropic_extras import parse_token_count

        return parse_token_count(body, target)


register_dialect(AnthropicMessagesDialect())
