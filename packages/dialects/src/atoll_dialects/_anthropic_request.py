"""Neutral ChatRequest → Anthropic Messages request body (``atoll_wire.anthropic`` structs).

System messages are hoisted into ``system``; tool results travel as ``tool_result`` blocks in a
user turn; consecutive turns of one role are merged (the API wants them alternating, and all
results of parallel calls in one turn). Signed thinking and redacted thinking go back verbatim;
thinking without a signature (from another provider) cannot be verified by Anthropic and is not
sent. ``extra["cache_control"]`` (for example ``{"type": "ephemeral"}``) marks cache breakpoints
on the system prompt, the last tool and the last block of the conversation. The body is built
from the typed wire structs atoll_testing parses too, so building and reading cannot drift.
"""

from __future__ import annotations

from typing import Any

import msgspec
from atoll_wire import (
    ChatRequest,
    DocumentPart,
    ImagePart,
    Message,
    Part,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
)
from atoll_wire import anthropic as wire

from ._anthropic_quirks import AnthropicQuirks
from ._encode import b64
from ._exceptions import UnsupportedRequestError
from ._quirks import ModelFacts

JSON = dict[str, Any]

# The output cap sent when the API requires one, the caller gave none and the registry does
# not know the model's limit.
_DEFAULT_MAX_TOKENS = 4096


def _image(part: ImagePart, facts: ModelFacts) -> wire.ImageBlock:
    if part.data is not None:
        if not part.media_type:
            raise UnsupportedRequestError(
                "an ImagePart with bytes needs its media_type", provider=facts.provider
            )
        source = wire.Source(type="base64", media_type=part.media_type, data=b64(part.data))
    elif part.url and part.url.startswith("data:"):
        header, _, data = part.url.partition(",")
        media_type = header[5:].split(";")[0]
        source = wire.Source(type="base64", media_type=media_type, data=data)
    elif part.url:
        source = wire.Source(type="url", url=part.url)
    else:
        raise UnsupportedRequestError("an ImagePart needs a url or data", provider=facts.provider)
    return wire.ImageBlock(source=source)


def _document(part: DocumentPart, facts: ModelFacts) -> wire.DocumentBlock:
    if part.data is not None:
        if part.media_type.startswith("text/"):
            text = part.data.decode("utf-8")
            source = wire.Source(type="text", media_type="text/plain", data=text)
        else:
            source = wire.Source(type="base64", media_type=part.media_type, data=b64(part.data))
    elif part.url:
        source = wire.Source(type="url", url=part.url)
    else:
        raise UnsupportedRequestError("a DocumentPart needs data or a url", provider=facts.provider)
    return wire.DocumentBlock(source=source, title=part.title)


def _tool_result(part: ToolResultPart, facts: ModelFacts) -> wire.ToolResultBlock:
    content: list[wire.TextBlock | wire.ImageBlock | wire.DocumentBlock | wire.SearchResultBlock]
    content = []
    for item in part.content:
        if isinstance(item, TextPart):
            content.append(wire.TextBlock(text=item.text))
        elif isinstance(item, ImagePart):
            content.append(_image(item, facts))
        else:
            content.append(_document(item, facts))
    return wire.ToolResultBlock(
        tool_use_id=part.call_id, content=content, is_error=True if part.is_error else None
    )


def _block(part: Part, facts: ModelFacts) -> wire.ContentBlock | None:
    """One part → one content block (``None``: not sendable to Anthropic, see module doc)."""
    if isinstance(part, TextPart):
        return wire.TextBlock(text=part.text) if part.text else None
    if isinstance(part, ImagePart):
        return _image(part, facts)
    if isinstance(part, DocumentPart):
        return _document(part, facts)
    if isinstance(part, ToolCallPart):
        return wire.ToolUseBlock(id=part.id, name=part.name, input=part.arguments)
    if isinstance(part, ToolResultPart):
        return _tool_result(part, facts)
    if isinstance(part, ThinkingPart):
        if part.signature is None:
            return None
        return wire.ThinkingBlock(thinking=part.text, signature=part.signature)
    if isinstance(part, RedactedThinkingPart):
        # One with an item id is OpenAI Responses' encrypted reasoning: Anthropic rejects it.
        return None if part.id else wire.RedactedThinkingBlock(data=part.data)
    raise UnsupportedRequestError(
        "the anthropic-messages dialect has no audio input", provider=facts.provider
    )


