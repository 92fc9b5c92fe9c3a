"""Anthropic content blocks: the tagged union shared by requests, responses and streams."""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec


# gc=False: decoded wire data never forms reference cycles; untracked structs allocate faster.
class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Every plain wire struct: keyword-only, defaults left out when encoding."""


class _Tagged(_Wire, tag_field="type", kw_only=True):
    """Every union member: tagged on ``type``."""


class CacheControl(_Wire, kw_only=True):
    """``cache_control`` on a block, tool or system part.

    Attributes:
        type: ``ephemeral`` (required on the wire, so no default).
        ttl: ``5m`` or ``1h``.
    """

    type: str
    ttl: str | None = None


class Source(_Wire, kw_only=True):
    """The ``source`` of an image or document block.

    Attributes:
        type: ``base64``, ``url``, ``text``, ``content`` or ``file``.
        media_type: MIME type for ``base64``/``text``.
        data: Base64 bytes or plain text.
        url: URL for ``url`` sources.
        file_id: Files API id for ``file`` sources.
        content: Blocks for ``content`` sources.
    """

    type: str
    media_type: str | None = None
    data: str | None = None
    url: str | None = None
    file_id: str | None = None
    content: Any = None


# ---------------------------------------------------------------- content blocks


class TextBlock(_Tagged, tag="text", kw_only=True):
    """Text.

    Attributes:
        text: The text.
        citations: Citations attached to this text, as sent.
        cache_control: Prompt caching breakpoint.
    """

    text: str
    citations: list[dict[str, Any]] | None = None
    cache_control: CacheControl | None = None


class ImageBlock(_Tagged, tag="image", kw_only=True):
    """An image.

    Attributes:
        source: Where the image comes from.
        cache_control: Prompt caching breakpoint.
    """

    source: Source
    cache_control: CacheControl | None = None


class DocumentBlock(_Tagged, tag="document", kw_only=True):
    """A document (PDF, text).

    Attributes:
        source: Where the document comes from.
        title: Title shown to the model.
        context: Extra context about the document.
        citations: Citation settings, e.g. ``{"enabled": true}``.
        cache_control: Prompt caching breakpoint.
    """

    source: Source
    title: str | None = None
    context: str | None = None
    citations: dict[str, Any] | None = None
    cache_control: CacheControl | None = None


class SearchResultBlock(_Tagged, tag="search_result", kw_only=True):
    """A search result the caller supplies for citations.

    Attributes:
        source: Where the result comes from.
        title: Result title.
        content: The result text blocks.
        citations: Citation settings.
        cache_control: Prompt caching breakpoint.
    """

    source: str
    title: str
    content: list[TextBlock] = []
    citations: dict[str, Any] | None = None
    cache_control: CacheControl | None = None


class ToolUseBlock(_Tagged, tag="tool_use", kw_only=True):
    """A client tool call.

    Attributes:
        id: The call id.
        name: The tool name.
        input: The arguments object (``{}`` at ``content_block_start`` in streams).
        caller: Who made the call (programmatic tool calling), as sent.
        cache_control: Prompt caching breakpoint.
    """

    id: str
    name: str
    input: dict[str, Any]
    caller: dict[str, Any] | None = None
    cache_control: CacheControl | None = None


class ToolResultBlock(_Tagged, tag="tool_result", kw_only=True):
    """The result of a client tool call.

    Attributes:
        tool_use_id: The call this answers.
        content: Text, or text/image/document/search-result blocks.
        is_error: True when the tool failed.
        cache_control: Prompt caching breakpoint.
    """

    tool_use_id: str
    content: str | list[TextBlock | ImageBlock | DocumentBlock | SearchResultBlock] | None = None
    is_error: bool | None = None
    cache_control: CacheControl | None = None


class ThinkingBlock(_Tagged, tag="thinking", kw_only=True):
    """Extended thinking.

    Attributes:
        thinking: The reasoning text.
        signature: Must be sent back unchanged with the block.
    """

    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Tagged, tag="redacted_thinking", kw_only=True):
    """Encrypted thinking.

    Attributes:
        data: Opaque payload to send back unchanged.
    """

    data: str


class ServerToolUseBlock(_Tagged, tag="server_tool_use", kw_only=True):
    """A call of a server-side tool (web search, code execution, tool search, ...).

    Attributes:
        id: The call id (``srvtoolu_...``).
        name: The server tool.
        input: Its input.
        caller: Who made the call, as sent.
    """

    id: str
    name: str
    input: dict[str, Any]
    caller: dict[str, Any] | None = None


class _ServerToolResult(_Tagged, kw_only=True):
    """Shared shape of every server tool result block; ``content`` is kept as sent."""

    tool_use_id: str
    content: Any = None
    cache_control: CacheControl | None = None


class WebSearchToolResultBlock(_ServerToolResult, tag="web_search_tool_result", kw_only=True):
    """Web search results.

    Attributes:
        tool_use_id: The server tool call.
        content: Results or an error object, as sent.
        cache_control: Prompt caching breakpoint.
    """


class WebFetchToolResultBlock(_ServerToolResult, tag="web_fetch_tool_result", kw_only=True):
    """A fetched web page.

    Attributes:
        tool_use_id: The server tool call.
        content: The fetched document or an error object, as sent.
        cache_control: Prompt caching breakpoint.
    """


class CodeExecutionToolResultBlock(
    _ServerToolResult, tag="code_execution_tool_result", kw_only=True
):
    """Code execution output.

    Attributes:
        tool_use_id: The server tool call.
        content: stdout/stderr/return code, as sent.
        cache_control: Prompt caching breakpoint.
    """


class BashCodeExecutionToolResultBlock(
    _ServerToolResult, tag="bash_code_execution_tool_result", kw_only=True
):
    """Bash code execution output.

    Attributes:
        tool_use_id: The server tool call.
        content: stdout/stderr/return code, as sent.
        cache_control: Prompt caching breakpoint.
    """


class TextEditorCodeExecutionToolResultBlock(
    _ServerToolResult, tag="text_editor_code_execution_tool_result", kw_only=True
):
    """Text editor tool output inside code execution.

    Attributes:
        tool_use_id: The server tool call.
        content: The result, as sent.
        cache_control: Prompt caching breakpoint.
    """


class ToolSearchToolResultBlock(_ServerToolResult, tag="tool_search_tool_result", kw_only=True):
    """Tool search results (tool references).

    Attributes:
        tool_use_id: The server tool call.
        content: The references, as sent.
        cache_control: Prompt caching breakpoint.
    """


class McpToolUseBlock(_Tagged, tag="mcp_tool_use", kw_only=True):
    """A call to a tool on a remote MCP server.

    Attributes:
        id: The call id.
        name: The tool name.
        server_name: The MCP server.
        input: The arguments.
    """

    id: str
    name: str
    server_name: str | None = None
    input: dict[str, Any]


class McpToolResultBlock(_Tagged, tag="mcp_tool_result", kw_only=True):
    """The result of an MCP tool call.

    Attributes:
        tool_use_id: The call.
        content: The result, as sent.
        is_error: True when the tool failed.
    """

    tool_use_id: str
    content: Any = None
    is_error: bool | None = None


class ContainerUploadBlock(_Tagged, tag="container_upload", kw_only=True):
    """A file uploaded into the code execution container.

    Attributes:
        file_id: The Files API id.
    """

    file_id: str


class UnknownBlock(_Tagged, tag="unknown", kw_only=True):
    """A block whose ``type`` this module does not know, kept whole.

    To send it back, send ``raw`` (the block exactly as decoded), not this struct.

    Attributes:
        block_type: The block's ``type``.
        raw: The block's JSON object as decoded.
    """

    block_type: str
    raw: dict[str, Any]


ContentBlock: TypeAlias = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | SearchResultBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | ServerToolUseBlock
    | WebSearchToolResultBlock
    | WebFetchToolResultBlock
    | CodeExecutionToolResultBlock
    | BashCodeExecutionToolResultBlock
    | TextEditorCodeExecutionToolResultBlock
    | ToolSearchToolResultBlock
    | McpToolUseBlock
    | McpToolResultBlock
    | ContainerUploadBlock
    | UnknownBlock
)

BLOCK_TYPES = frozenset(
    {
        "text",
        "image",
        "document",
        "search_result",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
    }
)
"""Every block ``type`` the union knows; anything else becomes ``UnknownBlock``."""
