"""A toy API family written only with atoll_testing's public extension points (server side).

Its own path with a parameter, its own auth header, its own error body and newline-delimited
JSON streams. tests/testing/test_toy_dialect.py drives it over raw HTTP; the integration test
tests/integration/test_toy_dialect.py drives it through atoll_dialects' Client with a toy
client dialect registered the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
from atoll_testing import (
    ChatInput,
    Exchange,
    Fault,
    Reply,
    RequestError,
    Route,
    ServerDialect,
    ToolCall,
    ToolResult,
    Turn,
)

NDJSON = b"application/x-ndjson"


class _Result(msgspec.Struct):
    id: str
    output: str
    name: str | None = None


class _Talk(msgspec.Struct, forbid_unknown_fields=True):
    say: str = ""
    tools: list[str] = []
    results: list[_Result] = []


_TALK = msgspec.json.Decoder(_Talk)


def _line(obj: object) -> bytes:
    return msgspec.json.encode(obj) + b"\n"


class ToyDialect(ServerDialect):
    """POST /toy/v0/talk/{model} (whole) and /toy/v0/talk/{model}:stream (NDJSON lines)."""

    name = "toy"
    corpus_dialect = "toy-talk"
    malformed_event = b'{"piece": "cut\n'

    def routes(self) -> Sequence[Route]:
        return (
            Route("POST", "/toy/v0/talk/{model}", self.serve_chat, chat=True),
            Route("POST", "/toy/v0/talk/{model}:stream", self.serve_chat, chat=True),
            Route("GET", "/toy/v0/ping", self.ping),
            Route("POST", "/toy/v0/later", self.later),
        )

    def credential(self, headers: Mapping[str, str]) -> str | None:
        return headers.get("x-toy-pass")

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        return self.error(401, "show your toy token", "no_token")

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        talk = _TALK.decode(exchange.body)
        if not talk.say and not talk.results:
            raise RequestError(422, "say something", "empty_talk")
        results = tuple(
            ToolResult(call_id=r.id, name=r.name, content=r.output) for r in talk.results
        )
        return ChatInput(
            dialect=self.name,
            model=exchange.params["model"],
            stream=exchange.path.endswith(":stream"),
            last_user_text=talk.say,
            tool_results=results,
            tool_names=tuple(talk.tools),
            input_tokens=len(talk.say.split()),
            message_count=1,
            body=exchange.body,
        )

    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        body = {
            "talk_id": f"toy-{exchange.number}",
            "reply": turn.full_text(),
            "calls": [_call(c) for c in turn.tool_calls],
            "why": turn.finish_reason or ("call" if turn.tool_calls else "said"),
        }
        return Reply(200, b"application/json", msgspec.json.encode(body))

    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        events = [_line({"piece": p}) for p in turn.text_chunks()]
        events += [_line({"call": _call(c)}) for c in turn.tool_calls]
        done = _line({"done": True, "why": "call" if turn.tool_calls else "said"})
        return Reply(
            200,
            NDJSON,
            events=events,
            terminal=[done],
            error_event=self.error_event("the toy broke"),
            malformed_event=self.malformed_event,
        )

    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        oops = {"code": status, "why": message, "kind": error_type or f"toy_{status}"}
        return Reply(status, b"application/json", msgspec.json.encode({"oops": oops}))

    def error_event(self, message: str, error_type: str | None = None) -> bytes:
        return _line({"oops": {"why": message, "kind": error_type or "toy_stream"}})

    def ratelimit_headers(self, fault: Fault) -> list[tuple[str, str]]:
        return [(f"toy-quota-{kind}-{field}", value) for kind, field, value in fault.ratelimit]

    def is_stream_end(self, event: bytes) -> bool:
        return b'"done"' in event

    def ping(self, exchange: Exchange) -> Reply:
        return Reply(200, b"text/plain", b"pong")

    async def later(self, exchange: Exchange) -> Reply:
        """An async handler: its reply is awaited on the server's loop."""
        if exchange.query_params.get("fail") == "yes":
            raise RequestError(409, "not now", "toy_busy")
        return Reply(200, b"text/plain", exchange.body[::-1])


def _call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id or f"toycall-{call.name}",
        "name": call.name,
        "args": call.raw_arguments(),
    }
