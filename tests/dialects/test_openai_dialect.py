"""OpenAIChatDialect: request bodies per quirk, capability checks, parse and stream variations."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from atoll_dialects import (
    BadRequestError,
    CapabilityError,
    InvalidResponseError,
    OpenAIChatDialect,
    Target,
    UnsupportedRequestError,
)
from atoll_registry import Capabilities, ModelSpec, ProviderQuirks, ProviderSpec
from atoll_wire import (
    AudioPart,
    ChatRequest,
    ChatResponse,
    DocumentPart,
    ImagePart,
    Message,
    MessageEnd,
    MessageStart,
    OutputSchema,
    ServerSentEvent,
    SSEDecoder,
    StreamAccumulator,
    StreamError,
    StreamEvent,
    TextDelta,
    TextPart,
    ThinkingDelta,
    ThinkingPart,
    ToolCallDelta,
    ToolCallEnd,
    ToolCallPart,
    ToolCallStart,
    ToolChoice,
    ToolResultPart,
    ToolSpec,
    Usage,
    UsageUpdate,
)

DIALECT = OpenAIChatDialect()
WEATHER = ToolSpec(
    name="get_weather",
    description="Weather for a city",
    parameters={"type": "object", "properties": {"city": {"type": "string"}}},
)


def provider(**quirks: Any) -> ProviderSpec:
    return ProviderSpec(
        name="acme",
        dialect="openai-chat",
        auth="bearer",
        source="test",
        as_of=date(2026, 1, 1),
        base_url="https://api.acme.test/v1",
        api_key_env="ACME_API_KEY",
        quirks=ProviderQuirks(**quirks),
    )


def model(**caps: Any) -> ModelSpec:
    return ModelSpec(id="m1", provider="acme", capabilities=Capabilities(**caps))


def body_of(
    request: ChatRequest, prov: ProviderSpec | None = None, spec: ModelSpec | None = None
) -> dict[str, Any]:
    http = DIALECT.build(
        request,
        Target.of(
            prov or provider(), spec, api_key="sk-test-secret-0123456789", base_url="https://h/v1/"
        ),
    )
    return json.loads(http.body)


def user(text: str = "hi") -> Message:
    return Message.user(text)


# ---------------------------------------------------------------- build


def test_build_url_headers_and_secret_only_in_headers() -> None:
    request = ChatRequest(model="m1", messages=[user()])
    target = Target.of(provider(), api_key="sk-test-secret-0123456789", base_url="https://h/v1/")
    http = DIALECT.build(request, target)
    assert http.method == "POST"
    assert http.url == "https://h/v1/chat/completions"
    # The dialect never sees the key: the Client adds the target's auth to each attempt.
    assert "Authorization" not in http.headers
    assert dict(target.auth.headers()) == {"Authorization": "Bearer sk-test-secret-0123456789"}
    assert b"sk-test" not in http.body
    assert "sk-test-secret" not in repr(target)


def test_build_without_key_sends_no_auth() -> None:
    http = DIALECT.build(
        ChatRequest(model="m", messages=[user()]), Target.of(provider(), base_url="http://x/v1")
    )
    assert "Authorization" not in http.headers


def test_max_tokens_field_follows_the_quirk() -> None:
    request = ChatRequest(model="m1", messages=[user()], max_tokens=55)
    assert body_of(request)["max_tokens"] == 55
    body = body_of(request, provider(max_tokens_field="max_completion_tokens"))
    assert body["max_completion_tokens"] == 55
    assert "max_tokens" not in body


def test_stream_options_only_where_accepted() -> None:
    request = ChatRequest(model="m1", messages=[user()], stream=True)
    assert "stream_options" not in body_of(request, provider(stream_include_usage=False))
    body = body_of(request, provider())  # the dialect's default: ask for usage
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert "stream_options" not in body_of(
        ChatRequest(model="m1", messages=[user()]), provider(stream_include_usage=True)
    )


def test_sampling_stop_seed_and_extra_merge_last() -> None:
    request = ChatRequest(
        model="m1",
        messages=[Message.system("be brief"), user()],
        temperature=0.2,
        top_p=0.9,
        stop=["END"],
        seed=7,
        extra={"temperature": 0.3, "logprobs": True},
    )
    body = body_of(request)
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert (body["temperature"], body["top_p"], body["stop"], body["seed"]) == (
        0.3,
        0.9,
        ["END"],
        7,
    )
    assert body["logprobs"] is True


def test_multimodal_parts() -> None:
    message = Message(
        role="user",
        parts=[
            TextPart(text="look"),
            ImagePart(data=b"\x89PNG", media_type="image/png", detail="low"),
            ImagePart(url="https://img.test/a.jpg"),
            AudioPart(data=b"RIFF", media_type="audio/wav"),
            DocumentPart(data=b"%PDF", title="a.pdf"),
        ],
    )
    content = body_of(ChatRequest(model="m1", messages=[message]))["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "look"}
    assert content[1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,iVBORw==", "detail": "low"},
    }
    assert content[2] == {"type": "image_url", "image_url": {"url": "https://img.test/a.jpg"}}
    assert content[3] == {
        "type": "input_audio",
        "input_audio": {"data": "UklGRg==", "format": "wav"},
    }
    assert content[4] == {
        "type": "file",
        "file": {"file_data": "data:application/pdf;base64,JVBERg==", "filename": "a.pdf"},
    }


def test_tool_round_trip_messages() -> None:
    call = ToolCallPart(
        id="call_1",
        name="get_weather",
        arguments={"city": "Paris"},
        raw_arguments='{"city":"Paris"}',
    )
    messages = [
        user("weather?"),
        Message(role="assistant", parts=[ThinkingPart(text="hmm"), call]),
        Message(role="tool", parts=[ToolResultPart.from_text("call_1", "sunny")]),
    ]
    request = ChatRequest(
        model="m1", messages=messages, tools=[WEATHER], tool_choice=ToolChoice(mode="required")
    )
    body = body_of(request)
    assistant = body["messages"][1]
    assert assistant == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    assert body["tools"][0]["function"]["name"] == "get_weather"
    assert body["tool_choice"] == "required"
    named = body_of(
        ChatRequest(
            model="m1",
            messages=[user()],
            tools=[WEATHER],
            tool_choice=ToolChoice.tool("get_weather"),
        )
    )
    assert named["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_reasoning_content_goes_back_only_where_the_provider_reads_it() -> None:
    call = ToolCallPart(id="c1", name="get_weather", raw_arguments='{"city":"Paris"}')
    turn = Message(
        role="assistant",
        parts=[ThinkingPart(text="Paris, "), ThinkingPart(text="so sunny"), call],
    )
    signed = Message(role="assistant", parts=[ThinkingPart(text="x", signature="sig"), call])
    request = ChatRequest(model="m1", messages=[user(), turn])
    echoed = body_of(request, provider(reasoning_field="reasoning_content"))["messages"][1]
    assert echoed["reasoning_content"] == "Paris, so sunny"
    assert "reasoning_content" not in body_of(request)["messages"][1]
    assert (
        "reasoning_content"
        not in body_of(request, provider(reasoning_field="reasoning"))["messages"][1]
    )
    signed_request = ChatRequest(model="m1", messages=[user(), signed])
    body = body_of(signed_request, provider(reasoning_field="reasoning_content"))
    assert "reasoning_content" not in body["messages"][1]


def test_image_in_tool_result_is_refused_clearly() -> None:
    result = ToolResultPart(call_id="c", content=[ImagePart(url="https://x/y.png")])
    with pytest.raises(UnsupportedRequestError, match="only text in tool results"):
        body_of(ChatRequest(model="m1", messages=[Message(role="tool", parts=[result])]))


def test_structured_output_json_schema() -> None:
    schema = OutputSchema(name="City", schema={"type": "object"}, description="a city")
    body = body_of(ChatRequest(model="m1", messages=[user()], output_schema=schema))
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {
            "name": "City",
            "schema": {"type": "object"},
            "strict": True,
            "description": "a city",
        },
    }


def test_structured_output_falls_back_to_forced_tool_and_back_to_text() -> None:
    schema = OutputSchema(name="City", schema={"type": "object"})
    request = ChatRequest(model="m1", messages=[user()], output_schema=schema)
    spec = model(json_schema=False, tools=True)
    body = body_of(request, spec=spec)
    assert "response_format" not in body
    assert body["tool_choice"] == {"type": "function", "function": {"name": "City"}}
    reply = {
        "id": "x",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c",
                            "type": "function",
                            "function": {"name": "City", "arguments": '{"n":1}'},
                        }
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
    }
    parsed = DIALECT.parse(json.dumps(reply).encode(), Target.of(provider(), spec), request)
    assert parsed.message.text == '{"n":1}'
    assert parsed.message.tool_calls == []
    decoder = DIALECT.stream_decoder(Target.of(provider(), spec), request)
    events = decoder.feed(
        sse(
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "c",
                                    "function": {"name": "City", "arguments": '{"n"'},
                                }
                            ]
                        },
                    }
                ]
            }
        )
    )
    events += decoder.feed(
        sse(
            {
                "choices": [
                    {
                        "index": 0,
                        "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]},
                    }
                ]
            }
        )
    )
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == '{"n":1}'
    assert not any(isinstance(e, ToolCallStart) for e in events)


@pytest.mark.parametrize(
    ("caps", "message", "capability"),
    [
        ({"tools": False}, user(), "tools"),
        (
            {"vision": False},
            Message(role="user", parts=[ImagePart(url="https://x/y.png")]),
            "vision",
        ),
        (
            {"audio": False},
            Message(role="user", parts=[AudioPart(data=b"x", media_type="audio/wav")]),
            "audio",
        ),
    ],
)
def test_capabilities_checked_before_sending(
    caps: dict[str, bool], message: Message, capability: str
) -> None:
    request = ChatRequest(
        model="m1", messages=[message], tools=[WEATHER] if capability == "tools" else []
    )
    with pytest.raises(CapabilityError) as info:
        body_of(request, spec=model(**caps))
    assert info.value.capability == capability
    assert info.value.provider == "acme"


def test_text_only_modalities_refuse_images() -> None:
    spec = ModelSpec(id="m1", provider="acme", input_modalities=("text",))
    with pytest.raises(CapabilityError, match="image"):
        body_of(
            ChatRequest(
                model="m1", messages=[Message(role="user", parts=[ImagePart(url="https://x")])]
            ),
            spec=spec,
        )


def test_unknown_capabilities_do_not_block() -> None:
    request = ChatRequest(
        model="m1",
        messages=[Message(role="user", parts=[ImagePart(url="https://x")])],
        tools=[WEATHER],
    )
    assert body_of(request, spec=model())["tools"]


def test_embeddings_request_and_response() -> None:
    http = DIALECT.build_embeddings(
        ["a", "b"],
        Target.of(provider(), name="text-embedding-3-small", api_key="k", base_url="https://h/v1"),
        dimensions=8,
    )
    assert http.url == "https://h/v1/embeddings"
    assert json.loads(http.body) == {
        "model": "text-embedding-3-small",
        "input": ["a", "b"],
        "encoding_format": "float",
        "dimensions": 8,
    }
    body = {
        "data": [{"embedding": [0.5], "index": 1}, {"embedding": [0.25], "index": 0}],
        "model": "e",
        "usage": {"prompt_tokens": 3},
    }
    result = DIALECT.parse_embeddings(json.dumps(body).encode())
    assert result.vectors == [[0.25], [0.5]]
    assert result.usage == Usage(input_tokens=3)
    with pytest.raises(UnsupportedRequestError):
        DIALECT.build_embeddings(
            [], Target.of(provider(), name="e", api_key="k", base_url="https://h/v1")
        )


# ---------------------------------------------------------------- parse


def test_parse_rejects_non_json_and_raises_embedded_errors() -> None:
    with pytest.raises(InvalidResponseError):
        DIALECT.parse(b"<html>oops</html>")
    with pytest.raises(BadRequestError) as info:
        DIALECT.parse(b'{"error": {"message": "bad", "code": 400}}')
    assert info.value.status == 400


def test_parse_usage_details_and_think_tags() -> None:
    body = {
        "id": "r",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "<think>plan</think>\n\nAnswer"},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "prompt_tokens_details": {"cached_tokens": 4},
            "completion_tokens_details": {"reasoning_tokens": 2},
        },
    }
    raw = json.dumps(body).encode()
    plain = DIALECT.parse(raw)
    assert plain.message.text == "<think>plan</think>\n\nAnswer"  # no quirk: text kept verbatim
    assert plain.usage == Usage(
        input_tokens=10, output_tokens=5, cache_read_tokens=4, reasoning_tokens=2
    )
    split = DIALECT.parse(raw, Target.of(provider(reasoning_field="think_tags", think_tag="think")))
    assert split.message.parts == [ThinkingPart(text="plan"), TextPart(text="Answer")]
    assert split.finish_reason == "stop"


def test_empty_tool_call_ids_are_synthesised_when_the_quirk_says_so() -> None:
    body = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "", "function": {"name": "f", "arguments": ""}},
                        {"id": "", "function": {"name": "g", "arguments": "{}"}},
                    ],
                },
            }
        ]
    }
    calls = DIALECT.parse(
        json.dumps(body).encode(), Target.of(provider(empty_tool_call_ids=True))
    ).message.tool_calls
    assert [c.name for c in calls] == ["f", "g"]
    assert all(c.id.startswith("call_") for c in calls)
    assert calls[0].id != calls[1].id
    raw = DIALECT.parse(json.dumps(body).encode()).message.tool_calls
    assert [c.id for c in raw] == ["", ""]


# ---------------------------------------------------------------- streams


def sse(data: dict[str, Any] | str, event: str = "message") -> ServerSentEvent:
    return ServerSentEvent(event=event, data=data if isinstance(data, str) else json.dumps(data))


def chunk(
    delta: dict[str, Any] | None = None, finish: str | None = None, **top: Any
) -> ServerSentEvent:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return sse({"id": "c1", "model": "m", "choices": choices, **top})


def run(events: list[ServerSentEvent], **quirks: Any) -> list[StreamEvent]:
    decoder = DIALECT.stream_decoder(Target.of(provider(**quirks)) if quirks else None)
    out: list[StreamEvent] = []
    for event in events:
        out.extend(decoder.feed(event))
    return out + decoder.finish()


def accumulate(events: list[StreamEvent]) -> ChatResponse:
    acc = StreamAccumulator()
    for event in events:
        acc.add(event)
    return acc.response()


def calls_of(events: list[StreamEvent]) -> list[tuple[str, str, str]]:
    starts = {e.index: (e.id, e.name) for e in events if isinstance(e, ToolCallStart)}
    args: dict[int, str] = dict.fromkeys(starts, "")
    for e in events:
        if isinstance(e, ToolCallDelta):
            args[e.index] += e.arguments
    ends = [e.index for e in events if isinstance(e, ToolCallEnd)]
    assert sorted(ends) == sorted(starts), "every started call ends exactly once"
    return [(*starts[i], args[i]) for i in sorted(starts)]


def tc(
    index: int | None, id: str | None = None, name: str | None = None, args: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {"function": {}}
    if index is not None:
        out["index"] = index
    if id is not None:
        out["id"] = id
    if name is not None:
        out["function"]["name"] = name
    if args is not None:
        out["function"]["arguments"] = args
    return out


def test_every_call_at_index_zero_told_apart_by_id() -> None:
    events = run(
        [
            chunk({"tool_calls": [tc(0, "a", "f", '{"x"')]}),
            chunk({"tool_calls": [tc(0, None, None, ":1}")]}),
            chunk({"tool_calls": [tc(0, "b", "g", '{"y":2}')]}),
            chunk({}, "tool_calls"),
            sse("[DONE]"),
        ]
    )
    assert calls_of(events) == [("a", "f", '{"x":1}'), ("b", "g", '{"y":2}')]
    assert events[-1] == MessageEnd(finish_reason="tool_calls", raw_finish_reason="tool_calls")


def test_duplicate_indexes_in_one_chunk_and_id_repeated_on_every_fragment() -> None:
    events = run(
        [
            chunk(
                {
                    "tool_calls": [
                        tc(0, "a", "f", '{"x":'),
                        tc(0, "a", None, "1}"),
                        tc(0, "b", "g", "{}"),
                    ]
                }
            ),
            sse("[DONE]"),
        ]
    )
    assert calls_of(events) == [("a", "f", '{"x":1}'), ("b", "g", "{}")]


def test_argument_fragments_after_the_finish_reason_are_kept() -> None:
    events = run(
        [
            chunk({"tool_calls": [tc(0, "a", "f", '{"x"')]}),
            chunk({}, "tool_calls"),
            chunk({"tool_calls": [tc(0, None, None, ":1}")]}),
            sse("[DONE]"),
        ]
    )
    assert calls_of(events) == [("a", "f", '{"x":1}')]


def test_calls_without_ids_split_on_a_new_name_after_complete_arguments() -> None:
    events = run(
        [
            chunk({"tool_calls": [tc(None, None, "f", "{}")]}),
            chunk({"tool_calls": [tc(None, None, "g", '{"a":1}')]}),
            sse("[DONE]"),
        ]
    )
    assert calls_of(events) == [("", "f", "{}"), ("", "g", '{"a":1}')]


def test_usage_snapshots_replace_and_trailing_empty_chunks_do_not_reset() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 4}
    events = run(
        [
            chunk({"content": "hi"}),
            chunk({}, "stop", usage=usage),
            chunk(None, usage=usage),  # the same usage again in a trailing empty-choices chunk
            chunk(None, moderation={"flagged": False}),
            sse("[DONE]"),
        ]
    )
    updates = [e.usage for e in events if isinstance(e, UsageUpdate)]
    assert updates == [Usage(input_tokens=3, output_tokens=4)] * 2
    assert events[-1] == MessageEnd(finish_reason="stop", raw_finish_reason="stop")


def test_usage_before_the_last_chunk_is_counted_once() -> None:
    """Usage in a chunk before the finish (and repeated later) ends up in the response once."""
    usage = {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "prompt_tokens_details": {"cached_tokens": 2},
    }
    events = run(
        [
            chunk({"content": "a"}, usage=usage),  # usage early, with content still to come
            chunk({"content": "b"}),
            chunk({}, "stop", usage=usage),  # the same snapshot in the finish chunk
            chunk(None, usage=usage, x_groq={"usage": usage}),  # and in a trailing chunk
            sse("[DONE]"),
        ]
    )
    response = accumulate(events)
    assert response.message.text == "ab"
    assert response.usage == Usage(input_tokens=3, output_tokens=4, cache_read_tokens=2)
    assert not response.incomplete


def test_keep_alive_comments_through_the_real_sse_decoder() -> None:
    """OpenRouter's ``: OPENROUTER PROCESSING`` comments (and CRLF) change nothing."""
    chunks = [
        {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": "he"}}]},
        {"id": "c1", "model": "m", "choices": [{"index": 0, "delta": {"content": "llo"}}]},
        {
            "id": "c1",
            "model": "m",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        },
    ]
    plain = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
    plain += b"data: [DONE]\n\n"
    noisy = b": OPENROUTER PROCESSING\r\n\r\n" + plain.replace(
        b"\n\n", b"\n\n: OPENROUTER PROCESSING\n\n:\n\n"
    )

    def decode(body: bytes) -> list[StreamEvent]:
        sse_decoder, decoder = SSEDecoder(), DIALECT.stream_decoder()
        out: list[StreamEvent] = []
        for at in range(0, len(body), 7):  # small reads split comments and events
            for event in sse_decoder.feed(body[at : at + 7]):
                out.extend(decoder.feed(event))
        for event in sse_decoder.flush():
            out.extend(decoder.feed(event))
        return out + decoder.finish()

    assert decode(noisy) == decode(plain)
    response = accumulate(decode(noisy))
    assert (response.message.text, response.raw_finish_reason) == ("hello", "stop")
    assert not response.incomplete


def test_no_done_means_no_message_end() -> None:
    events = run([chunk({"content": "par"}), chunk({"tool_calls": [tc(0, "a", "f", "{")]})])
    assert not any(isinstance(e, MessageEnd) for e in events)
    assert calls_of(events) == [("a", "f", "{")]  # the open call is closed, its text kept
    assert isinstance(events[0], MessageStart)


def test_events_after_done_are_ignored() -> None:
    decoder = DIALECT.stream_decoder()
    decoder.feed(chunk({"content": "a"}))
    assert decoder.feed(sse("[DONE]"))[-1] == MessageEnd()
    assert decoder.done
    assert decoder.feed(chunk({"content": "late"})) == []
    assert decoder.finish() == []


def test_reasoning_variants_and_no_double_counting() -> None:
    events = run(
        [
            chunk({"reasoning_content": "a"}),
            chunk({"reasoning": "b"}),
            chunk(
                {"reasoning": "c", "reasoning_details": [{"type": "reasoning.text", "text": "c"}]}
            ),
            chunk(
                {"reasoning_details": [{"type": "reasoning.text", "text": "d", "signature": "sig"}]}
            ),
            chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "e"}]}]}),
            chunk({"content": "answer"}),
            sse("[DONE]"),
        ]
    )
    thinking = [e for e in events if isinstance(e, ThinkingDelta)]
    assert "".join(e.text for e in thinking) == "abcde"
    assert [e.signature for e in thinking if e.signature] == ["sig"]
    assert len({e.index for e in thinking}) == 1
    texts = [e for e in events if isinstance(e, TextDelta)]
    assert [t.text for t in texts] == ["answer"]
    assert texts[0].index != thinking[0].index


