"""The Gemini dialect through the Client against the local server's scripted Gemini model.

Tool turns with thought signatures round-trip (the server checks them on the next turn),
structured output, streams in SSE and in the JSON-array form, a 429 whose RetryInfo delay is
honoured, embeddings, a blocked prompt as a typed error, and Azure OpenAI's URL forms.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from atoll_dialects import (
    APIError,
    AzureEntraAuth,
    BadRequestError,
    Client,
    ContentFilterError,
    GeminiDialect,
    RateLimitError,
    RetryPolicy,
    Target,
    UnsupportedRequestError,
)
from atoll_testing import (
    AzureOpenAIServer,
    FakeLLMServer,
    GeminiServer,
    Script,
    ToolCall,
    Turn,
    registered_server_dialects,
)
from atoll_wire import (
    ChatRequest,
    Message,
    OutputSchema,
    StreamAccumulator,
    StreamEvent,
    TextPart,
    ToolCallPart,
    ToolCallStart,
    ToolResultPart,
    ToolSpec,
)
from atoll_wire import gemini as wire

TOOLS = [
    ToolSpec(
        name="get_weather",
        parameters={"type": "object", "properties": {"city": {"type": "string"}}},
    ),
    ToolSpec(
        name="get_time", parameters={"type": "object", "properties": {"tz": {"type": "string"}}}
    ),
]
AZURE = AzureOpenAIServer()


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    dialects = [*registered_server_dialects(), GeminiServer(retry_delay=0.2), AZURE]
    with FakeLLMServer(dialects=dialects, api_key="k").run_in_thread() as srv:
        yield srv


def _client(llm: FakeLLMServer, model: str = "gemini/scripted", **options: object) -> Client:
    return Client(
        model,
        base_url=llm.url + "/v1beta",
        api_key="k",
        retry=options.pop("retry", RetryPolicy(attempts=1)),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def _parallel_then_answer() -> Script:
    return Script(
        [
            Turn(
                thinking="Two lookups.",
                tool_calls=[
                    ToolCall(name="get_weather", arguments={"city": "Paris"}),
                    ToolCall(name="get_time", arguments={"tz": "CET"}),
                ],
            ),
            Turn(text="Sunny, and it is noon."),
        ]
    )


def _results(calls: list[ToolCallPart]) -> Message:
    return Message(
        role="tool",
        parts=[ToolResultPart.from_text(c.id, f"result of {c.name}") for c in calls],
    )


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
async def test_parallel_calls_round_trip_with_their_signatures(
    llm: FakeLLMServer, stream: bool
) -> None:
    llm.models["scripted"] = _parallel_then_answer()
    messages = [Message.user("Weather and time in Paris?")]
    async with _client(llm) as client:
        if stream:
            async with client.stream(messages, tools=TOOLS) as s:
                events = [e async for e in s]
            first = s.response
            assert any(isinstance(e, ToolCallStart) for e in events)
        else:
            first = await client.chat(messages, tools=TOOLS)
        calls = first.message.tool_calls
        assert [c.name for c in calls] == ["get_weather", "get_time"]
        assert calls[0].signature and calls[1].signature is None  # only the first is signed
        assert len({c.id for c in calls}) == 2  # made up, stable, distinct
        assert first.finish_reason == "tool_calls" and first.raw_finish_reason == "STOP"
        assert first.message.thinking == "Two lookups."
        messages += [first.message, _results(calls)]
        second = await client.chat(messages, tools=TOOLS)
    assert second.text == "Sunny, and it is noon."
    sent = json.loads(llm.requests[-1].body)
    model_turn, results = sent["contents"][1], sent["contents"][2]
    call_parts = [p for p in model_turn["parts"] if "functionCall" in p]
    assert call_parts[0]["thoughtSignature"] == calls[0].signature
    assert "thoughtSignature" not in call_parts[1]
    assert all("id" not in p["functionCall"] for p in call_parts)  # made-up ids stay home
    assert [p["functionResponse"]["name"] for p in results["parts"]] == ["get_weather", "get_time"]
    assert results["parts"][0]["functionResponse"]["response"] == {
        "output": "result of get_weather"
    }


@pytest.mark.anyio
async def test_a_dropped_or_moved_signature_is_refused_by_the_model(llm: FakeLLMServer) -> None:
    llm.models["scripted"] = _parallel_then_answer()
    async with _client(llm) as client:
        first = await client.chat("Weather?", tools=TOOLS)
        calls = first.message.tool_calls
        dropped = Message(
            role="assistant",
            parts=[ToolCallPart(id=c.id, name=c.name, arguments=c.arguments) for c in calls],
        )
        with pytest.raises(BadRequestError, match="missing a thought_signature") as caught:
            await client.chat([Message.user("Weather?"), dropped, _results(calls)], tools=TOOLS)
        assert caught.value.error_type == "INVALID_ARGUMENT"
        moved = Message(
            role="assistant",
            parts=[
                ToolCallPart(id=calls[0].id, name=calls[0].name, arguments=calls[0].arguments),
                ToolCallPart(
                    id=calls[1].id,
                    name=calls[1].name,
                    arguments=calls[1].arguments,
                    signature=calls[0].signature,
                ),
            ],
        )
        with pytest.raises(BadRequestError, match="Corrupted thought signature"):
            await client.chat([Message.user("Weather?"), moved, _results(calls)], tools=TOOLS)


@pytest.mark.anyio
async def test_text_turn_signature_goes_back_on_its_part(llm: FakeLLMServer) -> None:
    llm.models["scripted"] = Script([Turn(text="Hello there."), Turn(text="Again.")])
    async with _client(llm) as client:
        async with client.stream("hi") as s:
            async for _ in s:
                pass
        reply = s.response.message
        signed = [p for p in reply.parts if isinstance(p, TextPart) and p.signature]
        assert len(signed) == 1 and signed[0].text == ""  # the last chunk's empty signed part
        assert reply.text == "Hello there."
        await client.chat([Message.user("hi"), reply, Message.user("again")])
    parts = json.loads(llm.requests[-1].body)["contents"][1]["parts"]
    assert parts[-1] == {"text": "", "thoughtSignature": signed[0].signature}


@pytest.mark.anyio
async def test_structured_output(llm: FakeLLMServer) -> None:
    llm.models["scripted"] = Script([Turn(text='{"city": "Paris"}')])
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    async with _client(llm) as client:
        reply = await client.chat("where?", output_schema=OutputSchema(name="place", schema=schema))
    assert json.loads(reply.text) == {"city": "Paris"}
    config = json.loads(llm.requests[-1].body)["generationConfig"]
    assert config == {"responseMimeType": "application/json", "responseJsonSchema": schema}


@pytest.mark.anyio
async def test_rate_limit_retry_info_is_honoured(llm: FakeLLMServer) -> None:
    llm.models["scripted"] = Script([Turn(text="ok")], repeat_last=True)
    llm.inject("status=429", times=1)
    async with _client(llm, retry=RetryPolicy(attempts=2, initial_backoff=0.0)) as client:
        started = time.monotonic()
        reply = await client.chat("hi")
        waited = time.monotonic() - started
    assert reply.text == "ok" and waited >= 0.2
    llm.inject("status=429", times=1)
    async with _client(llm) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.chat("hi")
    assert caught.value.retry_after == 0.2 and caught.value.error_type == "RESOURCE_EXHAUSTED"


@pytest.mark.anyio
async def test_mid_stream_error_is_typed(llm: FakeLLMServer) -> None:
    llm.models["scripted"] = Script([Turn(text="a b c d e", fault="error-event=2")])
    async with _client(llm) as client:
        with pytest.raises(Exception) as caught:
            async with client.stream("hi") as s:
                async for _ in s:
                    pass
    error = caught.value
    assert getattr(error, "error_type", None) == "INTERNAL"
    assert error.partial is not None and error.partial.text.startswith("a")  # type: ignore[attr-defined]


def test_json_array_stream_without_alt_sse(llm: FakeLLMServer) -> None:
    llm.models["scripted"] = Script([Turn(text="one two three")])
    url = llm.url + "/v1beta/models/scripted:streamGenerateContent"
    decoder = wire.JSONArrayDecoder()
    neutral = GeminiDialect().stream_decoder()
    events: list[StreamEvent] = []
    items: list[bytes] = []
    with httpx.stream(
        "POST",
        url,
        json={"contents": [{"role": "user", "parts": [{"text": "x"}]}]},
        headers={"x-goog-api-key": "k"},
    ) as response:
        assert response.headers["content-type"].startswith("application/json")
        for chunk in response.iter_bytes(3):
            items.extend(decoder.feed(chunk))
            events.extend(neutral.feed_bytes(chunk))
    events.extend(neutral.finish_bytes())
    accumulator = StreamAccumulator()
    for event in events:
        accumulator.add(event)
    folded = accumulator.response()
    assert folded.text == "one two three" and not folded.incomplete
    assert folded.raw_finish_reason == "STOP" and folded.usage.input_tokens == 1
    chunks = [wire.decode_response(i) for i in items]
    text = "".join(
        p.text or "" for c in chunks for p in (c.candidates[0].content or wire.Content()).parts
    )
    assert text == "one two three"
    assert chunks[-1].candidates[0].finish_reason == "STOP" and chunks[-1].usage_metadata


@pytest.mark.anyio
async def test_embeddings_one_and_many(llm: FakeLLMServer) -> None:
    async with _client(llm, model="gemini/text-embedder") as client:
        one = await client.embed("hello", dimensions=4)
        many = await client.embed(["a", "b", "c"], dimensions=4)
    assert len(one.vectors) == 1 and len(one.vectors[0]) == 4
    assert len(many.vectors) == 3
    assert llm.requests[-1].path.endswith(":batchEmbedContents")
    assert llm.requests[-2].path.endswith(":embedContent")


def test_blocked_prompt_is_a_typed_error() -> None:
    body = (
        b'{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},'
        b' "usageMetadata": {"promptTokenCount": 5, "totalTokenCount": 5}}'
    )
    with pytest.raises(ContentFilterError) as caught:
        GeminiDialect().parse(body)
    assert caught.value.reason == "PROHIBITED_CONTENT" and caught.value.status is None
    decoder = GeminiDialect().stream_decoder()
    from atoll_wire import ServerSentEvent, StreamError

    [_start, blocked, _usage] = decoder.feed(ServerSentEvent(data=body.decode()))
    assert isinstance(blocked, StreamError) and blocked.type == "content_filter"


def test_thinking_budget_and_level_together_are_refused() -> None:
    request = ChatRequest(
        model="m",
        messages=[Message.user("hi")],
        temperature=0.5,
        extra={
            "generationConfig": {"thinkingConfig": {"thinkingBudget": 10, "thinkingLevel": "LOW"}}
        },
    )
    with pytest.raises(UnsupportedRequestError, match="thinkingBudget and thinkingLevel"):
        GeminiDialect().build(request, Target.of(dialect="gemini"))
    ok = msgspec_body(request.extra["generationConfig"]["thinkingConfig"] | {})
    assert ok


def msgspec_body(thinking: dict[str, object]) -> dict[str, object]:
    config = {"thinkingConfig": {"thinkingBudget": 10, "includeThoughts": True}}
    request = ChatRequest(
        model="m",
        messages=[Message.user("hi")],
        temperature=0.5,
        extra={"generationConfig": config},
    )
    body = json.loads(GeminiDialect().build(request, Target.of(dialect="gemini")).body)
    assert body["generationConfig"] == {"temperature": 0.5, **config}
    return body


def test_azure_content_filter_is_typed() -> None:
    body = json.dumps(
        {
            "error": {
                "message": "filtered",
                "type": None,
                "param": "prompt",
                "code": "content_filter",
                "status": 400,
            }
        }
    ).encode()
    error = Target.of(dialect="openai-chat").dialect.parse_error(400, {}, body, Target.of())
    assert isinstance(error, ContentFilterError) and error.reason == "content_filter"


@pytest.mark.anyio
async def test_azure_deployment_and_v1_forms(llm: FakeLLMServer) -> None:
    llm.models["my-4o"] = Script([Turn(text="hello from azure")], repeat_last=True)
    base = llm.url + "/openai"
    async with Client(
        "azure/my-4o", base_url=base, api_key="k", settings={"api_version": "2024-10-21"}
    ) as client:
        deployed = await client.chat("hi")
    assert llm.requests[-1].path == "/openai/deployments/my-4o/chat/completions"
    assert llm.requests[-1].query == "api-version=2024-10-21"
    async with Client(
        "azure/my-4o", base_url=base, api_key="k", settings={"api_version": "v1"}
    ) as client:
        v1 = await client.chat("hi")
    assert llm.requests[-1].path == "/openai/v1/chat/completions" and llm.requests[-1].query == ""
    entra = AzureEntraAuth(lambda: "k")
    async with Client(
        "azure/my-4o", base_url=base, auth=entra, settings={"api_version": "2024-10-21"}
    ) as client:
        by_token = await client.chat("hi")
    assert deployed.text == v1.text == by_token.text == "hello from azure"
    assert entra.refreshes == 1
    with pytest.raises(UnsupportedRequestError, match="OPENAI_API_VERSION"):
        async with Client(
            "azure/my-4o", base_url=base, api_key="k", settings={"api_version": ""}
        ) as client:
            await client.chat("hi")


@pytest.mark.anyio
async def test_calls_from_another_provider_reach_gemini_3(llm: FakeLLMServer) -> None:
    """A history whose calls came from elsewhere: Gemini 3 models send Google's placeholder."""
    foreign = Message(
        role="assistant",
        parts=[ToolCallPart(id="call_abc", name="get_weather", arguments={"city": "Oslo"})],
    )
    history = [
        Message.user("Weather in Oslo?"),
        foreign,
        Message(role="tool", parts=[ToolResultPart.from_text("call_abc", "rain")]),
    ]
    for model in ("gemini-3-pro-preview", "gemini-2.5-flash"):
        llm.models[model] = Script([Turn(text="It rains.")], repeat_last=True)
    async with _client(llm, model="gemini/gemini-3-pro-preview") as client:
        reply = await client.chat(history, tools=TOOLS)
    assert reply.text == "It rains."
    sent = json.loads(llm.requests[-1].body)["contents"][1]["parts"][0]
    assert sent["thoughtSignature"] == "skip_thought_signature_validator"
    assert sent["functionCall"]["id"] == "call_abc"
    async with _client(llm, model="gemini/gemini-2.5-flash") as client:
        with pytest.raises(BadRequestError, match="missing a thought_signature"):
            await client.chat(history, tools=TOOLS)  # this server is as strict as Gemini 3


