"""Answers in OpenAI's wire format: a chat completion, SSE chunks, embeddings, errors.

The hot path is one text delta per batch of tokens: its bytes are a fixed prefix, the JSON
string of the text and a fixed suffix, so a token costs one ``json.dumps`` of a short string.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence

from ._jobs import RequestRejected
from ._tool_parsers import ParsedToolCall

SSE_HEADERS = {"content-type": "text/event-stream", "cache-control": "no-cache"}
JSON_HEADERS = {"content-type": "application/json"}
DONE = b"data: [DONE]\n\n"


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def call_id() -> str:
    """A fresh tool-call id, as OpenAI shapes them."""
    return f"call_{uuid.uuid4().hex[:24]}"


def tool_calls(calls: Sequence[ParsedToolCall]) -> list[dict[str, object]]:
    """``ParsedToolCall`` values → OpenAI ``tool_calls`` (fresh ids)."""
    return [
        {
            "id": call_id(),
            "type": "function",
            "function": {"name": c.name, "arguments": c.arguments},
        }
        for c in calls
    ]


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    """OpenAI's usage object."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion(
    model: str,
    content: str,
    calls: Sequence[ParsedToolCall],
    finish_reason: str,
    prompt_tokens: int,
    completion_tokens: int,
) -> bytes:
    """A whole ``chat.completion`` body."""
    message: dict[str, object] = {
        "role": "assistant",
        "content": content if content or not calls else None,
    }
    if calls:
        message["tool_calls"] = tool_calls(calls)
    body = {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}
        ],
        "usage": usage(prompt_tokens, completion_tokens),
    }
    return _dumps(body).encode()


def embeddings(model: str, vectors: Sequence[Sequence[float]], prompt_tokens: int) -> bytes:
    """An embeddings ``list`` body."""
    body = {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": list(v)} for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }
    return _dumps(body).encode()


def models(names: Sequence[str]) -> bytes:
    """A ``/models`` list body."""
    created = int(time.time())
    data = [
        {"id": n, "object": "model", "created": created, "owned_by": "atoll-local"} for n in names
    ]
    return _dumps({"object": "list", "data": data}).encode()


def error(rejected: RequestRejected) -> bytes:
    """An OpenAI error body."""
    kind = "invalid_request_error" if rejected.status < 500 else "server_error"
    return _dumps(
        {
            "error": {
                "message": rejected.message,
                "type": kind,
                "param": rejected.param,
                "code": rejected.code,
            }
        }
    ).encode()


class ChunkWriter:
    """SSE ``chat.completion.chunk`` events for one stream."""

    __slots__ = ("_head", "_text_head", "_tool_index")

    def __init__(self, model: str) -> None:
        head = (
            f'{{"id":"chatcmpl-{uuid.uuid4().hex}","object":"chat.completion.chunk",'
            f'"created":{int(time.time())},"model":{_dumps(model)},"choices":'
        )
        self._head = head
        self._text_head = f'data: {head}[{{"index":0,"delta":{{"content":'.encode()
        self._tool_index = 0

    def _event(self, choices: str, tail: str = "") -> bytes:
        return f"data: {self._head}{choices}{tail}}}\n\n".encode()

    def role(self) -> bytes:
        """The first chunk: the assistant's role."""
        return self._event(
            '[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]'
        )

    def text(self, text: str) -> bytes:
        """A content delta."""
        return (
            self._text_head
            + _dumps(text).encode()
            + b'},"logprobs":null,"finish_reason":null}]}\n\n'
        )

    def calls(self, calls: Sequence[ParsedToolCall]) -> bytes:
        """One chunk per complete tool call (id, name and all arguments at once)."""
        out: list[bytes] = []
        for entry in tool_calls(calls):
            delta = {"tool_calls": [{"index": self._tool_index, **entry}]}
            self._tool_index += 1
            out.append(
                self._event(
                    f'[{{"index":0,"delta":{_dumps(delta)},"logprobs":null,"finish_reason":null}}]'
                )
            )
        return b"".join(out)

    @property
    def called(self) -> bool:
        """A tool call was sent."""
        return self._tool_index > 0

    def finish(self, reason: str) -> bytes:
        """The chunk carrying the finish reason."""
        return self._event(
            f'[{{"index":0,"delta":{{}},"logprobs":null,"finish_reason":{_dumps(reason)}}}]'
        )

    def usage(self, prompt_tokens: int, completion_tokens: int) -> bytes:
        """The trailing usage chunk (``stream_options.include_usage``)."""
        return self._event("[]", f',"usage":{_dumps(usage(prompt_tokens, completion_tokens))}')

    def error(self, rejected: RequestRejected) -> bytes:
        """An error after the stream began: a chunk holding only ``error``, as OpenRouter sends."""
        return b"data: " + error(rejected) + b"\n\n"
