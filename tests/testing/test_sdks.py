"""The official ``openai`` and ``anthropic`` SDKs parse this server's bodies and streams.

This is the faithfulness check: the SDKs' own models and accumulators must accept what we send.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest
from atoll_testing import (
    AnthropicMessagesServer,
    FakeLLMServer,
    OpenAIChatServer,
    Script,
    ToolCall,
    Turn,
)

TOOLS_TURN = Turn(
    text="checking",
    thinking="the user wants weather",
    tool_calls=[
        ToolCall(name="get_weather", arguments={"city": "Paris"}),
        ToolCall(name="get_time", arguments={"tz": "CET"}),
    ],
    reasoning_tokens=4,
)


# The anthropic SDK pinned here (2.12) sends ``api_key`` as ``Authorization: Bearer``, not
# ``x-api-key`` (test_anthropic_sdk_sends_its_key_as_bearer): the Anthropic side is told to
# accept that, or every call below would be a 401.
DIALECTS = [OpenAIChatServer(), AnthropicMessagesServer(bearer=True)]


@pytest.fixture(scope="module")
def srv() -> Iterator[FakeLLMServer]:
    models = {"tools": Script([TOOLS_TURN], repeat_last=True)}
    server = FakeLLMServer(models=models, api_key="sk-test", dialects=DIALECTS)
    with server.run_in_thread() as running:
        yield running


@pytest.fixture
def oa(srv: FakeLLMServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0) as client:
        yield client


@pytest.fixture
def an(srv: FakeLLMServer) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=srv.url, api_key="sk-test", max_retries=0) as client:
        yield client


USER = [{"role": "user", "content": "what is up"}]


def test_openai_completion(oa: openai.OpenAI) -> None:
    done = oa.chat.completions.create(model="echo", messages=USER)  # type: ignore[arg-type]
    assert done.choices[0].message.content == "what is up"
    assert done.choices[0].finish_reason == "stop"
    assert done.usage is not None and done.usage.completion_tokens == 3


def test_openai_tools_and_reasoning(oa: openai.OpenAI) -> None:
    done = oa.chat.completions.create(model="tools", messages=USER)  # type: ignore[arg-type]
    message = done.choices[0].message
    calls = message.tool_calls or []
    assert [c.function.name for c in calls if c.type == "function"] == ["get_weather", "get_time"]
    assert done.choices[0].finish_reason == "tool_calls"
    assert (message.model_extra or {})["reasoning_content"] == "the user wants weather"
    assert done.usage is not None
    assert done.usage.completion_tokens_details is not None
    assert done.usage.completion_tokens_details.reasoning_tokens == 4


def test_openai_stream_accumulates(oa: openai.OpenAI) -> None:
    with oa.chat.completions.stream(
        model="tools",
        messages=USER,  # type: ignore[arg-type]
        stream_options={"include_usage": True},
    ) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    message = final.choices[0].message
    assert message.content == "checking"
    assert [(c.function.name, c.function.parsed_arguments) for c in message.tool_calls or []] == [
        ("get_weather", None),
        ("get_time", None),
    ]
    assert [c.function.arguments for c in message.tool_calls or []] == [
        '{"city":"Paris"}',
        '{"tz":"CET"}',
    ]
    assert final.usage is not None and final.usage.completion_tokens > 0


def test_openai_raw_stream_of_5000_events(oa: openai.OpenAI) -> None:
    stream = oa.chat.completions.create(model="stream-5000", messages=USER, stream=True)  # type: ignore[arg-type]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text.split() == [f"tok{i}" for i in range(5000)]


def test_openai_embeddings_default_base64(oa: openai.OpenAI) -> None:
    # The SDK asks for base64 by default and decodes it itself.
    result = oa.embeddings.create(model="emb", input=["one", "two"])
    assert [len(d.embedding) for d in result.data] == [8, 8]
    assert result.data[0].embedding != result.data[1].embedding


def test_openai_models(oa: openai.OpenAI) -> None:
    assert "echo" in {m.id for m in oa.models.list()}


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("status=429; retry-after=0", openai.RateLimitError),
        ("500", openai.InternalServerError),
        ("status=400", openai.BadRequestError),
    ],
)
def test_openai_errors(oa: openai.OpenAI, fault: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        oa.chat.completions.create(
            model="echo",
            messages=USER,  # type: ignore[arg-type]
            extra_headers={"x-atoll-fault": fault},
        )
    assert isinstance(info.value, openai.APIStatusError)
    assert info.value.body is not None


def test_openai_retries_after_429(srv: FakeLLMServer) -> None:
    srv.inject("status=429; retry-after-ms=10", times=2)
    with openai.OpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=2) as client:
        done = client.chat.completions.create(model="echo", messages=USER)  # type: ignore[arg-type]
    assert done.choices[0].message.content == "what is up"


def test_openai_mid_stream_error_raises(oa: openai.OpenAI) -> None:
    stream = oa.chat.completions.create(
        model="stream-10",
        messages=USER,  # type: ignore[arg-type]
        stream=True,
        extra_headers={"x-atoll-fault": "error-event=3"},
    )
    with pytest.raises(openai.APIError, match="server had an error"):
        for _ in stream:
            pass


def test_openai_bad_key(srv: FakeLLMServer) -> None:
    with openai.OpenAI(base_url=srv.base_url, api_key="sk-nope", max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            client.models.list()


def test_anthropic_message(an: anthropic.Anthropic) -> None:
    done = an.messages.create(model="echo", max_tokens=10, messages=USER)  # type: ignore[arg-type]
    assert done.content[0].type == "text" and done.content[0].text == "what is up"
    assert done.stop_reason == "end_turn"
    assert done.usage.input_tokens == 3


def test_anthropic_count_tokens(an: anthropic.Anthropic) -> None:
    counted = an.messages.count_tokens(model="echo", messages=USER)  # type: ignore[arg-type]
    assert counted.input_tokens == 3


def test_anthropic_tools_thinking(an: anthropic.Anthropic) -> None:
    done = an.messages.create(model="tools", max_tokens=10, messages=USER)  # type: ignore[arg-type]
    assert [b.type for b in done.content] == ["thinking", "text", "tool_use", "tool_use"]
    tool = done.content[2]
    assert tool.type == "tool_use" and tool.input == {"city": "Paris"}
    assert done.stop_reason == "tool_use"


def test_anthropic_stream_accumulates(an: anthropic.Anthropic) -> None:
    with an.messages.stream(model="tools", max_tokens=10, messages=USER) as stream:  # type: ignore[arg-type]
        for _ in stream:
            pass
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use", "tool_use"]
    thinking = final.content[0]
    assert thinking.type == "thinking" and thinking.thinking == "the user wants weather"
    assert thinking.signature.startswith("sig_")
    tools = [b for b in final.content if b.type == "tool_use"]
    assert [t.input for t in tools] == [{"city": "Paris"}, {"tz": "CET"}]
    assert final.stop_reason == "tool_use"
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("status=429; retry-after=0", anthropic.RateLimitError),
        ("529", anthropic.InternalServerError),
        ("status=404", anthropic.NotFoundError),
    ],
)
def test_anthropic_errors(an: anthropic.Anthropic, fault: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        an.messages.create(
            model="echo",
            max_tokens=5,
            messages=USER,  # type: ignore[arg-type]
            extra_headers={"x-atoll-fault": fault},
        )
    assert isinstance(info.value, anthropic.APIStatusError)
    if fault == "529":
        assert info.value.status_code == 529
        assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]


def test_anthropic_mid_stream_overloaded(an: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.APIStatusError, match="Overloaded"):
        with an.messages.stream(
            model="stream-10",
            max_tokens=10,
            messages=USER,  # type: ignore[arg-type]
            extra_headers={"x-atoll-fault": "error-event=4"},
        ) as stream:
            for _ in stream:
                pass


def test_anthropic_sdk_sends_its_key_as_bearer() -> None:
    # Why DIALECTS above says bearer=True: by default the Anthropic side reads x-api-key only.
    with FakeLLMServer(api_key="sk-test").run_in_thread() as strict:
        with anthropic.Anthropic(base_url=strict.url, api_key="sk-test", max_retries=0) as sdk:
            with pytest.raises(anthropic.AuthenticationError, match="x-api-key header is required"):
                sdk.messages.create(model="echo", max_tokens=5, messages=USER)  # type: ignore[arg-type]
        sent = strict.requests[-1].headers
    assert sent["authorization"] == "[redacted]" and "x-api-key" not in sent


def test_anthropic_bad_key(srv: FakeLLMServer) -> None:
    with anthropic.Anthropic(base_url=srv.url, api_key="wrong", max_retries=0) as client:
        with pytest.raises(anthropic.AuthenticationError):
            client.messages.create(model="echo", max_tokens=5, messages=USER)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_async_sdks(srv: FakeLLMServer, anyio_backend: str) -> None:
    if anyio_backend == "trio":
        # The openai SDK stops reading at [DONE] without closing its async generators; trio
        # reports that as a ResourceWarning (an error here). Plain httpx on trio is covered in
        # test_openai_chat.py.
        pytest.skip("openai's AsyncStream leaves async generators unclosed under trio")
    async with openai.AsyncOpenAI(base_url=srv.base_url, api_key="sk-test", max_retries=0) as oa:
        stream = await oa.chat.completions.create(model="echo", messages=USER, stream=True)  # type: ignore[arg-type]
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    async with anthropic.AsyncAnthropic(base_url=srv.url, api_key="sk-test", max_retries=0) as an:
        async with an.messages.stream(model="echo", max_tokens=5, messages=USER) as s:  # type: ignore[arg-type]
            final = await s.get_final_message()
    assert text == "what is up"
    assert final.content[0].type == "text" and final.content[0].text == "what is up"