def test_vertex_errors_in_a_list_and_retry_info() -> None:
    body = json.dumps(
        [
            {
                "error": {
                    "code": 429,
                    "message": "Resource exhausted.",
                    "status": "RESOURCE_EXHAUSTED",
                    "details": [
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
                    ],
                }
            }
        ]
    ).encode()
    target = Target.of(dialect="gemini", name="m")
    error = GeminiDialect().parse_error(429, {}, body, target)
    assert isinstance(error, RateLimitError) and error.retry_after == 7.0
    assert error.message == "Resource exhausted." and error.headers["retry-after"] == "7"
    told = GeminiDialect().parse_error(429, {"Retry-After": "2"}, body, target)
    assert told.headers["retry-after"] == "2"  # the server's own header wins
    garbage = GeminiDialect().parse_error(503, {}, b"<html>oops</html>", target)
    assert garbage.status == 503 and "oops" in garbage.message


def test_count_tokens_endpoint(llm: FakeLLMServer) -> None:
    from atoll_curl import SyncCurlTransport

    dialect = GeminiDialect()
    target = Target.of(dialect="gemini", name="scripted", base_url=llm.url + "/v1beta")
    request = ChatRequest(
        model="scripted",
        messages=[Message.system("be brief"), Message.user("one two three")],
        tools=TOOLS,
    )
    http = dialect.build_count_tokens(request, target)
    assert http.url.endswith("/v1beta/models/scripted:countTokens")
    sent = json.loads(http.body)["generateContentRequest"]
    assert sent["model"] == "models/scripted" and sent["systemInstruction"]
    http.headers["x-goog-api-key"] = "k"
    with SyncCurlTransport() as transport, transport.send(http) as response:
        assert response.status == 200
        assert dialect.parse_count_tokens(response.read(), target) == 5


@pytest.mark.anyio
async def test_azure_completions_go_to_the_deployment_and_model_lists_to_the_resource(
    llm: FakeLLMServer,
) -> None:
    llm.models["my-instruct"] = Script([Turn(text=" done")], repeat_last=True)
    base = llm.url + "/openai"
    settings = {"api_version": "2024-10-21"}
    async with Client("azure/my-instruct", base_url=base, api_key="k", settings=settings) as c:
        try:
            await c.complete("hi")
        except APIError:
            pass  # where it went is the point, whatever the local server makes of it
        sent = llm.requests[-1]
        assert (sent.path, sent.query) == (
            "/openai/deployments/my-instruct/completions",
            "api-version=2024-10-21",
        )
        try:
            await c.models()
        except APIError:
            pass
        sent = llm.requests[-1]
        assert (sent.path, sent.query) == ("/openai/models", "api-version=2024-10-21")
