"""Typed usage of the dialect API, as a user writes it (checked by pyright and run by pytest)."""

from __future__ import annotations

from typing import Any

import pytest
from atoll_dialects import (
    AnthropicMessagesDialect,
    APIError,
    ChatStream,
    Client,
    Dialect,
    ModelInfo,
    OpenAIChatDialect,
    ParsedResponse,
    RateLimitError,
    StreamDecoder,
    SyncClient,
    Target,
    TokenCount,
)
from atoll_registry import Registry
from atoll_testing import FakeLLMServer, Script, ToolCall, Turn
from atoll_tools import OutputSpec
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    HttpRequest,
    Message,
    SSEDecoder,
    StreamAccumulator,
    StreamEvent,
)
from pydantic import BaseModel


def pick(dialect_name: str) -> Dialect:
    dialects: dict[str, Dialect] = {
        OpenAIChatDialect.name: OpenAIChatDialect(),
        AnthropicMessagesDialect.name: AnthropicMessagesDialect(),
    }
    return dialects[dialect_name]


def build_for(name: str, prompt: str) -> HttpRequest:
    registry = Registry.default()
    model = registry.resolve(name)
    provider = registry.provider(model.provider)
    request = ChatRequest(model=model.request_name, messages=[Message.user(prompt)], stream=True)
    assert provider.base_url is not None
    return pick(provider.dialect).build(
        request, Target.of(provider, model, api_key="key", base_url=provider.base_url)
    )


def fold(dialect: Dialect, body: bytes) -> ChatResponse:
    decoder: StreamDecoder = dialect.stream_decoder()
    sse = SSEDecoder()
    acc = StreamAccumulator()
    events: list[StreamEvent] = []
    for event in sse.feed(body):
        events.extend(decoder.feed(event))
    events.extend(decoder.finish())
    for event in events:
        acc.add(event)
    return acc.response()


def wait_hint(dialect: Dialect, status: int, headers: dict[str, str], body: bytes) -> float | None:
    error: APIError = dialect.parse_error(status, headers, body, Target.of(name="m"))
    return error.retry_after if isinstance(error, RateLimitError) else None


def test_typed_usage() -> None:
    http = build_for("anthropic/claude-sonnet-4-5", "Hi")
    assert http.url.endswith("/messages")
    body = b'data: {"id":"x","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'
    response = fold(pick("openai-chat"), body)
    assert (response.message.text, response.incomplete) == ("Hi", False)
    assert wait_hint(OpenAIChatDialect(), 429, {"retry-after": "2"}, b"{}") == 2.0


# ---------------------------------------------------------------- the Client's typed results


class Point(BaseModel):
    x: int
    y: int = 0


async def point_of(client: Client, prompt: str) -> Point | None:
    reply: ParsedResponse[Point] = await client.chat(prompt, output=Point)
    return reply.parsed


async def words_of(client: Client, prompt: str) -> list[str]:
    spec: OutputSpec[list[str]] = OutputSpec.of(list[str])
    reply = await client.chat(prompt, output=spec, output_retries=0)
    return reply.parsed or []


def streamed_point(client: SyncClient, prompt: str) -> tuple[object, Point | None]:
    with client.stream(prompt, output=Point, output_mode="native") as stream:
        partial = [stream.partial for _ in stream]
    return partial[-1] if partial else None, stream.parsed


def from_a_dict(client: Client, options: dict[str, Any]) -> ChatStream:
    # Options held in a dict may carry output=: a checker still sees a ChatStream.
    return client.stream("x", **options)


async def counted(client: Client) -> tuple[int, bool, ModelInfo | None, str]:
    count: TokenCount = await client.count_tokens("a b c")
    models = await client.models()
    completion = await client.complete("def f(", suffix=")")
    return count.input_tokens, count.exact, models[0] if models else None, completion.text


@pytest.mark.anyio
async def test_typed_client_results() -> None:
    async with FakeLLMServer() as server:
        server.models["m"] = Script(
            [
                Turn(tool_calls=[ToolCall(name="final_result", arguments={"x": 1})]),
                Turn(tool_calls=[ToolCall(name="final_result", arguments={"result": ["a"]})]),
                "x)",
            ]
        )
        async with Client("m", base_url=server.base_url) as client:
            assert await point_of(client, "p") == Point(x=1)
            assert await words_of(client, "w") == ["a"]
            tokens, exact, first, text = await counted(client)
    assert (tokens > 0, exact, first is not None, text) == (True, False, True, "x)")
