"""Neutral ChatRequest → OpenAI Responses request body (``atoll_wire.responses`` structs).

Leading system messages become ``instructions``; the rest of the conversation becomes ``input``
items. An assistant message is split back into the items it came from: reasoning parts sharing
an id become one ``reasoning`` item (its encrypted content from the ``RedactedThinkingPart``),
text parts sharing an id one ``message`` item (with its ``phase``), each tool call a
``function_call`` item with its ``call_id`` and item ``id``. Reasoning another provider wrote
(no item id) cannot be sent here and is left out, and so is reasoning that ends a turn (the
API wants the item that followed it). Tool results become ``function_call_output`` items,
answered by ``call_id``.

Call options that only the Responses API has travel in ``extra`` and are checked here:
``store``, ``include``, ``reasoning`` (``{"effort": ..., "summary": ...}``) or chat
completions' ``reasoning_effort``; anything else in ``extra`` is merged into the body as given.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from atoll_wire.responses import (
    Content,
    FunctionCall,
    FunctionCallOutput,
    FunctionTool,
    InputFile,
    InputImage,
    InputText,
    Item,
    OutputContent,
    OutputText,
    Reasoning,
    ReasoningConfig,
    ReasoningText,
    ResponsesRequest,
    SummaryText,
    TextConfig,
    TextFormat,
    Tool,
)
from atoll_wire.responses import Message as WireMessage
from atoll_wire.responses import ToolChoice as WireToolChoice
from atoll_wire.responses import encode as encode_body

from ._encode import b64, call_arguments_text, image_url
from ._exceptions import InvalidOptionError, UnsupportedRequestError
from ._quirks import ModelFacts
from ._responses_quirks import OpenAIResponsesQuirks

__all__ = ["ENCRYPTED_REASONING", "build_body"]

ENCRYPTED_REASONING = "reasoning.encrypted_content"


def _unsupported(message: str, facts: ModelFacts) -> UnsupportedRequestError:
    return UnsupportedRequestError(message, provider=facts.provider, model=facts.model)


def _input_part(part: Part, facts: ModelFacts) -> InputText | InputImage | InputFile:
    if isinstance(part, TextPart):
        return InputText(text=part.text)
    if isinstance(part, ImagePart):
        return InputImage(image_url=image_url(part), detail=part.detail or "auto")
    if isinstance(part, DocumentPart):
        if part.data is not None:
            data = f"data:{part.media_type};base64,{b64(part.data)}"
            return InputFile(file_data=data, filename=part.title or "document.pdf")
        if part.url:
            return InputFile(file_url=part.url, filename=part.title)
        raise _unsupported("a DocumentPart needs `data` or `url`", facts)
    if isinstance(part, AudioPart):
        raise _unsupported("the openai-responses dialect has no audio input", facts)
    raise _unsupported(f"a {type(part).__name__} cannot be sent in a user or system message", facts)


def _input_message(role: str, parts: Sequence[Part], facts: ModelFacts) -> Item:
    if all(type(p) is TextPart for p in parts):
        # A plain string when the parts are all text: accepted by every Responses server.
        return WireMessage(role=role, content="".join(p.text for p in parts if type(p) is TextPart))
    content: list[Content] = [_input_part(p, facts) for p in parts]
    return WireMessage(role=role, content=content)


def _tool_output(part: ToolResultPart, facts: ModelFacts) -> FunctionCallOutput:
    if all(type(p) is TextPart for p in part.content):
        text = "".join(p.text for p in part.content if isinstance(p, TextPart))
        return FunctionCallOutput(call_id=part.call_id, output=text)
    output: list[OutputContent] = [_input_part(p, facts) for p in part.content]
    return FunctionCallOutput(call_id=part.call_id, output=output)


class _AssistantItems:
    """Rebuilds the items of one assistant turn from its parts, in order."""

    def __init__(self, quirks: OpenAIResponsesQuirks, facts: ModelFacts) -> None:
        self.items: list[Item] = []
        self._quirks = quirks
        self._facts = facts
        self._reasoning: dict[str, Reasoning] = {}
        self._text_key: tuple[str | None, str | None] | None = None
        self._texts: list[str] = []

    def add(self, part: Part) -> None:
        if isinstance(part, TextPart):
            self._text(part)
            return
        self._flush_text()
        if isinstance(part, ThinkingPart | RedactedThinkingPart):
            if part.id:  # reasoning without a Responses item id was written elsewhere
                self._reasoning_part(part, part.id)
        elif isinstance(part, ToolCallPart):
            self.items.append(
                FunctionCall(
                    call_id=part.id,
                    name=part.name,
                    arguments=call_arguments_text(part),
                    id=part.item_id,
                )
            )
        else:
            raise _unsupported(
                f"an assistant message cannot carry a {type(part).__name__} in openai-responses",
                self._facts,
            )

    def finish(self) -> list[Item]:
        self._flush_text()
        items = self.items
        # Reasoning with nothing after it (a reply cut off while reasoning) is refused by the
        # API ("provided without its required following item"): it is left out.
        while items and isinstance(items[-1], Reasoning):
            items.pop()
        return items

    def _reasoning_part(self, part: ThinkingPart | RedactedThinkingPart, item_id: str) -> None:
        item = self._reasoning.get(item_id)
        if item is None:
            item = self._reasoning[item_id] = Reasoning(id=item_id, summary=[])
            self.items.append(item)
        if isinstance(part, RedactedThinkingPart):
            item.encrypted_content = (item.encrypted_content or "") + part.data
        elif part.text and self._quirks.reasoning_text_field == "content":
            item.content = [*(item.content or ()), ReasoningText(text=part.text)]
        elif part.text:
            item.summary = [*(item.summary or ()), SummaryText(text=part.text)]

    def _text(self, part: TextPart) -> None:
        key = (part.id, part.phase)
        if key != self._text_key:
            self._flush_text()
            self._text_key = key
        self._texts.append(part.text)

    def _flush_text(self) -> None:
        key = self._text_key
        if key is None:
            return
        item_id, phase = key
        if item_id is None:
            # No item id: the API's short form (role and text) of an assistant message.
            self.items.append(
                WireMessage(role="assistant", content="".join(self._texts), phase=phase)
            )
        else:
            parts: list[Content] = [OutputText(text=t, annotations=[]) for t in self._texts]
            self.items.append(
                WireMessage(
                    role="assistant", content=parts, id=item_id, status="completed", phase=phase
                )
            )
        self._text_key = None
        self._texts = []


def _messages(
    messages: list[Message], quirks: OpenAIResponsesQuirks, facts: ModelFacts
) -> tuple[str | None, list[Item]]:
    instructions: list[str] = []
    items: list[Item] = []
    leading = True
    for message in messages:
        if message.role == "system" and leading and all(type(p) is TextPart for p in message.parts):
            instructions.append(message.text)
            continue
        leading = False
        if message.role == "assistant":
            builder = _AssistantItems(quirks, facts)
            for part in message.parts:
                builder.add(part)
            items.extend(builder.finish())
            continue
        # Tool results travel as function_call_output items, whichever neutral role held them.
        items.extend(_tool_output(p, facts) for p in message.parts if isinstance(p, ToolResultPart))
        rest = [p for p in message.parts if not isinstance(p, ToolResultPart)]
        if rest:
            role = "user" if message.role == "tool" else message.role
            items.append(_input_message(role, rest, facts))
    return ("\n\n".join(instructions) if instructions else None), items


def _tool(
    name: str, description: str | None, parameters: dict[str, Any], strict: bool | None
) -> Tool:
    # The Responses API enforces strict schemas unless told not to: None (no preference) is
    # sent as false, so an ordinary schema is accepted as chat completions would accept it.
    return FunctionTool(
        name=name,
        parameters=parameters or {"type": "object", "properties": {}},
        strict=bool(strict),
        description=description or None,
    )


def _tool_choice(choice: ToolChoice) -> str | WireToolChoice:
    if choice.mode == "tool":
        return WireToolChoice(type="function", name=choice.name)
    return choice.mode


def _options(extra: dict[str, Any]) -> tuple[bool | None, list[str] | None, ReasoningConfig | None]:
    """Pop and check the Responses options a call may give in ``extra``."""
    store = extra.pop("store", None)
    if store is not None and not isinstance(store, bool):
        raise InvalidOptionError("extra['store']", store, "True or False")
    given_include: object = extra.pop("include", None)
    include: list[str] | None = None
    if given_include is not None:
        if not isinstance(given_include, list | tuple):
            raise InvalidOptionError("extra['include']", given_include, "a list of strings")
        values = cast("Sequence[object]", given_include)
        include = [v for v in values if isinstance(v, str)]
        if len(include) != len(values):
            raise InvalidOptionError("extra['include']", values, "a list of strings")
    reasoning: ReasoningConfig | None = None
    given = extra.pop("reasoning", None)
    effort = extra.pop("reasoning_effort", None)
    if given is not None:
        try:
            reasoning = msgspec.convert(given, ReasoningConfig)
        except msgspec.ValidationError as exc:
            raise InvalidOptionError(
                "extra['reasoning']", given, f"{{'effort': str, 'summary': str}} ({exc})"
            ) from None
    if effort is not None:
        if not isinstance(effort, str):
            raise InvalidOptionError("extra['reasoning_effort']", effort, "a string such as 'low'")
        reasoning = msgspec.structs.replace(reasoning or ReasoningConfig(), effort=effort)
    return store, include, reasoning


def build_body(
    request: ChatRequest,
    quirks: OpenAIResponsesQuirks,
    facts: ModelFacts,
    *,
    schema_as_tool: bool,
    reasons: bool | None,
) -> bytes:
    """Build the ``POST /responses`` body for ``request``, encoded.

    Args:
        request: The neutral request.
        quirks: The provider's quirks (``store``, encrypted reasoning, reasoning text field).
        facts: The model's registry facts (named in errors).
        schema_as_tool: Ask for structured output through a forced tool instead of
            ``text.format`` (models without JSON-schema output).
        reasons: Whether the registry says the model reasons (None: unknown); encrypted
            reasoning is not asked of a model that does not.

    Raises:
        UnsupportedRequestError: Stop sequences, a seed, audio, or a part the API cannot take.
        InvalidOptionError: A Responses option in ``extra`` of the wrong type.
    """
    if request.stop:
        raise _unsupported("the Responses API has no stop sequences (`stop`)", facts)
    if request.seed is not None:
        raise _unsupported("the Responses API has no `seed`", facts)
    extra = dict(request.extra)
    store, include, reasoning = _options(extra)
    if store is None:
        store = quirks.store
    if include is None and store is False and quirks.encrypted_reasoning and reasons is not False:
        include = [ENCRYPTED_REASONING]
    instructions, items = _messages(request.messages, quirks, facts)
    tools = [_tool(t.name, t.description, t.parameters, t.strict) for t in request.tools]
    choice = _tool_choice(request.tool_choice) if request.tool_choice else None
    schema = request.output_schema
    text: TextConfig | None = None
    if schema is not None and schema_as_tool:
        tools.append(_tool(schema.name, schema.description, schema.schema, schema.strict))
        choice = WireToolChoice(type="function", name=schema.name)
    elif schema is not None:
        text = TextConfig(
            format=TextFormat(
                type="json_schema",
                name=schema.name,
                schema=schema.schema,
                strict=schema.strict,
                description=schema.description,
            )
        )
    body = ResponsesRequest(
        model=request.model,
        input=items,
        instructions=instructions,
        tools=tools or None,
        tool_choice=choice,
        parallel_tool_calls=request.parallel_tool_calls,
        text=text,
        reasoning=reasoning,
        max_output_tokens=request.max_tokens,
        temperature=request.temperature,
        top_p=request.top_p,
        store=store,
        stream=True if request.stream else None,
        include=include,
    )
    return encode_body(body, extra or None)