def test_inline_think_tags_split_across_chunks() -> None:
    pieces = ["<thi", "nk>step ", "one</th", "ink>\n\nFinal", " answer"]
    events = run(
        [chunk({"content": p}) for p in pieces] + [sse("[DONE]")],
        reasoning_field="think_tags",
        think_tag="think",
    )
    assert "".join(e.text for e in events if isinstance(e, ThinkingDelta)) == "step one"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Final answer"


def test_error_event_and_error_chunk_become_stream_errors() -> None:
    groq = run(
        [
            chunk({"reasoning": "x"}),
            sse(
                {
                    "error": {
                        "message": "bad",
                        "type": "invalid_request_error",
                        "code": "tool_use_failed",
                        "status_code": 400,
                    }
                },
                event="error",
            ),
        ]
    )
    error = [e for e in groq if isinstance(e, StreamError)]
    assert len(error) == 1
    assert (error[0].type, error[0].status, error[0].code, error[0].message) == (
        "invalid_request_error",
        400,
        "tool_use_failed",
        "bad",
    )
    router = run(
        [chunk({"content": ""}, error={"code": 502, "message": "upstream"}), sse("[DONE]")]
    )
    error = [e for e in router if isinstance(e, StreamError)]
    assert (error[0].status, error[0].code, error[0].message) == (502, "502", "upstream")


