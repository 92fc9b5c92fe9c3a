"""Typed usage of the dialect API, as a user writes it (checked by pyright and run by pytest)."""

from __future__ import annotations

from atoll_dialects import (
    AnthropicMessagesDialect,
    APIError,
    Dialect,
    OpenAIChatDialect,
    RateLimitError,
    StreamDecoder,
    Target,
)
from atoll_registry import Registry
from atoll_wire import (
    ChatRequest,
    ChatResponse,
    HttpRequest,
    Message,
    SSEDecoder,
    StreamAccumulator,
    StreamEvent,
)


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
