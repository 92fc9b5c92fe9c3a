"""``aiextract`` and ``aiclassify``: structured answers through atoll_tools' ``OutputSpec``.

``aiextract`` forces a tool whose arguments are the ``return_type`` (or, with
``json_mode=True``, asks for native structured output) and validates the answer into that type.
``aiclassify`` asks for one label out of ``choices`` by structured output, so it works on any
model that has tools or JSON-schema output, where the legacy logit-bias trick worked on OpenAI
models only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import pydantic
from atoll_dialects import ClientResponse
from atoll_tools import OutputSpec, OutputValidationError
from atoll_wire import ToolChoice, ToolSpec

from ._engine import ChatPlan, Sample
from ._exceptions import ExtractionError
from ._messages import AbstractMessage, AIMessage, DataMessage
from ._neutral import record

ReturnType = type[Any] | Mapping[str, Any] | Sequence[Any]
"""A type (pydantic model, dataclass, TypedDict, ...), a JSON Schema, several types, or a list of
field names (``"name"`` or ``("name", type)``, ``("name__description", "text")``)."""

Choice = str | tuple[str, str]
"""A label, or a label and what it means."""


def _field_model(fields: Sequence[Any]) -> type[pydantic.BaseModel]:
    described: dict[str, str] = {}
    typed: dict[str, Any] = {}
    for item in fields:
        if isinstance(item, str):
            typed[item] = str
        elif isinstance(item, tuple) and len(item) == 2:  # pyright: ignore[reportUnknownArgumentType]
            name, kind = cast(tuple[str, Any], item)
            if name.endswith("__description"):
                described[name.removesuffix("__description")] = str(kind)
            else:
                typed[name] = kind
        else:
            raise TypeError(f"return_type field {item!r}: use 'name' or ('name', type)")
    definitions: dict[str, Any] = {
        name: (kind, pydantic.Field(description=described.get(name)))
        for name, kind in typed.items()
    }
    return pydantic.create_model("ExtractedData", **definitions)


def output_specs(return_type: ReturnType, strict: bool) -> list[OutputSpec[Any]]:
    """The output specs a ``return_type`` stands for (one per tool offered).

    Raises:
        TypeError: A ``return_type`` of no supported form.
    """
    if isinstance(return_type, Mapping):
        return [OutputSpec.of(return_type, strict=strict)]
    if isinstance(return_type, type):
        return [OutputSpec.of(return_type, strict=strict)]
    items = list(return_type)
    if items and all(isinstance(i, str | tuple) for i in items):
        return [OutputSpec.of(_field_model(items), strict=strict)]
    if items and all(isinstance(i, type) for i in items):
        return [OutputSpec.of(cast(type[Any], i), strict=strict) for i in items]
    raise TypeError(
        "return_type must be a type, a JSON Schema, a list of types or a list of field names"
    )


def extract_options(plan: ChatPlan, specs: list[OutputSpec[Any]], json_mode: bool | None) -> None:
    """Add the forced tool (or the native output schema) to the planned call.

    Raises:
        ValueError: ``json_mode`` with several types, or ``tool_choice="exact"`` with several.
    """
    if json_mode:
        if len(specs) != 1:
            raise ValueError("json_mode=True takes exactly one return_type")
        plan.call["output_schema"] = specs[0]
        return
    tools: list[ToolSpec] = [s.tool_spec(name=s.name) for s in specs]
    plan.call["tools"] = tools
    choice = plan.options.tool_choice
    if choice in (None, "exact"):
        if choice == "exact" and len(tools) != 1:
            raise ValueError('tool_choice="exact" needs exactly one return_type')
        plan.call["tool_choice"] = ToolChoice.tool(tools[0].name) if len(tools) == 1 else "required"
    else:
        plan.call["tool_choice"] = "required" if choice == "any" else choice


def _extracted(response: ClientResponse, specs: list[OutputSpec[Any]], json_mode: bool) -> Any:
    by_name = {s.name: s for s in specs}
    calls = response.message.tool_calls
    if calls and not json_mode:
        values: list[Any] = []
        for call in calls:
            spec = by_name.get(call.name)
            if spec is None:
                values.append(dict(call.arguments))
            else:
                values.append(spec.parse(call.raw_arguments or "{}"))
        return values[0] if len(values) == 1 else values
    text = response.text
    if len(specs) == 1 and text.strip():
        try:
            return specs[0].parse(text)
        except OutputValidationError:
            if json_mode:
                raise
    names = " or ".join(by_name)
    raise ExtractionError(names, text, response.served_by)


def data_messages(
    plan: ChatPlan, samples: list[Sample], specs: list[OutputSpec[Any]], json_mode: bool
) -> list[AbstractMessage]:
    """One ``DataMessage`` per sample, its content validated into the return type."""
    many = len(samples) > 1
    out: list[AbstractMessage] = []
    for i, sample in enumerate(samples):
        fields = record(sample.response, sample.elapsed, plan.run_id, i + 1 if many else None)
        calls = sample.response.message.tool_calls
        if calls:
            fields["extras"]["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.raw_arguments} for c in calls
            ]
        out.append(DataMessage(content=_extracted(sample.response, specs, json_mode), **fields))
    return out


# ------------------------------------------------------------------ aiclassify


def choice_labels(choices: Sequence[Choice]) -> tuple[list[str], str]:
    """The labels, and the text for a ``{{choices}}`` placeholder.

    Raises:
        ValueError: No choices, or a duplicate label.
    """
    labels: list[str] = []
    lines: list[str] = []
    for item in choices:
        label, meaning = (item, "") if isinstance(item, str) else item
        labels.append(label)
        lines.append(f'"{label}" for {meaning}' if meaning else f'"{label}"')
    if not labels or len(set(labels)) != len(labels):
        raise ValueError("aiclassify needs at least one choice and no duplicate labels")
    return labels, "\n".join(lines)


def classify_spec(labels: list[str], listing: str) -> OutputSpec[dict[str, Any]]:
    """The structured output of a classification: one label out of ``labels``."""
    schema = {
        "type": "object",
        "properties": {
            "choice": {
                "type": "string",
                "enum": labels,
                "description": "The one category that fits best:\n" + listing,
            }
        },
        "required": ["choice"],
        "additionalProperties": False,
    }
    return OutputSpec.of(schema, name="classification", description="Pick one category.")


def classify_options(plan: ChatPlan, spec: OutputSpec[dict[str, Any]]) -> None:
    """Ask for the label by structured output; temperature 0 unless the caller chose one."""
    plan.call["output_schema"] = spec
    target = plan.target
    reasoning = (
        target is not None and target.spec is not None and target.spec.capabilities.reasoning
    )
    if "temperature" not in plan.call and not reasoning:
        plan.call["temperature"] = 0.0


def classified(
    plan: ChatPlan, samples: list[Sample], spec: OutputSpec[dict[str, Any]]
) -> list[AbstractMessage]:
    """One ``AIMessage`` per sample whose content is the label (``None`` if none came back)."""
    many = len(samples) > 1
    out: list[AbstractMessage] = []
    for i, sample in enumerate(samples):
        fields = record(sample.response, sample.elapsed, plan.run_id, i + 1 if many else None)
        try:
            label: str | None = str(spec.parse(sample.response.text)["choice"])
        except OutputValidationError as exc:
            label = None
            fields["extras"]["classify_error"] = str(exc)
        out.append(AIMessage(content=label, name=plan.common.name_assistant, **fields))
    return out
