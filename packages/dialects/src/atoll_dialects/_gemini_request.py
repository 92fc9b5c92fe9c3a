"""Neutral ChatRequest → Gemini ``GenerateContentRequest`` (``atoll_wire.gemini`` structs).

System messages become ``systemInstruction``; assistant turns are ``model`` turns and every
other turn a ``user`` turn, consecutive turns of one role merged (all results of parallel calls
go back in one turn). Each signed part carries its ``thoughtSignature`` back on the very part
it came with; an empty signature is never sent. Call ids the dialect made up for calls that had
none (``atoll_fc_...``) stay out of the wire, and a ``functionResponse`` takes its ``name`` from
the call it answers. ``extra["generationConfig"]`` is merged into the built one, so thinking
settings travel with the sampling ones; a ``thinkingConfig`` with both a budget and a level is
refused here, before anything is sent (the API rejects it).
"""

from __future__ import annotations

from typing import Any, cast

import msgspec
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
from atoll_wire import gemini as wire

from ._encode import b64
from ._exceptions import UnsupportedRequestError
from ._gemini_quirks import GeminiQuirks
from ._gemini_schema import to_openapi
from ._quirks import ModelFacts

__all__ = ["SYNTHETIC_CALL_PREFIX", "build_body", "check_thinking", "contents_of"]

JSON = dict[str, Any]

#: Ids the dialect gives calls that came without one; they never go back on the wire.
SYNTHETIC_CALL_PREFIX = "atoll_fc_"

_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}


def _refuse(reason: str, facts: ModelFacts) -> UnsupportedRequestError:
    return UnsupportedRequestError(reason, provider=facts.provider, model=facts.model)


def _signature(value: str | None) -> str | None:
    return value or None  # "" is never sent


def _media(
    data: bytes | None, url: str | None, media_type: str | None, facts: ModelFacts
) -> wire.Part:
    if data is not None:
        if not media_type:
            raise _refuse("media sent as bytes needs its media_type", facts)
        return wire.Part(inline_data=wire.Blob(mime_type=media_type, data=b64(data)))
    if url and url.startswith("data:"):
        header, _, encoded = url.partition(",")
        mime = header[5:].split(";")[0] or media_type or ""
        return wire.Part(inline_data=wire.Blob(mime_type=mime, data=encoded))
    if url:
        return wire.Part(file_data=wire.FileData(file_uri=url, mime_type=media_type))
    raise _refuse("a media part needs bytes or a url", facts)


def _function_response(part: ToolResultPart, names: dict[str, str], facts: ModelFacts) -> wire.Part:
    name = part.name or names.get(part.call_id)
    if not name:
        raise _refuse(
            f"the tool result for call {part.call_id!r} names no tool and answers no call in "
            "the conversation (Gemini needs the function's name)",
            facts,
        )
    text = "".join(p.text for p in part.content if isinstance(p, TextPart))
    media = [
        {"inlineData": {"mimeType": p.media_type, "data": b64(p.data)}}
        for p in part.content
        if isinstance(p, ImagePart | DocumentPart) and p.data is not None and p.media_type
    ]
    call_id = None if part.call_id.startswith(SYNTHETIC_CALL_PREFIX) else part.call_id or None
    return wire.Part(
        function_response=wire.FunctionResponse(
            name=name,
            id=call_id,
            response={"error": text} if part.is_error else {"output": text},
            parts=media or None,
        )
    )


def _function_call(part: ToolCallPart) -> wire.Part:
    call_id = None if part.id.startswith(SYNTHETIC_CALL_PREFIX) else part.id or None
    return wire.Part(
        function_call=wire.FunctionCall(name=part.name, args=part.arguments or None, id=call_id),
        thought_signature=_signature(part.signature),
    )


def _part(part: Part, names: dict[str, str], facts: ModelFacts) -> wire.Part | None:
    if isinstance(part, TextPart):
        signature = _signature(part.signature)
        if not part.text and signature is None:
            return None
        return wire.Part(text=part.text, thought_signature=signature)
    if isinstance(part, ToolCallPart):
        return _function_call(part)
    if isinstance(part, ToolResultPart):
        return _function_response(part, names, facts)
    if isinstance(part, ThinkingPart):
        signature = _signature(part.signature)
        if not part.text and signature is None:
            return None
        return wire.Part(text=part.text, thought=True, thought_signature=signature)
    if isinstance(part, RedactedThinkingPart):
        return None  # another provider's encrypted reasoning: Gemini cannot read it
    if isinstance(part, ImagePart):
        return _media(part.data, part.url, part.media_type, facts)
    if isinstance(part, AudioPart):
        return _media(part.data, None, part.media_type, facts)
    return _media(part.data, part.url, part.media_type, facts)


def _sign_foreign_calls(contents: list[wire.Content], signature: str) -> None:
    for content in contents:
        if content.role != "model":
            continue
        first = next((p for p in content.parts if p.function_call is not None), None)
        if first is not None and first.thought_signature is None:
            first.thought_signature = signature


