"""A new API family end to end through public extension points only, touching no library module.

The client side (a ``Dialect`` with its own URL, auth scheme, error body and stream framing)
is registered with ``register_dialect`` / ``register_auth``; the server side is a
``ServerDialect`` served by the local server's route table (tests/testing/_toy_server.py); the
provider and model are registry data. Chat, stream, a tool call and typed errors then work
through the unchanged Client, retries and all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any, ClassVar

import msgspec
import pytest
from atoll_dialects import Auth as AuthBase
from atoll_dialects import (
    AuthContext,
    AuthenticationError,
    Client,
    Dialect,
    ErrorFields,
    HeaderKeyAuth,
    RateLimitError,
    StreamDecoder,
    Target,
    error_for,
    register_auth,
    register_dialect,
    unregister_auth,
    unregister_dialect,
)
from atoll_registry import ModelSpec, ProviderSpec, Registry
from atoll_testing import FakeLLMServer, Rule, Script, ToolCall, Turn
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    HttpRequest,
    Message,
    MessageEnd,
    MessageStart,
    ServerSentEvent,
    StreamEvent,
    TextDelta,
    TextPart,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallPart,
    ToolCallStart,
    ToolResultPart,
    ToolSpec,
    Usage,
    parse_tool_arguments,
)

from tests.testing._toy_server import ToyDialect as ToyServer

pytestmark = pytest.mark.anyio

_decode = msgspec.json.Decoder()


class ToyStreamDecoder(StreamDecoder):
    """Newline-delimited JSON (not SSE): the dialect owns its framing."""

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False
        self._done = False
        self._index = 0

    @property
    def done(self) -> bool:
        return self._done

    def feed(self, event: ServerSentEvent) -> list[StreamEvent]:
        raise AssertionError("the toy stream is not SSE")

    def finish(self) -> list[StreamEvent]:
        return []

    def feed_bytes(self, chunk: bytes) -> list[StreamEvent]:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        out: list[StreamEvent] = []
        for line in lines:
            if line.strip():
                out.extend(self._line(_decode.decode(line)))
        return out

    def finish_bytes(self) -> list[StreamEvent]:
        return self.feed_bytes(b"\n")

    def _line(self, data: dict[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            out.append(MessageStart(id=None, model=None))
        if "piece" in data:
            out.append(TextDelta(index=0, text=data["piece"]))
        elif "call" in data:
            call = data["call"]
            self._index += 1
            out += [
                ToolCallStart(index=self._index, id=call["id"], name=call["name"]),
                ToolCallDelta(index=self._index, arguments=call["args"]),
                ToolCallEnd(index=self._index),
            ]
        elif "done" in data:
            self._done = True
            reason = "tool_calls" if data["why"] == "call" else "stop"
            out.append(MessageEnd(finish_reason=reason, raw_finish_reason=data["why"]))
        return out


def _text(part: ToolResultPart) -> str:
    return "".join(c.text for c in part.content if isinstance(c, TextPart))


class ToyClientDialect(Dialect):
    name: ClassVar[str] = "toy"
    auth: ClassVar[str] = "toy-pass"

    def build(self, request: ChatRequest, target: Target) -> HttpRequest:
        results = [
            {"id": p.call_id, "name": p.name, "output": _text(p)}
            for m in request.messages
            for p in m.parts
            if isinstance(p, ToolResultPart)
        ]
        users = [m.text for m in request.messages if m.role == "user" and m.text]
        body = {"say": users[-1] if users else "", "tools": [t.name for t in request.tools]}
        if results:
            body["results"] = results
        suffix = ":stream" if request.stream else ""
        return HttpRequest(
            "POST",
            f"{target.base_url}/toy/v0/talk/{target.request_model}{suffix}",
            {"content-type": "application/json"},
            msgspec.json.encode(body),
        )

    def parse(
        self, body: bytes, target: Target | None = None, request: ChatRequest | None = None
    ) -> ChatResponse:
        data = _decode.decode(body)
        parts: list[Any] = [TextPart(text=data["reply"])] if data["reply"] else []
        for call in data["calls"]:
            arguments, error = parse_tool_arguments(call["args"])
            parts.append(
                ToolCallPart(
                    id=call["id"],
                    name=call["name"],
                    arguments=arguments,
                    raw_arguments=call["args"],
                    arguments_error=error,
                )
            )
        return ChatResponse(
            id=data["talk_id"],
            model=None,
            message=Message(role="assistant", parts=parts),
            finish_reason="tool_calls" if data["why"] == "call" else "stop",
            raw_finish_reason=data["why"],
            usage=Usage(),
        )

    def stream_decoder(
        self, target: Target | None = None, request: ChatRequest | None = None
    ) -> StreamDecoder:
        return ToyStreamDecoder()

    def parse_error(self, status: int, headers: Any, body: bytes, target: Target) -> Any:
        oops = _decode.decode(body).get("oops", {}) if body.startswith(b"{") else {}
        fields = ErrorFields(message=oops.get("why"), error_type=oops.get("kind"))
        return error_for(
            status, headers, body, fields, provider=target.provider.name, model=target.request_model
        )


def _toy_auth(context: AuthContext) -> AuthBase:
    return HeaderKeyAuth("x-toy-pass", context.require_key() or "")


WEATHER = ToolCall(name="get_weather", arguments={"city": "Paris"}, id="tc1")


@pytest.fixture(scope="module")
def toy_server() -> Iterator[FakeLLMServer]:
    agent = Script(
        [Turn(tool_calls=[WEATHER])],
        rules=[Rule(Turn(text="sunny in Paris"), tool_result_for="get_weather")],
        repeat_last=True,
    )
    server = FakeLLMServer(models={"agent": agent}, api_key="toy-secret", dialects=[ToyServer()])
    with server.run_in_thread() as srv:
        yield srv


@pytest.fixture(scope="module")
def registry(toy_server: FakeLLMServer) -> Iterator[Registry]:
    register_dialect(ToyClientDialect())
    register_auth("toy-pass", _toy_auth)
    registry = Registry.load()
    registry.register_provider(
        ProviderSpec(
            name="toyco",
            dialect="toy",
            source="tests/integration/test_toy_dialect.py",
            as_of=date(2026, 12, 6),
            base_url=toy_server.url,
            api_key_env="TOYCO_KEY",
        )
    )
    registry.register(ModelSpec(id="agent", provider="toyco"))
    registry.register(ModelSpec(id="echo", provider="toyco"))
    yield registry
    unregister_auth("toy-pass")
    unregister_dialect("toy")


@pytest.fixture
async def client(registry: Registry) -> AsyncIterator[Client]:
    async with Client("toyco/echo", registry=registry, api_key="toy-secret") as client:
        yield client


async def test_chat_through_the_client(client: Client, toy_server: FakeLLMServer) -> None:
    reply = await client.chat("hello toy")
    assert reply.text == "hello toy"
    assert reply.served_by == "toyco/echo"
    assert toy_server.requests[-1].path == "/toy/v0/talk/echo"


async def test_stream_in_its_own_framing(client: Client) -> None:
    async with client.stream("one two three") as stream:
        texts = [e.text async for e in stream if isinstance(e, TextDelta)]
    assert "".join(texts) == "one two three"
    assert stream.response.finish_reason == "stop"
    assert not stream.response.incomplete


async def test_a_tool_call_round_trip(registry: Registry) -> None:
    tool = ToolSpec(name="get_weather", parameters={"type": "object"})
    async with Client("toyco/agent", registry=registry, api_key="toy-secret") as client:
        first = await client.chat("weather?", tools=[tool])
        (call,) = first.message.tool_calls
        assert (call.name, call.arguments) == ("get_weather", {"city": "Paris"})
        result = ToolResultPart.from_text(call.id, "18C, clear", name=call.name)
        second = await client.chat(
            [Message.user("weather?"), first.message, Message(role="tool", parts=[result])],
            tools=[tool],
        )
    assert second.text == "sunny in Paris"


async def test_errors_in_its_shape_are_typed_and_retried(client: Client) -> None:
    with pytest.raises(RateLimitError) as info:
        await client.chat("x", extra_headers={"x-atoll-fault": "status=429"}, timeout=5)
    assert len(info.value.__notes__) == 1, "the attempts are noted"
    assert client.targets[0].dialect.name == "toy"


async def test_its_auth_scheme_sends_its_header(registry: Registry) -> None:
    async with Client("toyco/echo", registry=registry, api_key="wrong") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.chat("hi")
    assert info.value.message == "show your toy token"
    assert "wrong" not in repr(info.value.headers)
