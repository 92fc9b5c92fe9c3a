"""Legacy messages to and from the neutral ``atoll_wire.Message``, losslessly.

A reply's parts that legacy messages have no field for (thinking with its signature, redacted
thinking) travel in ``extras["parts"]`` and go back to the provider unchanged; a reply's
record (tokens, cost, elapsed) is derived from the Client's ``ClientResponse``.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
from atoll_dialects import ClientResponse
from atoll_wire import (
    ImagePart,
    Message,
    Part,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    parse_tool_arguments,
)

from ._exceptions import RenderError
from ._messages import (
    AbstractMessage,
    AIMessage,
    AIToolRequest,
    SystemMessage,
    ToolMessage,
    UserMessage,
    UserMessageWithImages,
)
from ._render import unwrap


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def tool_call_part(call: ToolMessage) -> ToolCallPart:
    """The neutral tool call a ``ToolMessage`` stands for."""
    raw = call.raw or json.dumps(call.args or {})
    arguments, error = parse_tool_arguments(raw)
    return ToolCallPart(
        id=call.tool_call_id,
        name=call.name or "",
        arguments=call.args if call.args is not None else arguments,
        raw_arguments=raw,
        arguments_error=error,
    )


def _stored_parts(extras: dict[str, Any] | None) -> list[Part]:
    stored = (extras or {}).get("parts")
    if not stored:
        return []
    return msgspec.convert(stored, list[Part])


def assistant_message(
    content: str | None,
    extras: dict[str, Any] | None,
    calls: list[ToolCallPart],
    name: str | None = None,
) -> Message:
    """The neutral assistant message for a reply, with its stored parts when they still fit.

    The parts kept in ``extras["parts"]`` are sent verbatim while their text and tool calls
    still match the message (thinking signatures must go back unchanged); an edited message
    keeps its thinking parts, then its text, then its tool calls.
    """
    stored = _stored_parts(extras)
    text = content or ""
    if stored:
        stored_text = "".join(p.text for p in stored if isinstance(p, TextPart))
        stored_ids = [p.id for p in stored if isinstance(p, ToolCallPart)]
        if stored_text == text and stored_ids == [c.id for c in calls]:
            return Message(role="assistant", parts=stored, name=name)
    kept: list[Part] = [p for p in stored if not isinstance(p, TextPart | ToolCallPart)]
    if text or not calls:
        kept.append(TextPart(text=text))
    kept.extend(calls)
    return Message(role="assistant", parts=kept, name=name)


def to_neutral(message: AbstractMessage, image_detail: str | None = None) -> Message | None:
    """The neutral message for a legacy one, or ``None`` for what is never sent.

    Args:
        message: A legacy message (a ``TracerMessage`` is unwrapped).
        image_detail: OpenAI's ``low``/``high``/``auto`` hint for images.

    Raises:
        RenderError: A ``ToolMessage`` without a result.
    """
    inner = unwrap(message)
    if isinstance(inner, SystemMessage):
        return Message.system(inner.content)
    if isinstance(inner, UserMessageWithImages):
        parts: list[Part] = [TextPart(text=inner.content)]
        parts.extend(ImagePart(url=url, detail=image_detail) for url in inner.image_url)
        return Message(role="user", parts=parts, name=inner.name)
    if isinstance(inner, UserMessage):
        return Message(role="user", parts=[TextPart(text=inner.content)], name=inner.name)
    if isinstance(inner, AIToolRequest):
        calls = [tool_call_part(c) for c in inner.tool_calls]
        return assistant_message(inner.content, inner.extras, calls, inner.name)
    if isinstance(inner, AIMessage):
        return assistant_message(inner.content, inner.extras, [], inner.name)
    if isinstance(inner, ToolMessage):
        if inner.content is None:
            raise RenderError(
                f"the result of tool call {inner.tool_call_id!r} ({inner.name}) is missing: "
                "set tool_message.content (for example with execute_tool) before sending it"
            )
        result = ToolResultPart.from_text(inner.tool_call_id, _text(inner.content), name=inner.name)
        return Message(role="tool", parts=[result])
    return None  # data, annotation and metadata messages stay local


def to_neutral_all(
    messages: list[AbstractMessage], image_detail: str | None = None
) -> list[Message]:
    """``to_neutral`` over a conversation, leaving out what is never sent."""
    out: list[Message] = []
    for message in messages:
        neutral = to_neutral(message, image_detail)
        if neutral is not None:
            out.append(neutral)
    return out


def _image_url(part: ImagePart) -> str:
    if part.url is not None:
        return part.url
    import base64

    data = base64.b64encode(part.data or b"").decode("ascii")
    return f"data:{part.media_type or 'image/png'};base64,{data}"


def parts_extras(message: Message) -> dict[str, Any]:
    """``extras`` that keep a reply's parts when its text and tool calls alone cannot rebuild them.

    A plain reply (one text, then tool calls) needs nothing; thinking, signatures, several
    text pieces or an unusual order are kept in ``extras["parts"]`` for a lossless round trip.
    """
    canonical = assistant_message(message.text or None, None, message.tool_calls)
    if canonical.parts == message.parts:
        return {}
    extras: dict[str, Any] = {"parts": msgspec.to_builtins(message.parts)}
    if message.thinking:
        extras["thinking"] = message.thinking
    return extras


def from_neutral(message: Message) -> list[AbstractMessage]:
    """The legacy message(s) for a neutral one (a tool message may hold several results).

    Raises:
        TypeError: A user message holds audio or a document, which legacy messages cannot carry.
    """
    if message.role == "system":
        return [SystemMessage(message.text)]
    if message.role == "user":
        images = [p for p in message.parts if isinstance(p, ImagePart)]
        other = [p for p in message.parts if not isinstance(p, TextPart | ImagePart)]
        if other:
            raise TypeError(
                f"a legacy user message cannot carry {type(other[0]).__name__}; "
                "use the neutral Message with atoll_dialects.Client"
            )
        if images:
            urls = [_image_url(p) for p in images]
            return [UserMessageWithImages(message.text, image_url=urls, name=message.name)]
        return [UserMessage(message.text, name=message.name)]
    if message.role == "tool":
        return [
            ToolMessage(
                content="".join(c.text for c in p.content if isinstance(c, TextPart)),
                tool_call_id=p.call_id,
                name=p.name,
            )
            for p in message.parts
            if isinstance(p, ToolResultPart)
        ]
    extras = parts_extras(message)
    content = message.text or None
    calls = message.tool_calls
    if calls:
        requests = [
            ToolMessage(tool_call_id=c.id, raw=c.raw_arguments, args=dict(c.arguments), name=c.name)
            for c in calls
        ]
        return [
            AIToolRequest(content=content, tool_calls=requests, name=message.name, extras=extras)
        ]
    return [AIMessage(content=content, name=message.name, extras=extras, status=200)]


def record(
    response: ClientResponse, elapsed: float, run_id: int, sample_id: int | None
) -> dict[str, Any]:
    """The record fields every reply message carries, from the Client's response.

    Returns:
        ``status``, ``tokens``, ``elapsed``, ``cost``, ``usage``, ``finish_reason``, ``run_id``,
        ``sample_id`` and ``extras`` (served_by, response_id, exact cost or why it is unknown,
        retried attempts, the reply's non-text parts).
    """
    usage = response.usage
    tokens = (
        -1 if usage.input_tokens is None else usage.input_tokens,
        -1 if usage.output_tokens is None else usage.output_tokens,
    )
    extras: dict[str, Any] = {"served_by": response.served_by}
    if response.id is not None:
        extras["response_id"] = response.id
    cost = response.cost
    if cost is not None:
        extras["cost_usd"] = str(cost.total)
        extras["price_source"] = cost.price.source
    else:
        extras["cost_note"] = response.cost_note or "the price is unknown"
    if response.attempts:
        extras["attempts"] = msgspec.to_builtins(response.attempts)
    if response.incomplete:
        extras["incomplete"] = True
    extras.update(parts_extras(response.message))
    return {
        "status": 200,
        "tokens": tokens,
        "elapsed": elapsed,
        "cost": None if cost is None else float(cost.total),
        "usage": usage,
        "finish_reason": response.raw_finish_reason or response.finish_reason,
        "run_id": run_id,
        "sample_id": sample_id,
        "extras": extras,
    }