def contents_of(
    messages: list[Message], facts: ModelFacts, unsigned: str | None = None
) -> list[wire.Content]:
    """The conversation's turns (system messages excluded), same-role turns merged.

    Args:
        messages: The conversation.
        facts: The model's facts (named in errors).
        unsigned: The signature for a model turn's first call that has none (see the quirk
            ``unsigned_call_signature``), or None.
    """
    names = {
        p.id: p.name
        for m in messages
        if m.role == "assistant"
        for p in m.parts
        if isinstance(p, ToolCallPart)
    }
    contents: list[wire.Content] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "model" if message.role == "assistant" else "user"
        parts = [p for p in (_part(x, names, facts) for x in message.parts) if p is not None]
        if not parts:
            continue
        if contents and contents[-1].role == role:
            contents[-1].parts.extend(parts)
        else:
            contents.append(wire.Content(role=role, parts=parts))
    if unsigned:
        _sign_foreign_calls(contents, unsigned)
    return contents


def _system(messages: list[Message]) -> wire.Content | None:
    texts = [
        p.text
        for m in messages
        if m.role == "system"
        for p in m.parts
        if isinstance(p, TextPart) and p.text
    ]
    return wire.Content(parts=[wire.Part(text="\n\n".join(texts))]) if texts else None


def _tool_config(choice: ToolChoice) -> wire.ToolConfig:
    names = [choice.name] if choice.mode == "tool" and choice.name else None
    return wire.ToolConfig(
        function_calling_config=wire.FunctionCallingConfig(
            mode=_MODES[choice.mode], allowed_function_names=names
        )
    )


def _declaration(
    name: str, description: str | None, schema: JSON, quirks: GeminiQuirks
) -> wire.FunctionDeclaration:
    declaration = wire.FunctionDeclaration(name=name, description=description or None)
    if not schema or schema == {"type": "object", "properties": {}}:
        return declaration  # a function without arguments declares none
    if quirks.openapi_schemas:
        declaration.parameters = to_openapi(schema)
    else:
        declaration.parameters_json_schema = schema
    return declaration


def check_thinking(config: Any, facts: ModelFacts) -> None:
    """Refuse a ``thinkingConfig`` that sets both a budget and a level (the API rejects it).

    Raises:
        UnsupportedRequestError: Both are set.
    """
    if not isinstance(config, dict):
        return
    given = cast("JSON", config)
    thinking: object = given.get("thinkingConfig", given.get("thinking_config"))
    if not isinstance(thinking, dict):
        return
    keys = set(cast("JSON", thinking))
    budget = {"thinkingBudget", "thinking_budget"} & keys
    level = {"thinkingLevel", "thinking_level"} & keys
    if budget and level:
        raise _refuse(
            "thinkingConfig sets both thinkingBudget and thinkingLevel; Gemini takes one "
            "(a budget for Gemini 2.5 models, a level for Gemini 3)",
            facts,
        )


def _generation_config(request: ChatRequest, quirks: GeminiQuirks) -> wire.GenerationConfig:
    config = wire.GenerationConfig(
        temperature=request.temperature,
        top_p=request.top_p,
        max_output_tokens=request.max_tokens,
        stop_sequences=request.stop,
        seed=request.seed,
    )
    schema = request.output_schema
    if schema is not None:
        config.response_mime_type = "application/json"
        if quirks.openapi_schemas:
            config.response_schema = to_openapi(schema.schema)
        else:
            config.response_json_schema = schema.schema
    return config


def build_body(request: ChatRequest, quirks: GeminiQuirks, facts: ModelFacts) -> bytes:
    """Build the ``generateContent`` body for ``request``, encoded.

    Args:
        request: The neutral request.
        quirks: The provider's and model's quirks (schema form).
        facts: The model's registry facts (named in errors).

    Returns:
        The JSON body; ``request.extra`` is merged last, its ``generationConfig`` into ours.

    Raises:
        UnsupportedRequestError: ``parallel_tool_calls=False`` (Gemini cannot forbid them), a
            thinking config with both a budget and a level, a tool result naming no tool.
    """
    if request.parallel_tool_calls is False:
        raise _refuse("Gemini has no switch to forbid parallel function calls", facts)
    tools = [_declaration(t.name, t.description, t.parameters, quirks) for t in request.tools]
    body = wire.GenerateContentRequest(
        contents=contents_of(request.messages, facts, quirks.unsigned_call_signature),
        system_instruction=_system(request.messages),
        tools=[wire.Tool(function_declarations=tools)] if tools else None,
        tool_config=_tool_config(request.tool_choice) if request.tool_choice else None,
        generation_config=_generation_config(request, quirks),
    )
    if body.generation_config == _EMPTY_CONFIG:
        body.generation_config = None
    if not request.extra:
        return wire.encode(body)
    extra = dict(request.extra)
    given = extra.pop("generationConfig", extra.pop("generation_config", None))
    if given is not None:
        if not isinstance(given, dict):
            raise _refuse("extra['generationConfig'] must be a mapping", facts)
        built: JSON = msgspec.to_builtins(body.generation_config) if body.generation_config else {}
        merged: JSON = {**built, **cast("JSON", given)}
        check_thinking(merged, facts)
        extra["generationConfig"] = merged
    return wire.encode(body, extra)


_EMPTY_CONFIG = wire.GenerationConfig()
