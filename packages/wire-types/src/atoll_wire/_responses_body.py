"""OpenAI Responses API request and response bodies: ``POST /v1/responses`` and a Response."""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec

from ._responses_items import Item


# gc=False: decoded wire data never forms reference cycles; untracked structs allocate faster.
class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Most wire structs: keyword-only, fields left at their defaults are not encoded."""


class _Full(msgspec.Struct, kw_only=True, gc=False):
    """Structs encoded whole, None as null, as the API sends them (responses, usage)."""


# ---------------------------------------------------------------- request


class FunctionTool(msgspec.Struct, tag_field="type", tag="function", kw_only=True, gc=False):
    """A function tool. Every field is sent: ``parameters`` and ``strict`` are required keys.

    The Responses API enforces strict schemas unless ``strict`` is false, so a request built
    here always says which.

    Attributes:
        name: The function's name.
        parameters: JSON Schema of the arguments object.
        strict: Enforce the schema exactly.
        description: What the function does, for the model.
    """

    name: str
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class UnknownTool(_Wire, tag_field="type", tag="unknown", kw_only=True):
    """A tool whose ``type`` this module does not know (``web_search``, ``mcp``, ...), kept whole.

    Attributes:
        tool_type: The tool's ``type``.
        raw: The tool's JSON object as decoded.
    """

    tool_type: str
    raw: dict[str, Any]


Tool: TypeAlias = FunctionTool | UnknownTool
"""A tool of the request."""


class ToolChoice(_Wire, kw_only=True):
    """``tool_choice`` as an object; the plain forms are strings (``auto``, ``none``, ``required``).

    One struct for every object form keeps decoding lenient.

    Attributes:
        type: ``function`` (with ``name``), ``allowed_tools`` (with ``mode`` and ``tools``),
            ``mcp``, ``custom``, or a built-in tool type.
        name: The function (or custom tool) to call.
        mode: ``auto`` or ``required`` for ``allowed_tools``.
        tools: The allowed tools, for ``allowed_tools``.
        server_label: The MCP server, for ``mcp``.
    """

    type: str
    name: str | None = None
    mode: str | None = None
    tools: list[dict[str, Any]] | None = None
    server_label: str | None = None


class TextFormat(_Wire, kw_only=True):
    """``text.format``: ``text``, ``json_object``, or ``json_schema`` with its schema.

    Attributes:
        type: ``text``, ``json_schema`` or ``json_object``.
        name: The schema's name (``json_schema``).
        schema: The JSON Schema (``json_schema``).
        strict: Enforce the schema exactly (``json_schema``).
        description: What the output is, for the model (``json_schema``).
    """

    type: str
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


class TextConfig(_Wire, kw_only=True):
    """``text``: the output's format and verbosity.

    Attributes:
        format: The output format.
        verbosity: ``low``, ``medium`` or ``high``.
    """

    format: TextFormat | None = None
    verbosity: str | None = None


class ReasoningConfig(_Wire, kw_only=True):
    """``reasoning``, for reasoning models.

    Attributes:
        effort: ``none``, ``minimal``, ``low``, ``medium``, ``high``, ``xhigh`` or ``max``.
        summary: ``auto``, ``concise`` or ``detailed``: ask for reasoning summaries.
        generate_summary: Deprecated spelling of ``summary``.
    """

    effort: str | None = None
    summary: str | None = None
    generate_summary: str | None = None


class StreamOptions(_Wire, kw_only=True):
    """``stream_options``.

    Attributes:
        include_obfuscation: Pad delta events with random characters (the API's default).
    """

    include_obfuscation: bool | None = None


class ResponsesRequest(_Wire, kw_only=True):
    """``POST /v1/responses`` body.

    Attributes:
        model: Model id.
        input: A prompt, or items (messages, function calls and their outputs, reasoning).
        instructions: A system (developer) message, not carried over by
            ``previous_response_id``.
        tools: Tools the model may call.
        tool_choice: ``auto``, ``none``, ``required``, or a ``ToolChoice``.
        parallel_tool_calls: Allow several calls in one turn.
        text: Output format (``json_schema`` for structured output) and verbosity.
        reasoning: Reasoning effort and summaries.
        max_output_tokens: Output limit, reasoning tokens included.
        max_tool_calls: Limit on built-in tool calls.
        temperature: Sampling temperature.
        top_p: Nucleus sampling.
        top_logprobs: Log probabilities per token (0 to 20).
        store: Keep the response at the provider (the API's default is true).
        stream: Stream server-sent events.
        stream_options: Streaming options.
        previous_response_id: Continue a stored response.
        conversation: A conversation id (or ``{"id": ...}``), as sent.
        include: Extra output, e.g. ``reasoning.encrypted_content``.
        metadata: Up to 16 string pairs.
        truncation: ``auto`` or ``disabled``.
        service_tier: ``auto``, ``default``, ``flex``, ``priority``, ...
        user: End-user id (older field).
        safety_identifier: End-user id for abuse detection.
        prompt_cache_key: Cache bucketing key.
        prompt_cache_retention: ``in_memory`` or ``24h``.
        background: Run in the background.
        prompt: A stored prompt template reference, as sent.
    """

    model: str
    input: str | list[Item] | None = None
    instructions: str | None = None
    tools: list[Tool] | None = None
    tool_choice: str | ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    max_output_tokens: int | None = None
    max_tool_calls: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_logprobs: int | None = None
    store: bool | None = None
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    previous_response_id: str | None = None
    conversation: Any = None
    include: list[str] | None = None
    metadata: dict[str, str] | None = None
    truncation: str | None = None
    service_tier: str | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    background: bool | None = None
    prompt: dict[str, Any] | None = None


# ---------------------------------------------------------------- response


class InputTokensDetails(_Wire, kw_only=True):
    """``usage.input_tokens_details``.

    Attributes:
        cached_tokens: Input tokens read from the prompt cache (a subset of input tokens).
        cache_write_tokens: Input tokens written to the cache, where the provider sends it.
    """

    cached_tokens: int | None = None
    cache_write_tokens: int | None = None


class OutputTokensDetails(_Wire, kw_only=True):
    """``usage.output_tokens_details``.

    Attributes:
        reasoning_tokens: Reasoning tokens (a subset of output tokens).
    """

    reasoning_tokens: int | None = None


class Usage(_Full, kw_only=True):
    """A response's token usage. ``input_tokens`` includes cached tokens.

    Attributes:
        input_tokens: All input tokens.
        input_tokens_details: Cache reads and writes.
        output_tokens: All output tokens, reasoning included.
        output_tokens_details: Reasoning tokens.
        total_tokens: Input plus output.
    """

    input_tokens: int | None = None
    input_tokens_details: InputTokensDetails | None = None
    output_tokens: int | None = None
    output_tokens_details: OutputTokensDetails | None = None
    total_tokens: int | None = None


class ResponseError(_Full, kw_only=True):
    """Why a response failed (``status: failed``).

    Attributes:
        code: ``server_error``, ``rate_limit_exceeded``, ``invalid_prompt``, an image error, ...
        message: What went wrong.
    """

    code: str | None = None
    message: str = ""


class IncompleteDetails(_Full, kw_only=True):
    """Why a response is incomplete.

    Attributes:
        reason: ``max_output_tokens`` or ``content_filter``.
    """

    reason: str | None = None


class Response(_Full, kw_only=True):
    """A response: the non-streamed body, and the ``response`` of lifecycle stream events.

    Attributes:
        id: The response id (``resp_...``), for ``previous_response_id``.
        object: ``response``.
        created_at: Unix time it was created.
        status: ``completed``, ``failed``, ``in_progress``, ``cancelled``, ``queued`` or
            ``incomplete``.
        error: Why it failed.
        incomplete_details: Why it is incomplete.
        instructions: The instructions, as sent.
        model: The model that answered.
        output: The output items, in order.
        parallel_tool_calls: Whether parallel calls were allowed.
        previous_response_id: The response this one continues.
        reasoning: The reasoning settings used.
        store: Whether it is stored.
        temperature: Sampling temperature used.
        text: The text settings used.
        tool_choice: The tool choice, as sent.
        tools: The tools, as sent.
        top_p: Nucleus sampling used.
        max_output_tokens: The output limit.
        truncation: The truncation strategy.
        usage: Token usage (null until the response is done).
        user: End-user id.
        metadata: The request's metadata.
        service_tier: The tier that served it.
        background: Whether it ran in the background.
    """

    id: str = ""
    object: str = "response"
    created_at: int | float = 0
    status: str | None = None
    error: ResponseError | None = None
    incomplete_details: IncompleteDetails | None = None
    instructions: Any = None
    model: str = ""
    output: list[Item] = []
    parallel_tool_calls: bool = True
    previous_response_id: str | None = None
    reasoning: ReasoningConfig | None = None
    store: bool | None = None
    temperature: float | None = None
    text: TextConfig | None = None
    tool_choice: Any = "auto"
    tools: list[Any] = []
    top_p: float | None = None
    max_output_tokens: int | None = None
    truncation: str | None = None
    usage: Usage | None = None
    user: str | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    background: bool | None = None
