"""``OpenAIResponsesServer``: the OpenAI Responses API (``POST /v1/responses``), with state.

It checks what the real API checks about a conversation sent back to it, so a client that
loses an id fails here as it would there:

- a ``function_call_output`` must answer a ``call_id`` of a ``function_call`` in the input or
  in the ``previous_response_id`` chain (400 otherwise);
- a reasoning item sent back with ``encrypted_content`` must carry the content this server
  made for that item id, whole (400 ``invalid_encrypted_content`` otherwise: the truncated
  content of ``response.output_item.added`` fails here);
- a reasoning item sent back without it must belong to a stored response (404, as the API
  answers when items were not persisted with ``store: false``);
- a reasoning item must be followed by the item the model made after it (an assistant
  message, a function call, ...), not end the input or precede the caller's items (400);
- ``previous_response_id`` must name a stored response (400 ``previous_response_not_found``).

Responses are stored unless the request says ``store: false`` (the API's default), per
server, the most recent 1,000; ``GET /v1/responses/{id}`` returns a stored one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec
from atoll_wire import responses as wire

from . import _openai_render
from . import _responses_render as render
from ._dialect import ServerDialect
from ._exceptions import RequestError
from ._exchange import Exchange
from ._inputs import ChatInput, ToolResult
from ._registry import register_server_dialect
from ._reply import JSON, Reply
from ._responses_expect import responses_expect
from ._routes import Route
from ._script import Turn

if TYPE_CHECKING:
    from ._server import FakeLLMServer

_KEEP = 1_000


@dataclass(slots=True)
class _Stored:
    body: bytes
    names: dict[str, str]
    """Tool names by call id over the whole ``previous_response_id`` chain."""


@dataclass(slots=True)
class _Memory:
    """What one server remembers of its stored responses."""

    responses: OrderedDict[str, _Stored] = field(default_factory=OrderedDict[str, _Stored])
    items: OrderedDict[str, None] = field(default_factory=OrderedDict[str, None])

    def keep(self, rid: str, stored: _Stored, item_ids: list[str]) -> None:
        self.responses[rid] = stored
        for item_id in item_ids:
            self.items[item_id] = None
        while len(self.responses) > _KEEP:
            self.responses.popitem(last=False)
        while len(self.items) > 20 * _KEEP:
            self.items.popitem(last=False)


class OpenAIResponsesServer(ServerDialect):
    """The OpenAI Responses API as api.openai.com answers it.

    Routes: ``POST /v1/responses`` (whole or streamed) and ``GET /v1/responses/{response_id}``.
    The key goes in ``Authorization: Bearer <key>``.

    Args:
        phases: Label assistant messages with a ``phase`` (``commentary`` when the turn also
            calls tools, else ``final_answer``), as the models that use phases do.
    """

    name = "openai-responses"
    corpus_dialect = "openai-responses"
    malformed_event = render.MALFORMED

    def __init__(self, *, phases: bool = False) -> None:
        self.phases = phases
        self._key = secrets.token_bytes(16)
        self._memory: weakref.WeakKeyDictionary[FakeLLMServer, _Memory] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"OpenAIResponsesServer(phases={self.phases})"

    def routes(self) -> Sequence[Route]:
        """Create a response; retrieve a stored one."""
        return (
            Route("POST", "/responses", self.serve_chat, chat=True),
            Route("GET", "/responses/{response_id}", self.get_response),
        )

    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The key of ``Authorization: Bearer <key>``."""
        scheme, _, key = headers.get("authorization", "").partition(" ")
        return key.strip() if scheme.lower() == "bearer" else None

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        """OpenAI's 401 (never echoing the presented key)."""
        return self.error(
            401, "Incorrect API key provided. You can find your API key in your settings."
        )

    def parse_chat(self, exchange: Exchange) -> ChatInput:
        """Read the body with atoll_wire's ``ResponsesRequest`` and check what it sends back."""
        request = wire.decode_request(exchange.body)
        names = self._chain_names(exchange.server, request.previous_response_id)
        self._check_items(exchange.server, request, names)
        return parse_responses(request, exchange.body, names)

    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """A ``response`` body."""
        p = self._plan(turn, chat, exchange)
        reply = render.whole(p, turn, chat)
        self._remember(exchange, p, reply.body, chat)
        reply.headers.append(("x-request-id", f"req_atoll{exchange.number:010d}"))
        return reply

    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """``response.created`` ... ``response.completed`` (or ``incomplete``/``failed``)."""
        p = self._plan(turn, chat, exchange)
        reply = render.stream(p, turn, chat)
        self._remember(exchange, p, msgspec.json.encode(render.response(p, turn, chat)), chat)
        reply.headers.append(("x-request-id", f"req_atoll{exchange.number:010d}"))
        return reply

    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        """``{"error": {message, type, param, code}}``, as chat completions shapes it."""
        return Reply(status, JSON, _openai_render.error_body(status, message, error_type))

    def error_event(self, message: str, error_type: str | None = None) -> bytes:
        """An ``error`` event (its ``code`` is the error type; default ``server_error``)."""
        return render.error_event(message, error_type)

    def is_stream_end(self, event: bytes) -> bool:
        """``response.completed``, ``response.incomplete`` or ``response.failed``."""
        return event.startswith(
            (b"event: response.completed", b"event: response.incomplete", b"event: response.failed")
        )

    def expect(self, body: str, stream: bool, status: int) -> dict[str, object]:
        """Text, tool calls, finish reason, usage, reasoning and errors of a recorded body."""
        return responses_expect(body, stream, status)

    # ---- retrieval ---------------------------------------------------------------------------

    def get_response(self, exchange: Exchange) -> Reply:
        """``GET /v1/responses/{response_id}``: a stored response."""
        rid = exchange.params["response_id"]
        stored = self._memory_of(exchange.server).responses.get(rid)
        if stored is None:
            return self.error(404, f"Response with id '{rid}' not found.")
        return Reply(200, JSON, stored.body)

    # ---- state -------------------------------------------------------------------------------

    def seal(self, item_id: str, reasoning: str) -> str:
        """The encrypted content of a reasoning item: its id and text, signed with our key."""
        payload = msgspec.json.encode({"id": item_id, "reasoning": reasoning})
        tag = hmac.new(self._key, payload, hashlib.sha256).digest()
        return "gAAAAA" + base64.urlsafe_b64encode(payload + tag).decode()

    def _opened(self, item_id: str, content: str) -> bool:
        try:
            raw = base64.urlsafe_b64decode(content.removeprefix("gAAAAA").encode())
        except ValueError:
            return False
        if len(raw) <= 32:
            return False
        payload, tag = raw[:-32], raw[-32:]
        if not hmac.compare_digest(tag, hmac.new(self._key, payload, hashlib.sha256).digest()):
            return False
        try:
            return msgspec.json.decode(payload).get("id") == item_id
        except (msgspec.DecodeError, AttributeError):
            return False

    def _memory_of(self, server: FakeLLMServer) -> _Memory:
        memory = self._memory.get(server)
        if memory is None:
            memory = self._memory[server] = _Memory()
        return memory

    def _chain_names(self, server: FakeLLMServer, previous: str | None) -> dict[str, str]:
        if previous is None:
            return {}
        stored = self._memory_of(server).responses.get(previous)
        if stored is None:
            raise RequestError(
                400, f"Previous response with id '{previous}' not found.", "invalid_request_error"
            )
        return dict(stored.names)

    def _check_items(
        self, server: FakeLLMServer, request: wire.ResponsesRequest, names: dict[str, str]
    ) -> None:
        items = request.input if isinstance(request.input, list) else []
        calls = set(names)
        calls.update(i.call_id for i in items if isinstance(i, wire.FunctionCall))
        memory = self._memory_of(server)
        for position, item in enumerate(items):
            if isinstance(item, wire.FunctionCallOutput) and item.call_id not in calls:
                raise RequestError(
                    400,
                    f"No tool call found for function call output with call_id {item.call_id}.",
                )
            if not isinstance(item, wire.Reasoning):
                continue
            if not _followed(items, position):
                raise RequestError(
                    400,
                    f"Item '{item.id}' of type 'reasoning' was provided without its required "
                    "following item.",
                )
            if item.encrypted_content is not None:
                if not self._opened(item.id, item.encrypted_content):
                    raise RequestError(
                        400,
                        f"The encrypted content for item {item.id} could not be verified.",
                        "invalid_request_error",
                    )
            elif item.id not in memory.items:
                raise RequestError(
                    404,
                    f"Item with id '{item.id}' not found. Items are not persisted when `store` "
                    "is set to false. Try again with `store` set to true, or remove this item "
                    "from your input.",
                )

    def _plan(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> render.Plan:
        request = wire.decode_request(chat.body)
        rid = f"resp_atoll{exchange.number:010d}"
        return render.plan(turn, request, rid, exchange.created, seal=self.seal, phases=self.phases)

    def _remember(self, exchange: Exchange, p: render.Plan, body: bytes, chat: ChatInput) -> None:
        if p.request.store is False:
            return
        names = self._chain_names(exchange.server, p.request.previous_response_id)
        names.update((r.call_id, r.name) for r in chat.tool_results if r.name is not None)
        names.update((c.call_id, c.name) for c in p.calls)
        ids = [i.id for i in p.output if isinstance(i, wire.Reasoning | wire.Message) and i.id]
        self._memory_of(exchange.server).keep(p.rid, _Stored(body, names), ids)


def _followed(items: list[wire.Item], position: int) -> bool:
    """Whether the reasoning item at ``position`` has the model's next item after it."""
    following = items[position + 1] if position + 1 < len(items) else None
    if isinstance(following, wire.Message):
        return following.role == "assistant"
    return isinstance(following, wire.FunctionCall | wire.Reasoning | wire.UnknownItem)


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces: list[object] = content  # pyright: ignore[reportUnknownVariableType]
        return "".join(p.text for p in pieces if isinstance(p, wire.InputText | wire.OutputText))
    return ""


def parse_responses(
    request: wire.ResponsesRequest, body: bytes, names: dict[str, str] | None = None
) -> ChatInput:
    """The neutral view of a decoded Responses request (``body`` is its raw JSON).

    Args:
        request: The decoded request.
        body: Its raw JSON.
        names: Tool names by call id from the ``previous_response_id`` chain.
    """
    known = dict(names or {})
    tokens = len((request.instructions or "").split())
    last_user = ""
    results: list[ToolResult] = []
    answering = True  # results count after the last assistant item
    items = request.input if isinstance(request.input, list) else []
    if isinstance(request.input, str):
        last_user = request.input
        tokens += len(last_user.split())
    for item in items:
        if isinstance(item, wire.Message):
            text = _content_text(item.content)
            tokens += len(text.split())
            if item.role == "assistant":
                if answering:
                    results.clear()
                answering = False
            else:
                answering = True
                if item.role == "user":
                    last_user = text
        elif isinstance(item, wire.FunctionCall | wire.Reasoning):
            if answering:
                results.clear()
            answering = False
            if isinstance(item, wire.FunctionCall):
                known[item.call_id] = item.name
        elif isinstance(item, wire.FunctionCallOutput):
            answering = True
            text = _content_text(item.output)
            tokens += len(text.split())
            results.append(
                ToolResult(call_id=item.call_id, name=known.get(item.call_id), content=text)
            )
    return ChatInput(
        dialect="openai-responses",
        model=request.model,
        stream=bool(request.stream),
        include_usage=True,
        last_user_text=last_user,
        tool_results=tuple(results),
        tool_names=tuple(t.name for t in request.tools or () if isinstance(t, wire.FunctionTool)),
        input_tokens=tokens,
        # ``instructions`` is the system message, counted as chat completions counts it.
        message_count=(len(items) if items else int(bool(request.input)))
        + int(bool(request.instructions)),
        body=body,
    )


register_server_dialect(OpenAIResponsesServer())
