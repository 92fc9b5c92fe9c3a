"""Structured output: how a model is asked for the output type, and how replies are read.

Three modes, chosen per model from the registry: ``native`` (the provider's JSON-schema mode,
where the registry says the model has it), ``tool`` (a ``final_result`` tool the model must
call), ``prompted`` (the schema in the instructions, for models without tools). A type whose
schema is not an object (a union, a list, a scalar) is wrapped as ``{"result": ...}``, because
providers accept only objects as response formats and tool arguments.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeAlias, cast

import pydantic
from atoll_registry import ModelSpec
from atoll_tools import JSONValue, OutputSpec, PartialJSONError, ToolDefinitionError
from atoll_wire import ToolSpec

from ._exceptions import AgentDefinitionError

OutputMode: TypeAlias = Literal["native", "tool", "prompted"]
FINAL_TOOL = "final_result"
_WRAPPED = "result"


class OutputType:
    """An output type and the spec replies are validated with.

    Args:
        target: A pydantic model, dataclass, TypedDict, any type pydantic validates (a union
            of them too), or a raw JSON Schema mapping.
        agent: The agent's name, for errors.

    Raises:
        AgentDefinitionError: The type cannot be a JSON Schema.
    """

    __slots__ = ("spec", "target", "wrapped")

    def __init__(self, target: Any, *, agent: str) -> None:
        self.target = target
        try:
            spec: OutputSpec[Any] = OutputSpec.of(target)
            self.wrapped = spec.schema.get("type") != "object"
            if self.wrapped:
                name = getattr(target, "__name__", None) or "output"
                box = pydantic.create_model(name, **{_WRAPPED: (target, ...)})  # pyright: ignore[reportCallIssue, reportArgumentType, reportUnknownVariableType]
                spec = OutputSpec.of(cast(type[Any], box))
        except (ToolDefinitionError, pydantic.PydanticUserError, TypeError) as exc:
            raise AgentDefinitionError(
                f"output type {target!r} cannot be a JSON Schema: {exc}", agent=agent
            ) from exc
        self.spec = spec

    def parse(self, text: str) -> Any:
        """Validate a reply (text or tool arguments) into the output type.

        Raises:
            atoll_tools.OutputValidationError: It does not match; ``repair_message`` says why.
        """
        value = self.spec.parse(text)
        return getattr(value, _WRAPPED) if self.wrapped else value

    def partial(self, text: str) -> JSONValue:
        """The value received so far, unvalidated (None before it starts or if unreadable)."""
        try:
            value = self.spec.parse_partial(text)
        except PartialJSONError:
            return None
        if self.wrapped and isinstance(value, dict):
            return value.get(_WRAPPED)
        return value

    def tool_spec(self) -> ToolSpec:
        """The ``final_result`` tool the model answers through in ``tool`` mode."""
        return self.spec.tool_spec(FINAL_TOOL)

    def instructions(self) -> str:
        """What ``prompted`` mode adds to the instructions."""
        schema = json.dumps(self.spec.schema, separators=(",", ":"))
        return (
            "Reply with only a JSON value that matches this JSON Schema, with no other text "
            f"and no code fence:\n{schema}"
        )


def choose_mode(
    model: ModelSpec | None, requested: Literal["auto", "native", "tool", "prompted"]
) -> OutputMode:
    """The mode for one model: ``requested`` unless ``auto``, else from its registry facts."""
    if requested in ("native", "tool", "prompted"):
        return requested
    capabilities = model.capabilities if model is not None and model.known else None
    if capabilities is not None and capabilities.json_schema is True:
        return "native"
    if capabilities is not None and capabilities.tools is False:
        return "prompted"
    return "tool"
