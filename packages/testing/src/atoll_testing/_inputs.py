"""What a chat request asked for, read leniently from either dialect's JSON body.

Models and script rules look at a :class:`ChatInput`, never at raw JSON, so one script drives
both ``/v1/chat/completions`` and ``/v1/messages``.
"""

from __future__ import annotations

from typing import Literal

import msgspec


class ToolResult(msgspec.Struct, kw_only=True, frozen=True):
    """A tool result the client sent back.

    Attributes:
        call_id: The tool call id it answers.
        name: The tool's name, found from the matching assistant tool call (None if unknown).
        content: The result text (text parts joined).
        is_error: Anthropic's ``is_error`` flag (always False for OpenAI).
    """

    call_id: str
    name: str | None
    content: str
    is_error: bool = False


class ChatInput(msgspec.Struct, kw_only=True, frozen=True):
    """A chat request as models and script rules see it.

    Attributes:
        dialect: ``"openai"`` or ``"anthropic"``.
        model: The requested model name.
        stream: Whether a stream was asked for.
        include_usage: OpenAI ``stream_options.include_usage``.
        last_user_text: Text of the last user message ("" when none).
        tool_results: Tool results sent after the last assistant message, in order.
        tool_names: Names of the tools declared in the request.
        input_tokens: Whitespace-separated tokens over all message and system text.
        message_count: Number of messages (system prompt excluded for Anthropic).
        body: The raw request body.
    """

    dialect: Literal["openai", "anthropic"]
    model: str
    stream: bool = False
    include_usage: bool = False
    last_user_text: str = ""
    tool_results: tuple[ToolResult, ...] = ()
    tool_names: tuple[str, ...] = ()
    input_tokens: int = 0
    message_count: int = 0
    body: bytes = b""


# ---- OpenAI request, leniently (unknown fields ignored) ------------------------------------


class _OAPart(msgspec.Struct):
    type: str = "text"
    text: str | None = None


class _OAFunction(msgspec.Struct):
    name: str = ""
    arguments: str = ""


class _OAToolCall(msgspec.Struct):
    id: str = ""
    function: _OAFunction = msgspec.field(default_factory=_OAFunction)


class _OAMessage(msgspec.Struct):
    role: str
    content: str | list[_OAPart] | None = None
    tool_call_id: str | None = None
    tool_calls: list[_OAToolCall] | None = None


class _OATool(msgspec.Struct):
    function: _OAFunction = msgspec.field(default_factory=_OAFunction)


class _OAStreamOptions(msgspec.Struct):
    include_usage: bool = False


class _OARequest(msgspec.Struct):
    model: str
    messages: list[_OAMessage]
    stream: bool | None = False
    stream_options: _OAStreamOptions | None = None
    tools: list[_OATool] | None = None


_OA_DECODER = msgspec.json.Decoder(_OARequest)


def _oa_text(content: str | list[_OAPart] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(p.text or "" for p in content if p.type == "text")


def parse_openai(body: bytes) -> ChatInput:
    """Read an OpenAI chat-completions body (raises msgspec errors on bad shapes)."""
    req = _OA_DECODER.decode(body)
    names: dict[str, str] = {}
    last_user = ""
    tokens = 0
    results: list[ToolResult] = []
    for msg in req.messages:
        text = _oa_text(msg.content)
        tokens += len(text.split())
        if msg.role == "user":
            last_user = text
        elif msg.role == "assistant":
            results.clear()
            for call in msg.tool_calls or ():
                names[call.id] = call.function.name
        elif msg.role == "tool":
            call_id = msg.tool_call_id or ""
            results.append(ToolResult(call_id=call_id, name=names.get(call_id), content=text))
    return ChatInput(
        dialect="openai",
        model=req.model,
        stream=bool(req.stream),
        include_usage=bool(req.stream_options and req.stream_options.include_usage),
        last_user_text=last_user,
        tool_results=tuple(results),
        tool_names=tuple(t.function.name for t in req.tools or ()),
        input_tokens=tokens,
        message_count=len(req.messages),
        body=body,
    )


# ---- Anthropic request ---------------------------------------------------------------------


class _ABlock(msgspec.Struct):
    type: str = "text"
    text: str | None = None
    id: str | None = None
    name: str | None = None
    tool_use_id: str | None = None
    # Server-tool result blocks carry an object here; only text content matters to us.
    content: str | list[_ABlock] | dict[str, object] | None = None
    is_error: bool = False


class _ATool(msgspec.Struct):
    name: str = ""


class _AMessage(msgspec.Struct):
    role: str
    content: str | list[_ABlock]


class _ARequest(msgspec.Struct):
    model: str
    messages: list[_AMessage]
    system: str | list[_ABlock] | None = None
    stream: bool | None = False
    tools: list[_ATool] | None = None


_A_DECODER = msgspec.json.Decoder(_ARequest)


def _a_text(content: str | list[_ABlock] | dict[str, object] | None) -> str:
    if content is None or isinstance(content, dict):
        return ""
    if isinstance(content, str):
        return content
    return "".join(b.text or "" for b in content if b.type == "text")


def parse_anthropic(body: bytes) -> ChatInput:
    """Read an Anthropic Messages body (raises msgspec errors on bad shapes)."""
    req = _A_DECODER.decode(body)
    names: dict[str, str] = {}
    last_user = ""
    tokens = len(_a_text(req.system).split())
    results: list[ToolResult] = []
    for msg in req.messages:
        text = _a_text(msg.content)
        tokens += len(text.split())
        blocks = msg.content if isinstance(msg.content, list) else []
        if msg.role == "assistant":
            results.clear()
            for block in blocks:
                if block.type == "tool_use" and block.id is not None:
                    names[block.id] = block.name or ""
            continue
        tool_blocks = [b for b in blocks if b.type == "tool_result"]
        for block in tool_blocks:
            call_id = block.tool_use_id or ""
            content = _a_text(block.content)
            tokens += len(content.split())
            results.append(
                ToolResult(
                    call_id=call_id,
                    name=names.get(call_id),
                    content=content,
                    is_error=block.is_error,
                )
            )
        if text or not tool_blocks:
            last_user = text
    return ChatInput(
        dialect="anthropic",
        model=req.model,
        stream=bool(req.stream),
        include_usage=True,
        last_user_text=last_user,
        tool_results=tuple(results),
        tool_names=tuple(t.name for t in req.tools or ()),
        input_tokens=tokens,
        message_count=len(req.messages),
        body=body,
    )
