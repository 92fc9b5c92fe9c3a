"""The Client on the openai-responses dialect against the local server, end to end.

The server checks what OpenAI checks about a conversation sent back (encrypted reasoning made
for that item, whole; call ids that answer a call; stored items and responses), so these
tests fail the way a real provider would if an id or a reasoning item were lost.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from atoll_dialects import (
    BadRequestError,
    Client,
    NotFoundError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    StreamInterrupted,
    SyncClient,
)
from atoll_testing import (
    ChatInput,
    FakeLLMServer,
    OpenAIResponsesServer,
    ToolCall,
    Turn,
    registered_server_dialects,
)
from atoll_wire import (
    ChatResponse,
    Message,
    RedactedThinkingPart,
    StreamError,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallStart,
    ToolResultPart,
    ToolSpec,
)

pytestmark = pytest.mark.anyio

WEATHER = ToolSpec(
    name="weather",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)
FAST = RetryPolicy(attempts=3, initial_backoff=0.0, max_backoff=0.0)


def agent(request: ChatInput) -> Turn:
    if request.tool_results:
        joined = ", ".join(f"{r.name}={r.content}" for r in request.tool_results)
        return Turn(thinking="I have what I need.", text=f"Done: {joined}")
    return Turn(
        thinking="The user wants the weather; call the tool.",
        text="Let me check.",
        tool_calls=[
            ToolCall(name="weather", arguments={"city": "Paris"}),
            ToolCall(name="weather", arguments={"city": "Lyon"}),
        ],
        reasoning_tokens=9,
    )


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(models={"agent": agent}) as srv:
        yield srv


def _client(server: FakeLLMServer, model: str = "agent", **options: Any) -> Client:
    return Client(
        model,
        base_url=server.base_url,
        dialect="openai-responses",
        api_key="sk-test",
        **options,
    )


async def _call(
    client: Client, messages: list[Message], streamed: bool, **options: Any
) -> ChatResponse:
    if not streamed:
        return await client.chat(messages, **options)
    async with client.stream(messages, **options) as stream:
        async for _ in stream:
            pass
    return stream.response


def _results(reply: ChatResponse) -> Message:
    return Message(
        role="tool",
        parts=[
            ToolResultPart.from_text(c.id, f"sunny in {c.arguments['city']}")
            for c in reply.message.tool_calls
        ],
    )


@pytest.mark.parametrize("streamed", [False, True], ids=["chat", "stream"])
async def test_stateless_tool_use_with_reasoning_round_trips(
    server: FakeLLMServer, streamed: bool
) -> None:
    async with _client(server) as client:
        messages = [Message.system("Be brief."), Message.user("Weather in Paris and Lyon?")]
        first = await _call(client, messages, streamed, tools=[WEATHER])
        assert first.finish_reason == "tool_calls"
        encrypted = [p for p in first.message.parts if isinstance(p, RedactedThinkingPart)]
        assert len(encrypted) == 1 and encrypted[0].id and encrypted[0].data.startswith("gAAAAA")
        calls = first.message.tool_calls
        assert [c.arguments for c in calls] == [{"city": "Paris"}, {"city": "Lyon"}]
        assert all(
            c.id.startswith("call_") and c.item_id and c.item_id.startswith("fc_") for c in calls
        )
        assert first.usage.reasoning_tokens == 9
        messages += [first.message, _results(first)]
        second = await _call(client, messages, streamed, tools=[WEATHER])
    assert second.text == "Done: weather=sunny in Paris, weather=sunny in Lyon"
    assert second.finish_reason == "stop"
    sent = server.requests[-1].json()
    assert sent["store"] is False and sent["include"] == ["reasoning.encrypted_content"]
    assert sent["instructions"] == "Be brief."
    kinds = [item["type"] for item in sent["input"]]
    assert kinds == [
        "message",
        "reasoning",
        "message",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]
    reasoning = sent["input"][1]
    assert reasoning["encrypted_content"] == encrypted[0].data
    assert [i["id"] for i in sent["input"][3:5]] == [c.item_id for c in calls]
    assert [i["call_id"] for i in sent["input"][5:]] == [c.id for c in calls]


async def test_stream_events_carry_reasoning_summaries_and_calls(server: FakeLLMServer) -> None:
    async with _client(server) as client:
        thinking: list[str] = []
        starts: list[ToolCallStart] = []
        async with client.stream(
            "Weather?", tools=[WEATHER], extra={"reasoning": {"effort": "low", "summary": "auto"}}
        ) as stream:
            async for event in stream:
                if isinstance(event, ThinkingDelta):
                    thinking.append(event.text)
                elif isinstance(event, ToolCallStart):
                    starts.append(event)
    assert "".join(thinking) == "The user wants the weather; call the tool."
    assert stream.response.message.thinking == "The user wants the weather; call the tool."
    assert [s.name for s in starts] == ["weather", "weather"]
    assert all(s.item_id for s in starts)
    sent = server.requests[-1].json()
    assert sent["reasoning"] == {"effort": "low", "summary": "auto"}


async def test_reasoning_from_output_item_added_is_refused_by_the_server(
    server: FakeLLMServer,
) -> None:
    """Why the decoder takes encrypted content from ``done``: ``added`` may hold a prefix."""
    async with _client(server) as client:
        first = await client.chat("Weather?", tools=[WEATHER])
        (encrypted,) = [p for p in first.message.parts if isinstance(p, RedactedThinkingPart)]
        cut = RedactedThinkingPart(data=encrypted.data[: len(encrypted.data) // 2], id=encrypted.id)
        parts = [cut if p is encrypted else p for p in first.message.parts]
        tampered = Message(role="assistant", parts=parts)
        with pytest.raises(BadRequestError, match="could not be verified"):
            await client.chat([Message.user("Weather?"), tampered, _results(first)])


async def test_a_result_must_answer_a_call_id(server: FakeLLMServer) -> None:
    async with _client(server) as client:
        first = await client.chat("Weather?", tools=[WEATHER])
        wrong = Message(
            role="tool",
            parts=[ToolResultPart.from_text(first.message.tool_calls[0].item_id or "", "x")],
        )
        with pytest.raises(BadRequestError, match="No tool call found"):
            await client.chat([Message.user("Weather?"), first.message, wrong])


async def test_stored_responses_continue_by_previous_response_id(server: FakeLLMServer) -> None:
    async with _client(server) as client:
        first = await client.chat("Weather?", tools=[WEATHER], extra={"store": True})
        assert not any(isinstance(p, RedactedThinkingPart) for p in first.message.parts)
        (stored,) = [p for p in first.message.parts if isinstance(p, ThinkingPart)]
        assert stored.id and stored.text == ""  # no summary asked: the id alone goes back
        # Only the new items: the provider holds the rest.
        second = await client.chat(
            [_results(first)], extra={"store": True, "previous_response_id": first.id}
        )
        assert second.text == "Done: weather=sunny in Paris, weather=sunny in Lyon"
        sent = server.requests[-1].json()
        assert sent["previous_response_id"] == first.id
        assert [i["type"] for i in sent["input"]] == ["function_call_output"] * 2
        # A stored reasoning item may also go back by id in a full history.
        third = await client.chat([Message.user("Weather?"), first.message, _results(first)])
        assert third.text.startswith("Done")
        async with httpx.AsyncClient() as http:
            url = f"{server.base_url}/responses/{first.id}"
            got = await http.get(url, headers={"authorization": "Bearer k"})
        assert got.json()["id"] == first.id and got.json()["store"] is True


async def test_nothing_is_kept_without_store(server: FakeLLMServer) -> None:
    async with _client(server) as client:
        first = await client.chat("Weather?", tools=[WEATHER], extra={"include": []})
        (reasoning,) = [p for p in first.message.parts if isinstance(p, ThinkingPart)]
        with pytest.raises(BadRequestError, match="not found"):
            await client.chat([_results(first)], extra={"previous_response_id": first.id})
        with pytest.raises(NotFoundError, match="Items are not persisted"):
            await client.chat([Message.user("Weather?"), first.message, _results(first)])
        assert reasoning.id


async def test_a_model_the_registry_points_at_responses(server: FakeLLMServer) -> None:
    server.models["o3-pro"] = agent
    async with Client("openai/o3-pro", base_url=server.base_url, api_key="k") as client:
        assert client.targets[0].dialect.name == "openai-responses"
        reply = await client.chat("Weather?", tools=[WEATHER])
    assert server.requests[-1].path == "/v1/responses"
    assert reply.cost is not None and reply.usage.reasoning_tokens == 9


async def test_phases_go_back_with_their_messages() -> None:
    phased = OpenAIResponsesServer(phases=True)
    dialects = [d for d in registered_server_dialects() if d.name != "openai-responses"]
    async with FakeLLMServer(models={"agent": agent}, dialects=[*dialects, phased]) as srv:
        async with _client(srv) as client:
            first = await client.chat("Weather?", tools=[WEATHER])
            assert [p.phase for p in first.message.parts if isinstance(p, TextPart)] == [
                "commentary"
            ]
            final = await client.chat([Message.user("Weather?"), first.message, _results(first)])
    assert [p.phase for p in final.message.parts if isinstance(p, TextPart)] == ["final_answer"]
    sent = srv.requests[-1].json()
    assert sent["input"][2]["phase"] == "commentary"


async def test_http_errors_are_typed_and_retried(server: FakeLLMServer) -> None:
    async with _client(server, retry=FAST) as client:
        server.inject("status=429; retry-after=0", times=1)
        reply = await client.chat("hi", tools=[WEATHER])
        assert reply.finish_reason == "tool_calls"
        assert [(a.error, a.status) for a in reply.attempts] == [("RateLimitError", 429)]
        server.inject("status=429", times=3)
        with pytest.raises(RateLimitError) as caught:
            await client.chat("hi")
        assert caught.value.code == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("error-event=6", ServerError),
        ("error-event=6; error-type=rate_limit_exceeded", RateLimitError),
    ],
)
async def test_an_error_event_mid_stream_raises_typed_with_the_partial(
    server: FakeLLMServer, fault: str, error: type[Exception]
) -> None:
    server.inject(fault)
    events: list[Any] = []
    async with _client(server, model="stream-20") as client:
        with pytest.raises(error) as caught:
            async with client.stream("go") as stream:
                async for event in stream:
                    events.append(event)
    assert isinstance(events[-1], StreamError)
    partial = getattr(caught.value, "partial", None)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert partial is not None and partial.incomplete and partial.text == text and text


@pytest.mark.parametrize("streamed", [False, True], ids=["chat", "stream"])
async def test_a_failed_response_raises(server: FakeLLMServer, streamed: bool) -> None:
    server.models["failing"] = lambda request: Turn(text="x", finish_reason="failed")
    async with _client(server, model="failing", retry=RetryPolicy.none()) as client:
        with pytest.raises(ServerError, match="failed to generate"):
            await _call(client, [Message.user("go")], streamed)


@pytest.mark.parametrize(
    ("finish", "expected"), [("length", "length"), ("content_filter", "content_filter")]
)
@pytest.mark.parametrize("streamed", [False, True], ids=["chat", "stream"])
async def test_incomplete_responses_map_to_finish_reasons(
    server: FakeLLMServer, streamed: bool, finish: str, expected: str
) -> None:
    server.models["cut"] = lambda request: Turn(text="partial answ", finish_reason=finish)
    async with _client(server, model="cut") as client:
        reply = await _call(client, [Message.user("go")], streamed)
    assert reply.finish_reason == expected
    assert reply.raw_finish_reason == ("max_output_tokens" if finish == "length" else finish)
    assert reply.text == "partial answ" and not reply.incomplete


async def test_a_stream_without_its_final_event_is_incomplete(server: FakeLLMServer) -> None:
    server.inject("no-done")
    async with _client(server, model="stream-5") as client:
        async with client.stream("go") as stream:
            async for _ in stream:
                pass
    assert stream.response.incomplete is True
    assert stream.response.text == "tok0 tok1 tok2 tok3 tok4 "


async def test_a_disconnect_mid_stream_raises_with_partial(server: FakeLLMServer) -> None:
    server.inject("disconnect-events=8")
    async with _client(server, model="stream-50", retry=FAST) as client:
        with pytest.raises(StreamInterrupted) as caught:
            async with client.stream("go") as stream:
                async for _ in stream:
                    pass
    partial = caught.value.partial
    assert partial is not None and partial.incomplete and partial.text
    assert len(server.requests) == 1


def test_the_sync_client_speaks_it_too() -> None:
    with FakeLLMServer(models={"agent": agent}).run_in_thread() as srv:
        with SyncClient(
            "agent", base_url=srv.base_url, dialect="openai-responses", api_key="k"
        ) as client:
            first = client.chat("Weather?", tools=[WEATHER])
            with client.stream(
                [Message.user("Weather?"), first.message, _results(first)]
            ) as stream:
                text = "".join(e.text for e in stream if isinstance(e, TextDelta))
    assert text == "Done: weather=sunny in Paris, weather=sunny in Lyon"
    assert json.loads(srv.requests[-1].body)["stream"] is True


async def test_a_reply_cut_off_while_reasoning_can_be_continued(server: FakeLLMServer) -> None:
    server.models["cut"] = lambda request: (
        Turn(text="Here it is.")
        if request.message_count > 1
        else Turn(thinking="a long thought", finish_reason="length")
    )
    async with _client(server, model="cut") as client:
        first = await client.chat("Think hard.", max_tokens=16)
        assert first.finish_reason == "length" and first.text == ""
        assert any(isinstance(p, RedactedThinkingPart) for p in first.message.parts)
        again = await client.chat(
            [Message.user("Think hard."), first.message, Message.user("Go on.")]
        )
    assert again.text == "Here it is."
    assert [i["type"] for i in server.requests[-1].json()["input"]] == ["message", "message"]
