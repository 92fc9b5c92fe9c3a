"""One ``output=`` call: how the model is asked, how each reply is read, when to repair.

``OutputPlan`` does no I/O; the clients drive it (``_structured_calls.py``): send
``plan.request``, hand the reply to ``plan.judge``, and either return the ``ParsedResponse`` or
send the repair request it prepared. The mode is chosen from the first model's registry facts:

- ``native``: the provider's JSON-schema mode (``ModelFacts.json_schema`` is True); the
  schema goes in ``ChatRequest.output_schema`` and the reply's text is the JSON;
- ``tool``: a ``final_result`` tool the model must call (the model has tools, or nothing is
  known); its arguments are the JSON, and become the reply's text in the returned response;
- ``prompted``: the schema in a system message (the registry says the model has no tools).

Each dialect fits the schema to what its provider enforces (``Dialect.fit_schema``); the reply
is always validated against the full schema here, so a dropped constraint still holds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Literal

import msgspec
from atoll_wire import (
    ChatRequest,
    Message,
    OutputSchema,
    TextPart,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    ToolSpec,
)

from ._exceptions import InvalidOptionError, StructuredOutputError
from ._output import OutputLike, partial_value, repair_text, resolve_output
from ._parsed import ParsedResponse, parsed_response
from ._quirks import ModelFacts
from ._result import ClientResponse

__all__ = ["OUTPUT_TOOL", "OutputMode", "OutputPlan", "check_retries", "choose_mode"]

OutputMode = Literal["native", "tool", "prompted"]
#: The tool the model answers through in ``tool`` mode.
OUTPUT_TOOL = "final_result"
_MODES = ("auto", "native", "tool", "prompted")


def choose_mode(facts: ModelFacts, requested: str) -> OutputMode:
    """The mode for a model: ``requested`` unless ``auto``, else from its registry facts."""
    if requested != "auto":
        return requested  # type: ignore[return-value]  # checked by check_retries's caller
    if facts.json_schema is True:
        return "native"
    if facts.tools is False:
        return "prompted"
    return "tool"


def check_retries(retries: object, mode: object) -> tuple[int, str]:
    """Check ``output_retries`` and ``output_mode``.

    Raises:
        InvalidOptionError: A retry count that is not a whole number from 0, or an unknown mode.
    """
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise InvalidOptionError("output_retries", retries, "a whole number, 0 or more")
    if mode not in _MODES:
        raise InvalidOptionError("output_mode", mode, "'auto', 'native', 'tool' or 'prompted'")
    return retries, str(mode)


def _instructions(schema: OutputSchema) -> str:
    text = json.dumps(schema.schema, separators=(",", ":"), ensure_ascii=False)
    about = f" ({schema.description})" if schema.description else ""
    return (
        f"Answer with only a JSON value for {schema.name}{about} that matches this JSON "
        f"Schema, with no other text and no code fence:\n{text}"
    )


def _with_system(messages: Sequence[Message], text: str) -> list[Message]:
    leading = 0
    while leading < len(messages) and messages[leading].role == "system":
        leading += 1
    return [*messages[:leading], Message.system(text), *messages[leading:]]


class OutputPlan:
    """The asking, reading and repairing of one ``output=`` call (see the module docstring).

    Args:
        output: What the caller passed as ``output=``.
        request: The call's neutral request, before the output is added.
        facts: The first model's registry facts (they choose the mode).
        retries: Repair turns allowed.
        mode: ``auto``, ``native``, ``tool`` or ``prompted``.

    Attributes:
        spec: The resolved output spec.
        mode: The mode in use.
        request: The request to send next (the first, then each repair).

    Raises:
        InvalidOptionError: ``output`` cannot be resolved, ``output_schema=`` was given too, or
            a tool of the caller's is named like the output tool.
    """

    __slots__ = ("_retries", "_schema", "_user_tools", "mode", "rejected", "request", "spec")

    def __init__(
        self,
        output: object,
        request: ChatRequest,
        facts: ModelFacts,
        *,
        retries: int,
        mode: str,
    ) -> None:
        if request.output_schema is not None:
            raise InvalidOptionError(
                "output_schema", request.output_schema.name, "not given with output= (it sets one)"
            )
        self.spec: OutputLike[Any] = resolve_output(output)
        self._schema = self.spec.output_schema()
        self.mode: OutputMode = choose_mode(facts, mode)
        self._retries = retries
        self._user_tools = bool(request.tools)
        self.rejected: list[ClientResponse] = []
        self.request = self._ask(request)

    def _ask(self, request: ChatRequest) -> ChatRequest:
        schema = self._schema
        if self.mode == "native":
            return msgspec.structs.replace(request, output_schema=schema)
        if self.mode == "prompted":
            messages = _with_system(request.messages, _instructions(schema))
            return msgspec.structs.replace(request, messages=messages)
        if any(tool.name == OUTPUT_TOOL for tool in request.tools):
            raise InvalidOptionError(
                "tools", OUTPUT_TOOL, f"tool names other than {OUTPUT_TOOL!r} with output="
            )
        about = f" {schema.description}" if schema.description else ""
        tool = ToolSpec(
            name=OUTPUT_TOOL,
            description=f"Give the final answer as {schema.name}.{about}",
            parameters=schema.schema,
            strict=schema.strict or None,
        )
        # With tools of the caller's the model may still call those (a hand-run tool loop);
        # alone, it must answer through the output tool.
        choice = request.tool_choice
        if not self._user_tools:
            choice = ToolChoice.tool(OUTPUT_TOOL)
        elif choice is None:
            choice = ToolChoice(mode="required")
        return msgspec.structs.replace(request, tools=[*request.tools, tool], tool_choice=choice)

    # ------------------------------------------------------------------ reading replies

    def _output_call(self, message: Message) -> ToolCallPart | None:
        if self.mode != "tool":
            return None
        return next((c for c in message.tool_calls if c.name == OUTPUT_TOOL), None)

    def reply_text(self, message: Message) -> str | None:
        """The JSON text of a reply, or None when it only calls the caller's own tools."""
        call = self._output_call(message)
        if call is not None:
            return call.raw_arguments or json.dumps(call.arguments)
        if message.tool_calls and not message.text.strip():
            return None
        return message.text

    def partial(self, text: str) -> object:
        """The output received so far, unvalidated (None before it starts)."""
        return partial_value(self.spec, text)

    def judge(self, response: ClientResponse) -> ParsedResponse[Any] | None:
        """Validate a reply: the result, or None after preparing the repair ``request``.

        Raises:
            StructuredOutputError: The reply does not match and no repair is left.
        """
        message = response.message
        text = self.reply_text(message)
        if text is None:
            return parsed_response(response, None, self.rejected)
        try:
            value = self.spec.parse(text)
        except (ValueError, TypeError) as error:
            self._repair_or_raise(response, text, error)
            return None
        return parsed_response(response, value, self.rejected, self._shown(message, text))

    def _shown(self, message: Message, text: str) -> Message | None:
        """The reply as returned: the output tool's call becomes the reply's text."""
        call = self._output_call(message)
        if call is None:
            return None
        parts = [TextPart(text=text) if part is call else part for part in message.parts]
        return msgspec.structs.replace(message, parts=parts)

    def _repair_or_raise(self, response: ClientResponse, text: str, error: BaseException) -> None:
        if len(self.rejected) >= self._retries:
            raise StructuredOutputError(
                self._schema.name,
                str(error),
                text=text,
                replies=len(self.rejected) + 1,
                provider=response.provider,
                model=response.model or response.served_by,
                response=response,
            ) from error
        self.rejected.append(response)
        feedback = repair_text(error)
        call = self._output_call(response.message)
        if call is not None:
            answer = Message(
                role="tool",
                parts=[ToolResultPart.from_text(call.id, feedback, is_error=True, name=call.name)],
            )
        else:
            answer = Message.user(feedback)
        messages = [*self.request.messages, response.message, answer]
        self.request = msgspec.structs.replace(self.request, messages=messages)
