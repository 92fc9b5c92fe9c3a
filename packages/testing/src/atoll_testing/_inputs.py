"""What a chat request asked for, in neutral terms: each server dialect reads its body into one.

Models and script rules look at a :class:`ChatInput`, never at raw JSON, so one script drives
``/v1/chat/completions``, ``/v1/messages`` and any other dialect the server speaks.
"""

from __future__ import annotations

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
        dialect: The server dialect's name: ``"openai"``, ``"anthropic"``, or another
            registered one.
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

    dialect: str
    model: str
    stream: bool = False
    include_usage: bool = False
    last_user_text: str = ""
    tool_results: tuple[ToolResult, ...] = ()
    tool_names: tuple[str, ...] = ()
    input_tokens: int = 0
    message_count: int = 0
    body: bytes = b""
