"""Neutral ChatRequest → Anthropic Messages request body (a JSON-able dict).

System messages are hoisted into ``system``; tool results travel as ``tool_result`` blocks in a
user turn; consecutive turns of one role are merged (the API wants them alternating, and all
results of parallel calls in one turn). Signed thinking and redacted thinking go back verbatim;
thinking without a signature (from another provider) cannot be verified by Anthropic and is not
sent. ``extra["cache_control"]`` (for example ``{"type": "ephemeral"}``) marks cache breakpoints
on the system prompt, the last tool and the last block of the conversation.
"""

from __future__ import annotations

from typing import Any

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

from ._anthropic_quirks import AnthropicQuirks
from ._encode import b64
from ._exceptions import UnsupportedRequestError
from ._quirks import ModelFacts

JSON = dict[str, Any]

# The output cap sent when the API requires one, the caller gave none and the registry does
# not know the model's limit.
_DEFAULT_MAX_TOKENS = 4096


def _image(part: ImagePart, facts: ModelFacts) -> JSON:
    if part.data is not None:
        if not part.media_type:
            raise UnsupportedRequestError(
                "an ImagePart with bytes needs its media_type", provider=facts.provider
            )
        source: JSON = {"type": "base64", "media_type": part.media_type, "data": b64(part.data)}
    elif part.url and part.url.startswith("data:"):
        header, _, data = part.url.partition(",")
        media_type = header[5:].split(";")[0]
        source = {"type": "base64", "media_type": media_type, "data": data}
    elif part.url:
        source = {"type": "url", "url": part.url}
    else:
        raise UnsupportedRequestError("an ImagePart needs a url or data", provider=facts.provider)
    return {"type": "image", "source": source}


def _document(part: DocumentPart, facts: ModelFacts) -> JSON:
    if part.data is not None:
        if part.media_type.startswith("text/"):
            text = part.data.decode("utf-8")
            source: JSON = {"type": "text", "media_type": "text/plain", "data": text}
        else:
            source = {"type": "base64", "media_type": part.media_type, "data": b64(part.data)}
    elif part.url:
        source = {"type": "url", "url": part.url}
    else:
        raise UnsupportedRequestError("a DocumentPart needs data or a url", provider=facts.provider)
    block: JSON = {"type": "document", "source": source}
    if part.title:
        block["title"] = part.title
    return block


def _tool_result(part: ToolResultPart, facts: ModelFacts) -> JSON:
    content: list[JSON] = []
    for item in part.content:
        if isinstance(item, TextPart):
            content.append({"type": "text", "text": item.text})
        elif isinstance(item, ImagePart):
            content.append(_image(item, facts))
        else:
            content.append(_document(item, facts))
    block: JSON = {"type": "tool_result", "tool_use_id": part.call_id, "content": content}
    if part.is_error:
        block["is_error"] = True
    return block


def _block(part: Part, facts: ModelFacts) -> JSON | None:
    """One part → one content block (``None``: not sendable to Anthropic, see module doc)."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text} if part.text else None
    if isinstance(part, ImagePart):
        return _image(part, facts)
    if isinstance(part, DocumentPart):
        return _document(part, facts)
    if isinstance(part, ToolCallPart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments}
    if isinstance(part, ToolResultPart):
        return _tool_result(part, facts)
    if isinstance(part, ThinkingPart):
        if part.signature is None:
            return None
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    if isinstance(part, RedactedThinkingPart):
        return {"type": "redacted_thinking", "data": part.data}
    raise UnsupportedRequestError(
        "the anthropic-messages dialect has no audio input", provider=facts.provider
    )


def _turns(messages: list[Message], facts: ModelFacts) -> list[JSON]:
    turns: list[JSON] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [b for b in (_block(p, facts) for p in message.parts) if b is not None]
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _tool_choice(choice: ToolChoice) -> JSON:
    if choice.mode == "tool":
        return {"type": "tool", "name": choice.name}
    return {"type": {"auto": "auto", "none": "none", "required": "any"}[choice.mode]}


def _tool(name: str, description: str | None, schema: JSON, strict: bool | None) -> JSON:
    tool: JSON = {"name": name, "input_schema": schema or {"type": "object", "properties": {}}}
    if description:
        tool["description"] = description
    if strict:
        tool["strict"] = True
    return tool


def _mark_cache(body: JSON, cache: JSON) -> None:
    system = body.get("system")
    if system:
        body["system"] = [{"type": "text", "text": system, "cache_control": cache}]
    if body.get("tools"):
        body["tools"][-1]["cache_control"] = cache
    messages: list[JSON] = body["messages"]
    if messages:
        messages[-1]["content"][-1]["cache_control"] = cache


def build_body(
    request: ChatRequest, quirks: AnthropicQuirks, facts: ModelFacts, *, schema_as_tool: bool
) -> JSON:
    """Build the Messages body for ``request``.

    Args:
        request: The neutral request.
        quirks: The provider's quirks (whether ``max_tokens`` must be sent).
        facts: The model's registry facts (output limit, named in errors).
        schema_as_tool: Ask for structured output through a forced tool named after the schema
            instead of ``output_config.format``.

    Returns:
        The body as a dict; ``request.extra`` is merged last (``cache_control`` is consumed).
    """
    if request.seed is not None:
        raise UnsupportedRequestError(
            "the anthropic-messages API has no seed parameter", provider=facts.provider
        )
    body: JSON = {"model": request.model}
    if request.max_tokens is not None:
        body["max_tokens"] = request.max_tokens
    elif quirks.max_tokens_required:
        body["max_tokens"] = min(facts.max_output_tokens or _DEFAULT_MAX_TOKENS, 8192)
    system = "\n\n".join(m.text for m in request.messages if m.role == "system" and m.text)
    if system:
        body["system"] = system
    body["messages"] = _turns(request.messages, facts)
    tools = [_tool(t.name, t.description, t.parameters, t.strict) for t in request.tools]
    choice = _tool_choice(request.tool_choice) if request.tool_choice else None
    schema = request.output_schema
    if schema is not None and schema_as_tool:
        tools.append(_tool(schema.name, schema.description, schema.schema, None))
        choice = {"type": "tool", "name": schema.name}
    elif schema is not None:
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema.schema}}
    if tools:
        body["tools"] = tools
    if request.parallel_tool_calls is False:
        # Anthropic says it the other way round, inside the tool choice.
        choice = {**(choice or {"type": "auto"}), "disable_parallel_tool_use": True}
    if choice is not None:
        body["tool_choice"] = choice
    for key, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("stop_sequences", request.stop),
    ):
        if value is not None:
            body[key] = value
    if request.stream:
        body["stream"] = True
    extra = dict(request.extra)
    cache = extra.pop("cache_control", None)
    body.update(extra)
    if isinstance(cache, dict):
        _mark_cache(body, cache)  # pyright: ignore[reportUnknownArgumentType]
    return body
