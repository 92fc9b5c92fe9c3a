"""What a caller asks for: tools, tool choice, output schema and the neutral ``ChatRequest``."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from ._parts import Message


class ToolSpec(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A tool the model may call.

    Attributes:
        name: The tool name the model will use.
        description: What the tool does, for the model.
        parameters: JSON Schema of the arguments object.
        strict: Ask the provider to enforce the schema exactly (None: provider default).
    """

    name: str
    description: str | None = None
    parameters: dict[str, Any] = {}
    strict: bool | None = None


class ToolChoice(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Whether and which tool the model must call.

    Attributes:
        mode: ``auto`` (model decides), ``none``, ``required`` (any tool) or ``tool`` (``name``).
        name: The tool to call when ``mode`` is ``tool``.
    """

    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str | None = None

    def __post_init__(self) -> None:
        if self.mode == "tool" and not self.name:
            raise ValueError("ToolChoice(mode='tool') needs the tool name in `name`")

    @classmethod
    def tool(cls, name: str) -> ToolChoice:
        """Force a call of the named tool.

        Args:
            name: The tool name.
        """
        return cls(mode="tool", name=name)


class OutputSchema(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Structured output: the reply must be JSON matching ``schema``.

    Attributes:
        name: A short name for the schema (OpenAI requires one).
        schema: The JSON Schema.
        strict: Ask the provider to enforce the schema exactly.
        description: What the output is, for the model.
    """

    name: str
    schema: dict[str, Any]
    strict: bool = True
    description: str | None = None


class ChatRequest(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A provider-agnostic chat request; a dialect turns it into one provider's body.

    Attributes:
        model: The model id as the provider knows it.
        messages: The conversation.
        tools: Tools the model may call.
        tool_choice: Whether and which tool must be called (None: provider default).
        output_schema: Structured output schema, or None for free text.
        temperature: Sampling temperature.
        top_p: Nucleus sampling.
        max_tokens: Upper bound on generated tokens.
        stop: Stop sequences.
        seed: Sampling seed where supported.
        parallel_tool_calls: Allow (True) or forbid (False) several tool calls in one turn;
            None leaves the provider's default.
        stream: Whether to stream the reply.
        extra: Provider-specific fields merged into the request body as they are.
        metadata: Caller's labels (kept for tracing; dialects may forward them).
    """

    model: str
    messages: list[Message]
    tools: list[ToolSpec] = []
    tool_choice: ToolChoice | None = None
    output_schema: OutputSchema | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    parallel_tool_calls: bool | None = None
    stream: bool = False
    extra: dict[str, Any] = {}
    metadata: dict[str, str] = {}
