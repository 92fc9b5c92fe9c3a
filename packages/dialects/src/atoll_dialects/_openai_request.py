"""Neutral ChatRequest → OpenAI chat-completions request body (a JSON-able dict)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from atoll_wire import (
    AudioPart,
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

from ._encode import b64, call_arguments_text, image_url
from ._exceptions import UnsupportedRequestError
from ._openai_quirks import OpenAIChatQuirks
from ._quirks import ModelFacts

JSON = dict[str, Any]

# OpenAI's input_audio takes a format name, not a MIME type.
_AUDIO_FORMATS = {
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
}


def _content_part(part: Part, facts: ModelFacts) -> JSON:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        url: JSON = {"url": image_url(part)}
        if part.detail:
            url["detail"] = part.detail
        return {"type": "image_url", "image_url": url}
    if isinstance(part, AudioPart):
        fmt = _AUDIO_FORMATS.get(part.media_type.lower())
        if fmt is None:
            raise UnsupportedRequestError(
                f"the openai-chat dialect sends audio as wav or mp3, not {part.media_type!r}",
                provider=facts.provider,
            )
        return {"type": "input_audio", "input_audio": {"data": b64(part.data), "format": fmt}}
    if isinstance(part, DocumentPart):
        if part.data is None:
            raise UnsupportedRequestError(
                "the openai-chat dialect sends documents as bytes; a document URL is not accepted",
                provider=facts.provider,
            )
        file: JSON = {"file_data": f"data:{part.media_type};base64,{b64(part.data)}"}
        file["filename"] = part.title or "document.pdf"
        return {"type": "file", "file": file}
    raise UnsupportedRequestError(
        f"a {type(part).__name__} cannot be sent in a user or system message",
        provider=facts.provider,
    )


def _content(parts: Sequence[Part], facts: ModelFacts) -> str | list[JSON]:
    """A plain string when the parts are all text (accepted everywhere), else a part list."""
    if all(isinstance(p, TextPart) for p in parts):
        return "".join(p.text for p in parts if isinstance(p, TextPart))
    return [_content_part(p, facts) for p in parts]


def _tool_message(part: ToolResultPart, facts: ModelFacts) -> JSON:
    texts: list[str] = []
    for item in part.content:
        if not isinstance(item, TextPart):
            raise UnsupportedRequestError(
                "the openai-chat dialect accepts only text in tool results, got "
                f"{type(item).__name__} for call {part.call_id!r}",
                provider=facts.provider,
            )
        texts.append(item.text)
    message: JSON = {"role": "tool", "tool_call_id": part.call_id, "content": "".join(texts)}
    return message


def _assistant_message(message: Message, quirks: OpenAIChatQuirks, facts: ModelFacts) -> JSON:
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
    calls = [p for p in message.parts if isinstance(p, ToolCallPart)]
    out: JSON = {"role": "assistant", "content": text if text or not calls else None}
    if calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": call_arguments_text(c)},
            }
            for c in calls
        ]
    # Reasoning goes back only where the provider documents a field for it (DeepSeek's
    # reasoning_content, required on tool-use turns); signed thinking is Anthropic's and stays out.
    if quirks.echo_reasoning:
        reasoning = "".join(
            p.text for p in message.parts if isinstance(p, ThinkingPart) and p.signature is None
        )
        if reasoning:
            out["reasoning_content"] = reasoning
    for part in message.parts:
        if not isinstance(part, TextPart | ToolCallPart | ThinkingPart | RedactedThinkingPart):
            raise UnsupportedRequestError(
                f"an assistant message cannot carry a {type(part).__name__} in openai-chat",
                provider=facts.provider,
            )
    if message.name:
        out["name"] = message.name
    return out


def _messages(messages: list[Message], quirks: OpenAIChatQuirks, facts: ModelFacts) -> list[JSON]:
    out: list[JSON] = []
    for message in messages:
        if message.role == "assistant":
            out.append(_assistant_message(message, quirks, facts))
            continue
        # Tool results travel as role "tool" messages, whichever neutral role held them.
        results = [p for p in message.parts if isinstance(p, ToolResultPart)]
        out.extend(_tool_message(r, facts) for r in results)
        rest = [p for p in message.parts if not isinstance(p, ToolResultPart)]
        if not rest:
            continue
        role = "user" if message.role == "tool" else message.role
        entry: JSON = {"role": role, "content": _content(rest, facts)}
        if message.name:
            entry["name"] = message.name
        out.append(entry)
    return out


def _tool_choice(choice: ToolChoice) -> str | JSON:
    if choice.mode == "tool":
        return {"type": "function", "function": {"name": choice.name}}
    return choice.mode


def _tool(name: str, description: str | None, parameters: JSON, strict: bool | None) -> JSON:
    # An argument-less tool still needs an object schema: some servers reject ``{}``.
    function: JSON = {
        "name": name,
        "parameters": parameters or {"type": "object", "properties": {}},
    }
    if description:
        function["description"] = description
    if strict is not None:
        function["strict"] = strict
    return {"type": "function", "function": function}


def build_body(
    request: ChatRequest, quirks: OpenAIChatQuirks, facts: ModelFacts, *, schema_as_tool: bool
) -> JSON:
    """Build the chat-completions body for ``request``.

    Args:
        request: The neutral request.
        quirks: The provider's quirks (``max_tokens`` field, stream usage, parallel calls).
        facts: The model's registry facts (named in errors).
        schema_as_tool: Ask for structured output through a forced tool instead of
            ``response_format`` (for models without JSON-schema output).

    Returns:
        The body as a dict, ``request.extra`` merged last.
    """
    body: JSON = {"model": request.model, "messages": _messages(request.messages, quirks, facts)}
    tools = [_tool(t.name, t.description, t.parameters, t.strict) for t in request.tools]
    choice: str | JSON | None = _tool_choice(request.tool_choice) if request.tool_choice else None
    schema = request.output_schema
    if schema is not None and schema_as_tool:
        tools.append(_tool(schema.name, schema.description, schema.schema, schema.strict))
        choice = {"type": "function", "function": {"name": schema.name}}
    elif schema is not None:
        spec: JSON = {"name": schema.name, "schema": schema.schema, "strict": schema.strict}
        if schema.description:
            spec["description"] = schema.description
        body["response_format"] = {"type": "json_schema", "json_schema": spec}
    if tools:
        body["tools"] = tools
    if choice is not None:
        body["tool_choice"] = choice
    if request.parallel_tool_calls is not None:
        if not quirks.parallel_tool_calls_param:
            raise UnsupportedRequestError(
                "this provider does not accept parallel_tool_calls (registry quirk "
                "parallel_tool_calls_param is false)",
                provider=facts.provider,
                model=request.model,
            )
        body["parallel_tool_calls"] = request.parallel_tool_calls
    for key, value in (
        ("temperature", request.temperature),
        ("top_p", request.top_p),
        ("stop", request.stop),
        ("seed", request.seed),
        (quirks.max_tokens_field, request.max_tokens),
    ):
        if value is not None:
            body[key] = value
    if request.stream:
        body["stream"] = True
        if quirks.stream_include_usage:
            body["stream_options"] = {"include_usage": True}
    body.update(request.extra)
    return body