def test_undecodable_chunk_is_reported_not_raised() -> None:
    events = run([sse("{not json")])
    assert isinstance(events[0], StreamError)
    assert events[0].type == "invalid_chunk"


def test_documents_follow_input_modalities() -> None:
    request = ChatRequest(
        model="m1", messages=[Message(role="user", parts=[DocumentPart(data=b"%PDF")])]
    )
    vision = ModelSpec(id="m1", provider="acme", input_modalities=("text", "image"))
    assert body_of(request, spec=vision)["messages"][0]["content"][0]["type"] == "file"
    text_only = ModelSpec(id="m1", provider="acme", input_modalities=("text",))
    with pytest.raises(CapabilityError) as info:
        body_of(request, spec=text_only)
    assert info.value.capability == "documents"


def test_an_id_arriving_after_the_name_is_filled_in() -> None:
    events = run(
        [
            chunk({"tool_calls": [tc(0, None, "f", '{"a":')]}),
            chunk({"tool_calls": [tc(0, "late", None, "1}")]}),
            sse("[DONE]"),
        ]
    )
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert starts == [
        ToolCallStart(index=0, id="", name="f"),
        ToolCallStart(index=0, id="late", name="f"),
    ]
    acc = StreamAccumulator()
    for event in events:
        acc.add(event)
    calls = acc.response().message.tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [("late", "f", {"a": 1})]


def test_bad_image_part_and_argument_less_tool() -> None:
    with pytest.raises(UnsupportedRequestError, match="ImagePart"):
        body_of(
            ChatRequest(
                model="m1", messages=[Message(role="user", parts=[TextPart(text="x"), ImagePart()])]
            )
        )
    body = body_of(ChatRequest(model="m1", messages=[user()], tools=[ToolSpec(name="now")]))
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "now", "parameters": {"type": "object", "properties": {}}},
        }
    ]
