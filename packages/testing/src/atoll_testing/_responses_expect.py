"""The corpus ``expect`` block of a recorded OpenAI Responses body or stream.

The whole response is in a non-stream body and in a stream's final event (``response.completed``,
``response.incomplete`` or ``response.failed``); a stream cut before that is read from its
``response.output_item.done`` items. ``finish_reason`` is the raw value: the incomplete reason
when there is one, else the response's ``status``. Reasoning is the summary (and reasoning)
text.
"""

from __future__ import annotations

from typing import Any, cast

import msgspec

from ._expect import empty_expect, sse_data

_FINAL = ("response.completed", "response.incomplete", "response.failed")


def _d(value: Any) -> dict[str, Any]:
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _l(value: Any) -> list[Any]:
    return cast("list[Any]", value) if isinstance(value, list) else []


def _json(text: str) -> Any:
    try:
        return msgspec.json.decode(text)
    except msgspec.DecodeError:
        return None


def _args(raw: str) -> Any:
    if not raw:
        return {}
    parsed = _json(raw)
    return raw if parsed is None else parsed


def _response_of(body: str, stream: bool) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The response object, and an error event seen in the stream (if any)."""
    if not stream:
        return _d(_json(body)), None
    response: dict[str, Any] = {}
    items: dict[int, Any] = {}
    error: dict[str, Any] | None = None
    for _, data in sse_data(body):
        event = _d(_json(data))
        kind = event.get("type")
        if kind in _FINAL or kind == "response.created":
            response = _d(event.get("response"))
        elif kind == "response.output_item.done":
            items[event.get("output_index", len(items))] = event.get("item")
        elif kind == "error":
            error = {
                "type": "error",
                "code": event.get("code"),
                "message": event.get("message"),
                "in_stream": True,
            }
    if not _l(response.get("output")) and items:
        response = {**response, "output": [items[i] for i in sorted(items)]}
    return response, error


def responses_expect(body: str, stream: bool, status: int) -> dict[str, Any]:
    """The expect block of a Responses body or stream."""
    exp = empty_expect()
    response, stream_error = _response_of(body, stream)
    if status >= 400 or (response.get("error") and "output" not in response):
        err = _d(response.get("error"))
        exp["error"] = {
            "type": err.get("type"),
            "code": err.get("code"),
            "message": err.get("message"),
            "in_stream": False,
        }
        return exp
    text, reasoning = "", ""
    for item in map(_d, _l(response.get("output"))):
        kind = item.get("type")
        if kind == "message":
            for part in map(_d, _l(item.get("content"))):
                if part.get("type") == "output_text":
                    text += str(part.get("text", ""))
        elif kind == "reasoning":
            for part in map(_d, [*_l(item.get("summary")), *_l(item.get("content"))]):
                reasoning += str(part.get("text", ""))
        elif kind == "function_call":
            exp["tool_calls"].append(
                {
                    "id": item.get("call_id"),
                    "name": item.get("name"),
                    "arguments": _args(str(item.get("arguments") or "")),
                }
            )
    exp["text"] = text or None
    if reasoning:
        exp["reasoning"] = reasoning
    reason = _d(response.get("incomplete_details")).get("reason")
    exp["finish_reason"] = reason or response.get("status")
    usage = _d(response.get("usage"))
    if usage:
        exp["usage"] = {
            "input_tokens": usage.get("input_tokens"),
            "output_tokens": usage.get("output_tokens"),
        }
    failure = _d(response.get("error"))
    if stream_error is not None:
        exp["error"] = stream_error
    elif failure:
        exp["error"] = {
            "type": "response.failed",
            "code": failure.get("code"),
            "message": failure.get("message"),
            "in_stream": stream,
        }
    return exp
