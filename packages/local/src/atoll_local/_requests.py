"""OpenAI chat and embeddings request bodies → jobs for a model's worker.

Everything here runs on the caller's side before the job is queued, so a malformed request is
answered at once (an OpenAI-shaped 400) without waiting for the model. Messages become the
dicts Hugging Face chat templates expect: content as one string, tool-call arguments as objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from atoll_wire.openai import ChatCompletionRequest, ChatMessage, decode_request
from llama_cpp.llama_grammar import LlamaGrammar

from ._grammar import forced_call_grammar, json_object_grammar, schema_grammar
from ._jobs import ChatItem, ChatJob, Embedded, EmbedJob, RequestRejected, Sampling
from ._outbox import Outbox
from ._tool_parsers import ToolCallParser

JSON = dict[str, Any]

# llama.cpp sampler settings a request may pass beside OpenAI's (``extra={"top_k": 20}``).
_EXTRA_FLOATS = ("min_p", "typical_p", "repeat_penalty")


@dataclass(frozen=True, slots=True)
class ChatPlan:
    """What the transport needs to answer a chat job."""

    job: ChatJob
    model: str
    stream: bool
    include_usage: bool
    parser: Callable[[], ToolCallParser] | None
    """Parse tool calls out of the text (tools were given and may be called)."""


def decode_chat(body: bytes) -> tuple[ChatCompletionRequest, JSON]:
    """The typed request and the raw JSON object (for llama.cpp's extra sampler fields).

    Raises:
        RequestRejected: Not JSON, or not a chat request.
    """
    try:
        request = decode_request(body)
        raw: object = json.loads(body)
    except ValueError as exc:  # msgspec.DecodeError and json.JSONDecodeError are ValueErrors
        raise RequestRejected(
            400, "invalid_request", f"the request body is not valid: {exc}"
        ) from exc
    if not isinstance(raw, dict):
        raise RequestRejected(400, "invalid_request", "the request body must be a JSON object")
    return request, raw  # pyright: ignore[reportUnknownVariableType]


def chat_plan(
    request: ChatCompletionRequest,
    raw: JSON,
    parser: Callable[[], ToolCallParser],
    outbox: Outbox[ChatItem],
) -> ChatPlan:
    """Check a chat request and build its job.

    Raises:
        RequestRejected: Something this transport cannot serve (with the field at fault).
    """
    _refuse_unsupported(request)
    if not request.messages:
        raise RequestRejected(400, "invalid_request", "messages must not be empty", "messages")
    tools = [
        _tool(t.function.name, t.function.description, t.function.parameters)
        for t in request.tools or ()
    ]
    choice = _tool_choice(request, tools)
    grammar, grammar_source = _grammar(request, raw, tools, choice, parser)
    # Output held to a response_format schema is JSON: a "<tool_call>" in it is data, not a call.
    calls_possible = bool(tools) and choice != "none" and grammar_source != "response_format"
    job = ChatJob(
        messages=_messages(request.messages),
        tools=tools or None,
        tool_choice=choice if tools else None,
        sampling=_sampling(request, raw),
        stop=[request.stop] if isinstance(request.stop, str) else list(request.stop or ()),
        max_tokens=_max_tokens(request),
        grammar=grammar,
        outbox=outbox,
    )
    options = request.stream_options
    return ChatPlan(
        job=job,
        model=request.model,
        stream=bool(request.stream),
        include_usage=bool(options and options.include_usage),
        parser=parser if calls_possible else None,
    )


def embed_job(body: bytes, outbox: Outbox[Embedded]) -> tuple[str, EmbedJob, int | None]:
    """The model name, the job and the ``dimensions`` asked for.

    Raises:
        RequestRejected: Not an embeddings request of texts.
    """
    try:
        raw: object = json.loads(body)
    except ValueError as exc:
        raise RequestRejected(
            400, "invalid_request", f"the request body is not JSON: {exc}"
        ) from exc
    if not isinstance(raw, dict):
        raise RequestRejected(400, "invalid_request", "the request body must be a JSON object")
    fields: JSON = raw  # pyright: ignore[reportUnknownVariableType]
    model, inputs, dimensions = fields.get("model"), fields.get("input"), fields.get("dimensions")
    if not isinstance(model, str):
        raise RequestRejected(400, "invalid_request", "model must be a string", "model")
    texts: list[object] = (
        [inputs]
        if isinstance(inputs, str)
        else cast("list[object]", inputs)
        if isinstance(inputs, list)
        else []
    )
    if not texts or not all(isinstance(t, str) for t in texts):
        raise RequestRejected(
            400, "invalid_request", "input must be a string or a non-empty list of strings", "input"
        )
    if dimensions is not None and (not isinstance(dimensions, int) or dimensions < 1):
        raise RequestRejected(
            400, "invalid_request", "dimensions must be a positive integer", "dimensions"
        )
    return model, EmbedJob(texts=[str(t) for t in texts], outbox=outbox), dimensions


def _refuse_unsupported(request: ChatCompletionRequest) -> None:
    if request.n not in (None, 1):
        raise RequestRejected(400, "unsupported", "atoll_local generates one choice (n=1)", "n")
    if request.logprobs:
        raise RequestRejected(
            400, "unsupported", "atoll_local does not return logprobs", "logprobs"
        )


def _content(message: ChatMessage) -> str:
    content = message.content
    if content is None or isinstance(content, str):
        return content or ""
    texts: list[str] = []
    for part in content:
        if part.type != "text" or part.text is None:
            raise RequestRejected(
                400,
                "unsupported_content",
                f"atoll_local serves text models; a {part.type!r} part cannot be sent",
                "messages",
            )
        texts.append(part.text)
    return "".join(texts)


def _arguments(text: str) -> object:
    # Hugging Face templates render arguments with `tojson`: an object, not OpenAI's JSON text.
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def _messages(messages: list[ChatMessage]) -> list[JSON]:
    names: dict[str, str] = {}
    out: list[JSON] = []
    for message in messages:
        entry: JSON = {"role": message.role, "content": _content(message)}
        if message.name:
            entry["name"] = message.name
        if message.tool_calls:
            entry["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {
                        "name": call.function.name,
                        "arguments": _arguments(call.function.arguments),
                    },
                }
                for call in message.tool_calls
            ]
            names.update((call.id, call.function.name) for call in message.tool_calls)
        if message.tool_call_id is not None:
            entry["tool_call_id"] = message.tool_call_id
            # Some templates label a tool result with the function's name.
            if message.tool_call_id in names and "name" not in entry:
                entry["name"] = names[message.tool_call_id]
        out.append(entry)
    return out


def _tool(name: str, description: str | None, parameters: JSON | None) -> JSON:
    function: JSON = {
        "name": name,
        "parameters": parameters or {"type": "object", "properties": {}},
    }
    if description:
        function["description"] = description
    return {"type": "function", "function": function}


def _tool_choice(request: ChatCompletionRequest, tools: list[JSON]) -> str | JSON:
    choice = request.tool_choice
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice not in ("none", "auto", "required"):
            raise RequestRejected(
                400, "invalid_request", f"unknown tool_choice {choice!r}", "tool_choice"
            )
        if choice == "required" and not tools:
            raise RequestRejected(
                400, "invalid_request", "tool_choice 'required' needs tools", "tool_choice"
            )
        return choice
    name = choice.function.name
    if not any(t["function"]["name"] == name for t in tools):
        raise RequestRejected(
            400,
            "invalid_request",
            f"tool_choice names {name!r}, which is not in tools",
            "tool_choice",
        )
    return {"type": "function", "function": {"name": name}}


def _grammar(
    request: ChatCompletionRequest,
    raw: JSON,
    tools: list[JSON],
    choice: str | JSON,
    parser: Callable[[], ToolCallParser],
) -> tuple[Callable[[], LlamaGrammar] | None, str | None]:
    """A deferred grammar (the worker builds it: schemas take milliseconds) and its source.

    A forced tool call wins, then a raw GBNF ``grammar`` (llama.cpp's own extension, sent as
    ``extra={"grammar": ...}``), then ``response_format``.
    """
    if tools and choice != "auto" and choice != "none":
        wanted = choice["function"]["name"] if isinstance(choice, dict) else None
        chosen = [
            (t["function"]["name"], t["function"]["parameters"])
            for t in tools
            if wanted is None or t["function"]["name"] == wanted
        ]
        return (lambda: forced_call_grammar(parser(), chosen)), "tool_choice"
    custom = raw.get("grammar")
    if custom is not None:
        if not isinstance(custom, str) or not custom.strip():
            raise RequestRejected(400, "invalid_request", "grammar must be GBNF text", "grammar")
        return (lambda: LlamaGrammar.from_string(custom, verbose=False)), "grammar"
    response_format = request.response_format
    if response_format is None or response_format.type == "text":
        return None, None
    if response_format.type == "json_object":
        return json_object_grammar, "response_format"
    if response_format.type == "json_schema":
        spec = response_format.json_schema
        if spec is None or spec.schema is None:
            raise RequestRejected(
                400, "invalid_request", "json_schema needs a schema", "response_format"
            )
        schema = spec.schema
        return (lambda: schema_grammar(schema)), "response_format"
    raise RequestRejected(
        400,
        "invalid_request",
        f"unknown response_format type {response_format.type!r}",
        "response_format",
    )


def _number(raw: JSON, name: str, low: float, high: float | None) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or value < low
        or (high is not None and value > high)
    ):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise RequestRejected(400, "invalid_request", f"{name} must be a number {bound}", name)
    return float(value)


def _sampling(request: ChatCompletionRequest, raw: JSON) -> Sampling:
    base = Sampling()
    temperature = _number(raw, "temperature", 0, 2)
    top_p = _number(raw, "top_p", 0, 1)
    top_k = raw.get("top_k")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0):
        raise RequestRejected(
            400, "invalid_request", "top_k must be an integer of at least 0", "top_k"
        )
    extras = {name: _number(raw, name, 0, None) for name in _EXTRA_FLOATS}
    penalties = {
        name: _number(raw, name, -2, 2) for name in ("frequency_penalty", "presence_penalty")
    }
    return Sampling(
        temperature=base.temperature if temperature is None else temperature,
        top_p=base.top_p if top_p is None else top_p,
        top_k=base.top_k if top_k is None else top_k,
        min_p=extras["min_p"] if extras["min_p"] is not None else base.min_p,
        typical_p=extras["typical_p"] if extras["typical_p"] is not None else base.typical_p,
        repeat_penalty=extras["repeat_penalty"]
        if extras["repeat_penalty"] is not None
        else base.repeat_penalty,
        frequency_penalty=penalties["frequency_penalty"] or 0.0,
        presence_penalty=penalties["presence_penalty"] or 0.0,
        seed=request.seed,
    )


def _max_tokens(request: ChatCompletionRequest) -> int | None:
    value = (
        request.max_completion_tokens
        if request.max_completion_tokens is not None
        else request.max_tokens
    )
    if value is not None and value < 1:
        raise RequestRejected(400, "invalid_request", "max_tokens must be at least 1", "max_tokens")
    return value
