"""Work out a case's ``expect`` block from a recorded body, as the corpus README defines it.

The OpenAI-chat and Anthropic Messages server dialects use these; a dialect without an
``expect`` gets an empty block and a note saying so.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec


def _d(value: Any) -> dict[str, Any]:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return cast("list[Any]", value) if isinstance(value, list) else []


def _json(text: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return None


def sse_data(body: str) -> list[tuple[str, str]]:
    """``(event, data)`` pairs of an event stream (comments and ids ignored)."""
    out: list[tuple[str, str]] = []
    event, data = "message", list[str]()
    for line in body.replace("\r\n", "\n").split("\n"):
        if not line:
            if data:
                out.append((event, "\n".join(data)))
            event, data = "message", list[str]()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif line.startswith("event:"):
            event = line[6:].strip()
    if data:
        out.append((event, "\n".join(data)))
    return out


def _args(raw: str) -> Any:
    if not raw:
        return {}
    parsed = _json(raw)
    return raw if parsed is None else parsed


def empty_expect() -> dict[str, Any]:
    return {"text": None, "tool_calls": [], "finish_reason": None, "usage": None}


def _error(obj: Any, in_stream: bool) -> dict[str, Any] | None:
    err = _d(_d(obj).get("error"))
    if not err:
        return None
    return {
        "type": err.get("type"),
        "code": err.get("code"),
        "message": err.get("message"),
        "in_stream": in_stream,
    }


def _oa_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts = [_d(p) for p in _l(content)]
    return "".join(str(p.get("text", "")) for p in parts if p.get("type") == "text")


def _mistral_thinking(content: Any) -> str:
    """Mistral's ``{"type": "thinking", "thinking": [text parts]}`` content parts."""
    parts = [_d(p) for p in _l(content)]
    return "".join(_oa_text(p.get("thinking")) for p in parts if p.get("type") == "thinking")


def _oa_usage(value: Any) -> dict[str, Any] | None:
    usage = _d(value)
    if not usage:
        return None
    return {
        "input_tokens": usage.get("prompt_tokens"),
        "output_tokens": usage.get("completion_tokens"),
    }


def openai_expect(body: str, stream: bool, status: int) -> dict[str, Any]:
    """The expect block of an OpenAI chat body or stream."""
    exp = empty_expect()
    text, reasoning = "", ""
    calls: dict[int, dict[str, Any]] = {}
    objects = [_json(d) for _, d in sse_data(body) if d != "[DONE]"] if stream else [_json(body)]
    for raw in objects:
        error = _error(raw, stream)
        if error is not None and (stream or status >= 400):
            exp["error"] = error
        obj = _d(raw)
        if obj.get("usage"):
            exp["usage"] = _oa_usage(obj["usage"])
        for choice in map(_d, _l(obj.get("choices"))):
            msg = _d(choice.get("delta" if stream else "message"))
            text += _oa_text(msg.get("content"))
            reasoning += str(msg.get("reasoning_content") or msg.get("reasoning") or "")
            reasoning += _mistral_thinking(msg.get("content"))
            for n, call in enumerate(map(_d, _l(msg.get("tool_calls")))):
                slot = calls.setdefault(call.get("index", n), {"id": None, "name": None, "raw": ""})
                fn = _d(call.get("function"))
                slot["id"] = slot["id"] if slot["id"] is not None else call.get("id")
                slot["name"] = slot["name"] or fn.get("name")
                slot["raw"] += fn.get("arguments") or ""
            if choice.get("finish_reason") is not None:
                exp["finish_reason"] = choice["finish_reason"]
    exp["text"] = text or None
    exp["tool_calls"] = [
        {"id": c["id"], "name": c["name"], "arguments": _args(c["raw"])}
        for _, c in sorted(calls.items())
    ]
    if reasoning:
        exp["reasoning"] = reasoning
    return exp


def _anthropic_events(body: str, stream: bool) -> list[tuple[str, Any]]:
    if stream:
        return [(e, _json(d)) for e, d in sse_data(body)]
    obj = _d(_json(body))
    if obj.get("type") != "message":
        return [("error", obj)]
    events: list[tuple[str, Any]] = [("message_start", {"message": {**obj, "content": []}})]
    for i, block in enumerate(_l(obj.get("content"))):
        events.append(("content_block_start", {"index": i, "content_block": block}))
    delta = {"delta": {"stop_reason": obj.get("stop_reason")}, "usage": obj.get("usage") or {}}
    events.append(("message_delta", delta))
    return events


def anthropic_expect(body: str, stream: bool, status: int) -> dict[str, Any]:
    """The expect block of an Anthropic Messages body or stream."""
    exp = empty_expect()
    blocks: dict[int, dict[str, Any]] = {}
    usage: dict[str, Any] = {}
    for event, raw in _anthropic_events(body, stream):
        obj = _d(raw)
        if event == "error" or obj.get("type") == "error":
            error = _error(obj, stream)
            if error is not None:
                exp["error"] = error
        elif event == "message_start":
            usage["input_tokens"] = _d(_d(obj.get("message")).get("usage")).get("input_tokens")
        elif event == "content_block_start":
            block = dict(_d(obj.get("content_block")))
            block["partial"] = ""
            blocks[obj.get("index", len(blocks))] = block
        elif event == "content_block_delta":
            _anthropic_delta(blocks.get(obj.get("index", -1)), _d(obj.get("delta")))
        elif event == "message_delta":
            exp["finish_reason"] = _d(obj.get("delta")).get("stop_reason", exp["finish_reason"])
            u = _d(obj.get("usage"))
            if "input_tokens" in u:
                usage["input_tokens"] = u["input_tokens"]
            usage["output_tokens"] = u.get("output_tokens")
    ordered = [b for _, b in sorted(blocks.items())]
    exp["text"] = "".join(b.get("text", "") for b in ordered if b.get("type") == "text") or None
    exp["tool_calls"] = [
        {
            "id": b.get("id"),
            "name": b.get("name"),
            "arguments": _args(b["partial"]) if b["partial"] else b.get("input", {}),
        }
        for b in ordered
        if b.get("type") == "tool_use"
    ]
    thinking = "".join(b.get("thinking", "") for b in ordered if b.get("type") == "thinking")
    if thinking:
        exp["reasoning"] = thinking
    if usage:
        exp["usage"] = {
            "input_tokens": usage.get("input_tokens"),
            "output_tokens": usage.get("output_tokens"),
        }
    return exp


def _anthropic_delta(block: dict[str, Any] | None, delta: dict[str, Any]) -> None:
    if block is None:
        return
    kind = delta.get("type")
    if kind == "text_delta":
        block["text"] = block.get("text", "") + delta.get("text", "")
    elif kind == "input_json_delta":
        block["partial"] += delta.get("partial_json", "")
    elif kind == "thinking_delta":
        block["thinking"] = block.get("thinking", "") + delta.get("thinking", "")
