"""Neutral ChatRequest → OpenAI chat-completions request body (``atoll_wire.openai`` structs).

The body is built from the typed wire structs the rest of the stack shares (atoll_testing parses
the same ones), so a field name or shape cannot drift between building and reading it.
"""

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
from atoll_wire.openai import (
    ChatCompletionRequest,
    ChatMessage,
    ContentPart,
    FileData,
    FunctionCall,
    FunctionDefinition,
    ImageUrl,
    InputAudio,
    JsonSchemaFormat,
    NamedToolChoice,
    NamedToolChoiceFunction,
    ResponseFormat,
    StreamOptions,
    Tool,
    ToolCall,
)
from atoll_wire.openai import encode as encode_body

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


def _content_part(part: Part, facts: ModelFacts) -> ContentPart:
    if isinstance(part, TextPart):
        return ContentPart(type="text", text=part.text)
    if isinstance(part, ImagePart):
        return ContentPart(
            type="image_url", image_url=ImageUrl(url=image_url(part), detail=part.detail)
        )
    if isinstance(part, AudioPart):
        fmt = _AUDIO_FORMATS.get(part.media_type.lower())
        if fmt is None:
            raise UnsupportedRequestError(
                f"the openai-chat dialect sends audio as wav or mp3, not {part.media_type!r}",
                provider=facts.provider,
            )
        return ContentPart(
            type="input_audio", input_audio=InputAudio(data=b64(part.data), format=fmt)
        )
    if isinstance(part, DocumentPart):
        if part.data is None:
            raise UnsupportedRequestError(
                "the openai-chat dialect sends documents as bytes; a document URL is not accepted",
                provider=facts.provider,
            )
        file = FileData(
            file_data=f"data:{part.media_type};base64,{b64(part.data)}",
            filename=part.title or "document.pdf",
        )
        return ContentPart(type="file", file=file)
    raise UnsupportedRequestError(
        f"a {type(part).__name__} cannot be sent in a user or system message",
        provider=facts.provider,
    )


def _content(parts: Sequence[Part], facts: ModelFacts) -> str | list[ContentPart]:
    """A plain string when the parts are all text (accepted everywhere), else a part list."""
    if all(isinstance(p, TextPart) for p in parts):
        return "".join(p.text for p in parts if isinstance(p, TextPart))
    return [_content_part(p, facts) for p in parts]


def _tool_message(part: ToolResultPart, facts: ModelFacts) -> ChatMessage:
    texts: list[str] = []
    for item in part.content:
        if not isinstance(item, TextPart):
            raise UnsupportedRequestError(
                "the openai-chat dialect accepts only text in tool results, got "
                f"{type(item).__name__} for call {part.call_id!r}",
                provider=facts.provider,
            )
        texts.append(item.text)
    return ChatMessage(role="tool", tool_call_id=part.call_id, content="".join(texts))


def _assistant_message(
    message: Message, quirks: OpenAIChatQuirks, facts: ModelFacts
) -> ChatMessage:
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
    calls = [
        ToolCall(id=p.id, function=FunctionCall(name=p.name, arguments=call_arguments_text(p)))
        for p in message.parts
        if isinstance(p, ToolCallPart)
    ]
    # Reasoning goes back only where the provider documents a field for it (DeepSeek's
    # reasoning_content, required on tool-use turns); signed thinking is Anthropic's and stays out.
    reasoning: str | None = None
    if quirks.echo_reasoning:
        reasoning = "".join(
            p.text for p in message.parts if isinstance(p, ThinkingPart) and p.signature is None
        )
    for part in message.parts:
        if not isinstance(part, TextPart | ToolCallPart | ThinkingPart | RedactedThinkingPart):
            raise UnsupportedRequestError(
                f"an assistant message cannot carry a {type(part).__name__} in openai-chat",
                provider=facts.provider,
            )
    return ChatMessage(
        role="assistant",
        # An assistant turn with only tool calls has no content key, as OpenAI sends it.
        content=text if text or not calls else None,
        tool_calls=calls or None,
        reasoning_content=reasoning or None,
        name=message.name,
    )


def _messages(
    messages: list[Message], quirks: OpenAIChatQuirks, facts: ModelFacts
) -> list[ChatMessage]:
    out: list[ChatMessage] = []
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
        out.append(ChatMessage(role=role, content=_content(rest, facts), name=message.name))
    return out


def _tool_choice(choice: ToolChoice) -> str | NamedToolChoice:
    if choice.mode == "tool":
        assert choice.name is not None
        return _named(choice.name)
    return choice.mode


def _named(name: str) -> NamedToolChoice:
    return NamedToolChoice(function=NamedToolChoiceFunction(name=name))


def _tool(name: str, description: str | None, parameters: JSON, strict: bool | None) -> Tool:
    # An argument-less tool still needs an object schema: some servers reject ``{}``.
    return Tool(
        function=FunctionDefinition(
            name=name,
            description=description or None,
            parameters=parameters or {"type": "object", "properties": {}},
            strict=strict,
        )
    )


def build_body(
    request: ChatRequest, quirks: OpenAIChatQuirks, facts: ModelFacts, *, schema_as_tool: bool
) -> bytes:
    """Build the chat-completions body for ``request``, encoded.

    Args:
        request: The neutral request.
        quirks: The provider's quirks (``max_tokens`` field, stream usage, parallel calls).
        facts: The model's registry facts (named in errors).
        schema_as_tool: Ask for structured output through a forced tool instead of
            ``response_format`` (for models without JSON-schema output).

    Returns:
        The JSON body, ``request.extra`` merged last.
    """
    tools = [_tool(t.name, t.description, t.parameters, t.strict) for t in request.tools]
    choice = _tool_choice(request.tool_choice) if request.tool_choice else None
    schema = request.output_schema
    response_format: ResponseFormat | None = None
    if schema is not None and schema_as_tool:
        tools.append(_tool(schema.name, schema.description, schema.schema, schema.strict))
        choice = _named(schema.name)
    elif schema is not None:
        response_format = ResponseFormat(
            type="json_schema",
            json_schema=JsonSchemaFormat(
                name=schema.name,
                schema=schema.schema,
                strict=schema.strict,
                description=schema.description,
            ),
        )
    parallel = request.parallel_tool_calls
    if parallel is not None and not quirks.parallel_tool_calls_param:
        raise UnsupportedRequestError(
            "this provider does not accept parallel_tool_calls (registry quirk "
            "parallel_tool_calls_param is false)",
            provider=facts.provider,
            model=request.model,
        )
    completion_field = quirks.max_tokens_field == "max_completion_tokens"
    body = ChatCompletionRequest(
        model=request.model,
        messages=_messages(request.messages, quirks, facts),
        tools=tools or None,
        tool_choice=choice,
        parallel_tool_calls=parallel,
        response_format=response_format,
        temperature=request.temperature,
        top_p=request.top_p,
        max_tokens=None if completion_field else request.max_tokens,
        max_completion_tokens=request.max_tokens if completion_field else None,
        stop=request.stop,
        seed=request.seed,
        stream=True if request.stream else None,
        stream_options=_USAGE if request.stream and quirks.stream_include_usage else None,
    )
    return encode_body(body, dict(request.extra) if request.extra else None)


_USAGE = StreamOptions(include_usage=True)
