"""What ``dry_run=True, return_all=True`` shows: the conversation as the schema would send it.

For a provider schema it is exactly what the dialect would put on the wire (the ``messages`` of
the request body; for Anthropic also its ``system``), built by the dialect itself with no key.
``ChatMLSchema`` gives one ChatML string; ``NoSchema`` the rendered legacy messages.
"""

from __future__ import annotations

import json
from typing import Any

from atoll_wire import ChatRequest, Message

from ._messages import AbstractMessage
from ._neutral import to_neutral_all
from ._target import CallTarget


def wire_messages(target: CallTarget, messages: list[Message], image_detail: str | None) -> Any:
    """The request body's conversation for ``target`` (no key needed, nothing sent)."""
    wire = target.wire_target()
    request = ChatRequest(model=wire.request_model, messages=messages)
    http = wire.dialect.build(request, wire)
    body: dict[str, Any] = json.loads(http.body)
    if "system" in body or wire.dialect.name == "anthropic-messages":
        return {"system": body.get("system"), "messages": body["messages"]}
    return body["messages"]


def chatml(conversation: list[AbstractMessage], image_detail: str | None = None) -> str:
    """The conversation as ChatML, ending with the open assistant turn."""
    lines: list[str] = []
    for message in to_neutral_all(conversation, image_detail):
        text = message.text
        if message.role == "tool":
            text = "".join(
                c.text
                for p in message.parts
                for c in getattr(p, "content", [])
                if hasattr(c, "text")
            )
        lines.append(f"<|im_start|>{message.role}\n{text}<|im_end|>\n")
    lines.append("<|im_start|>assistant\n")
    return "".join(lines)