def _turns(messages: list[Message], facts: ModelFacts) -> list[wire.MessageParam]:
    turns: list[wire.MessageParam] = []
    blocks_of: list[list[wire.ContentBlock]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [b for b in (_block(p, facts) for p in message.parts) if b is not None]
        if not blocks:
            continue
        if turns and turns[-1].role == role:
            blocks_of[-1].extend(blocks)
        else:
            blocks_of.append(blocks)
            turns.append(wire.MessageParam(role=role, content=blocks))
    return turns


def _tool_choice(choice: ToolChoice) -> wire.ToolChoice:
    if choice.mode == "tool":
        return wire.ToolChoice(type="tool", name=choice.name)
    return wire.ToolChoice(type={"auto": "auto", "none": "none", "required": "any"}[choice.mode])


def _tool(name: str, description: str | None, schema: JSON, strict: bool | None) -> wire.ToolParam:
    return wire.ToolParam(
        name=name,
        description=description or None,
        input_schema=schema or {"type": "object", "properties": {}},
        strict=True if strict else None,
    )


def _mark_cache(body: wire.MessagesRequest, cache: wire.CacheControl) -> None:
    if isinstance(body.system, str) and body.system:
        body.system = [wire.TextBlock(text=body.system, cache_control=cache)]
    if body.tools:
        body.tools[-1].cache_control = cache
    if body.messages:
        content = body.messages[-1].content
        if isinstance(content, list) and content and hasattr(content[-1], "cache_control"):
            content[-1].cache_control = cache  # type: ignore[union-attr]


def build_body(
    request: ChatRequest, quirks: AnthropicQuirks, facts: ModelFacts, *, schema_as_tool: bool
) -> bytes:
    """Build the Messages body for ``request``, encoded.

    Args:
        request: The neutral request.
        quirks: The provider's quirks (whether ``max_tokens`` must be sent).
        facts: The model's registry facts (output limit, named in errors).
        schema_as_tool: Ask for structured output through a forced tool named after the schema
            instead of ``output_config.format``.

    Returns:
        The JSON body; ``request.extra`` is merged last (``cache_control`` is consumed).
    """
    if request.seed is not None:
        raise UnsupportedRequestError(
            "the anthropic-messages API has no seed parameter", provider=facts.provider
        )
    max_tokens = request.max_tokens
    if max_tokens is None and quirks.max_tokens_required:
        max_tokens = min(facts.max_output_tokens or _DEFAULT_MAX_TOKENS, 8192)
    system = "\n\n".join(m.text for m in request.messages if m.role == "system" and m.text)
    tools = [_tool(t.name, t.description, t.parameters, t.strict) for t in request.tools]
    choice = _tool_choice(request.tool_choice) if request.tool_choice else None
    output_config: JSON | None = None
    schema = request.output_schema
    if schema is not None and schema_as_tool:
        tools.append(_tool(schema.name, schema.description, schema.schema, None))
        choice = wire.ToolChoice(type="tool", name=schema.name)
    elif schema is not None:
        output_config = {"format": {"type": "json_schema", "schema": schema.schema}}
    if request.parallel_tool_calls is False:
        # Anthropic says it the other way round, inside the tool choice.
        choice = choice or wire.ToolChoice(type="auto")
        choice.disable_parallel_tool_use = True
    body = wire.MessagesRequest(
        model=request.model,
        max_tokens=max_tokens,
        system=system or None,
        messages=_turns(request.messages, facts),
        tools=tools or None,
        tool_choice=choice,
        temperature=request.temperature,
        top_p=request.top_p,
        stop_sequences=request.stop,
        stream=True if request.stream else None,
        output_config=output_config,
    )
    extra = dict(request.extra)
    cache = extra.pop("cache_control", None)
    if isinstance(cache, dict):
        _mark_cache(body, msgspec.convert(cache, wire.CacheControl))
    return wire.encode(body, extra or None)
