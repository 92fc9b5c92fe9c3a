"""The Anthropic Messages dialect: ``POST {base_url}/messages`` with ``x-api-key``."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

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
    Usage,
)

from ._anthropic_request import build_body
from ._anthropic_stream import AnthropicStreamDecoder, normalise_usage, start_input_text
from ._anthropic_wire import Block, envelope_decoder, message_decoder
from ._capabilities import check_capabilities
from ._dialect import Dialect
from ._encode import dumps, finish_reason, tool_call_part
from ._exceptions import CapabilityError, InvalidResponseError, error_from_stream_error
from ._quirks import Quirks, quirks_for

if TYPE_CHECKING:
    from atoll_registry import ModelSpec, ProviderSpec

#: Sent when the provider's registry entry does not fix a version itself.
DEFAULT_VERSION = "2023-06-01"


def _quirks(provider: ProviderSpec | None, model: ModelSpec | None) -> Quirks:
    return quirks_for(provider, model, anthropic=True)


def schema_as_tool(request: ChatRequest, quirks: Quirks) -> bool:
    """Structured output through a forced tool unless the model takes ``output_config.format``."""
    if request.output_schema is None or quirks.native_output_format:
        return False
    if quirks.tools is False:
        raise CapabilityError(
            "json_schema",
            "the model supports neither native structured output nor tools",
            provider=quirks.provider,
            model=quirks.model or request.model,
        )
    return True


def _output_tool(request: ChatRequest | None, quirks: Quirks) -> str | None:
    if request is None or request.output_schema is None:
        return None
    return request.output_schema.name if schema_as_tool(request, quirks) else None


def _part(block: Block, output_tool: str | None) -> Part | None:
    if block.type == "text":
        return TextPart(text=block.text) if block.text else None
    if block.type == "thinking":
        return ThinkingPart(text=block.thinking or "", signature=block.signature)
    if block.type == "redacted_thinking":
        return RedactedThinkingPart(data=block.data or "")
    if block.type == "tool_use":
        arguments = start_input_text(block.input)
        if output_tool is not None and block.name == output_tool:
            return TextPart(text=arguments or "{}")
        return tool_call_part(block.id or "", block.name or "", arguments)
    return None  # server tool blocks ran at the provider; they are not client parts


class AnthropicMessagesDialect(Dialect):
    """Speaks Anthropic's native Messages API.

    Example:
        >>> from atoll_dialects import AnthropicMessagesDialect
        >>> AnthropicMessagesDialect().name
        'anthropic-messages'
    """

    name: ClassVar[str] = "anthropic-messages"

    def build(
        self,
        request: ChatRequest,
        provider: ProviderSpec,
        model: ModelSpec | None,
        api_key: str | None,
        base_url: str,
    ) -> HttpRequest:
        """Build ``POST {base_url}/messages``; see ``Dialect.build``."""
        quirks = _quirks(provider, model)
        check_capabilities(request, quirks)
        body = build_body(request, quirks, schema_as_tool=schema_as_tool(request, quirks))
        headers = provider.auth_headers(api_key)
        headers.setdefault("anthropic-version", DEFAULT_VERSION)
        headers["content-type"] = "application/json"
        headers["accept"] = "text/event-stream" if request.stream else "application/json"
        return HttpRequest(
            method="POST",
            url=base_url.rstrip("/") + "/messages",
            headers=headers,
            body=dumps(body),
        )

    def parse(
        self,
        body: bytes,
        provider: ProviderSpec | None = None,
        model: ModelSpec | None = None,
        *,
        request: ChatRequest | None = None,
    ) -> ChatResponse:
        """Parse a Messages JSON body; see ``Dialect.parse``.

        Raises:
            APIError: The body is an error envelope sent with a success status.
            InvalidResponseError: The body is not a message at all.
        """
        quirks = _quirks(provider, model)
        try:
            envelope = envelope_decoder.decode(body)
            message = message_decoder.decode(body)
        except msgspec.DecodeError as exc:
            raise InvalidResponseError(
                f"the response is not a message: {exc}",
                status=200,
                provider=quirks.provider,
                model=quirks.model,
                body=body.decode("utf-8", "replace"),
            ) from exc
        if envelope.type == "error":
            error = envelope.error
            raise error_from_stream_error(
                error_type=(error.type if error else None) or "",
                message=(error.message if error else None) or "",
                status=None,
                code=None,
                body=body.decode("utf-8", "replace"),
                provider=quirks.provider,
                model=quirks.model,
            )
        output_tool = _output_tool(request, quirks)
        parts = [p for p in (_part(b, output_tool) for b in message.content) if p is not None]
        return ChatResponse(
            id=message.id,
            model=message.model,
            message=Message(role="assistant", parts=parts),
            finish_reason=finish_reason(message.stop_reason),
            raw_finish_reason=message.stop_reason,
            usage=normalise_usage(message.usage, quirks) if message.usage else Usage(),
            provider=quirks.provider,
        )

    def stream_decoder(
        self,
        provider: ProviderSpec | None = None,
        model: ModelSpec | None = None,
        *,
        request: ChatRequest | None = None,
    ) -> AnthropicStreamDecoder:
        """A decoder for one Messages stream; see ``Dialect.stream_decoder``."""
        quirks = _quirks(provider, model)
        return AnthropicStreamDecoder(quirks, output_tool=_output_tool(request, quirks))
