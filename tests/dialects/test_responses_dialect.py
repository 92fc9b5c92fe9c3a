"""The openai-responses dialect: request bodies built and responses parsed, field by field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from atoll_dialects import (
    AnthropicMessagesDialect,
    BadRequestError,
    CapabilityError,
    InvalidOptionError,
    InvalidResponseError,
    OpenAIChatDialect,
    OpenAIResponsesDialect,
    RateLimitError,
    ServerError,
    StreamInterrupted,
    Target,
    UnsupportedRequestError,
)
from atoll_registry import Registry
from atoll_wire import (
    AudioPart,
    ChatRequest,
    DocumentPart,
    ImagePart,
    Message,
    OutputSchema,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolChoice,
    ToolResultPart,
    ToolSpec,
)
from hypothesis import given
from hypothesis import strategies as st

DIALECT = OpenAIResponsesDialect()
TARGET = Target.of(dialect="openai-responses", base_url="http://127.0.0.1:9/v1/", name="gpt")


def _body(request: ChatRequest, target: Target = TARGET) -> dict[str, Any]:
    return json.loads(DIALECT.build(request, target).body)


def _request(*messages: Message, **fields: Any) -> ChatRequest:
    return ChatRequest(model="gpt", messages=list(messages) or [Message.user("hi")], **fields)


# ---------------------------------------------------------------- requests


def test_url_headers_and_the_stateless_defaults() -> None:
    http = DIALECT.build(_request(stream=True), TARGET)
    assert http.method == "POST"
    assert http.url == "http://127.0.0.1:9/v1/responses"
    assert http.headers["Accept"] == "text/event-stream"
    assert "Authorization" not in http.headers  # the Client adds auth
    body = json.loads(http.body)
    assert body == {
        "model": "gpt",
        "input": [{"type": "message", "role": "user", "content": "hi"}],
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
    }


def test_leading_system_messages_become_instructions() -> None:
    body = _body(
        _request(
            Message.system("Be brief."),
            Message.system("Be kind."),
            Message.user("hi"),
            Message.system("Now in French."),
        )
    )
    assert body["instructions"] == "Be brief.\n\nBe kind."
    assert body["input"][1] == {"type": "message", "role": "system", "content": "Now in French."}


def test_user_content_parts() -> None:
    user = Message(
        role="user",
        parts=[
            TextPart(text="look"),
            ImagePart(url="https://x/cat.png"),
            ImagePart(data=b"\x89PNG", media_type="image/png", detail="low"),
            DocumentPart(data=b"%PDF", title="a.pdf"),
            DocumentPart(url="https://x/b.pdf"),
        ],
    )
    content = _body(_request(user))["input"][0]["content"]
    assert content == [
        {"type": "input_text", "text": "look"},
        {"type": "input_image", "image_url": "https://x/cat.png", "detail": "auto"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw==", "detail": "low"},
        {
            "type": "input_file",
            "file_data": "data:application/pdf;base64,JVBERg==",
            "filename": "a.pdf",
        },
        {"type": "input_file", "file_url": "https://x/b.pdf"},
    ]


def test_an_assistant_turn_goes_back_as_the_items_it_came_from() -> None:
    turn = Message(
        role="assistant",
        parts=[
            RedactedThinkingPart(data="ENC", id="rs_1"),
            ThinkingPart(text="first", id="rs_1"),
            ThinkingPart(text="second", id="rs_1"),
            ThinkingPart(text="Anthropic's", signature="sig"),  # another provider's: left out
            RedactedThinkingPart(data="opaque"),  # likewise
            TextPart(text="Let me ", id="msg_1", phase="commentary"),
            TextPart(text="check.", id="msg_1", phase="commentary"),
            ToolCallPart(
                id="call_1", name="f", raw_arguments='{"a": 1}', arguments={"a": 1}, item_id="fc_1"
            ),
            ToolCallPart(id="call_2", name="g", arguments={"b": 2}),
        ],
    )
    result = Message(
        role="tool",
        parts=[
            ToolResultPart.from_text("call_1", "one"),
            ToolResultPart.from_text("call_2", "two"),
        ],
    )
    items = _body(_request(Message.user("go"), turn, result))["input"]
    assert items[1:] == [
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [
                {"type": "summary_text", "text": "first"},
                {"type": "summary_text", "text": "second"},
            ],
            "encrypted_content": "ENC",
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [
                {"type": "output_text", "text": "Let me ", "annotations": []},
                {"type": "output_text", "text": "check.", "annotations": []},
            ],
            "id": "msg_1",
            "status": "completed",
            "phase": "commentary",
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "f",
            "arguments": '{"a": 1}',
            "id": "fc_1",
        },
        {"type": "function_call", "call_id": "call_2", "name": "g", "arguments": '{"b":2}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "one"},
        {"type": "function_call_output", "call_id": "call_2", "output": "two"},
    ]


def test_assistant_text_without_an_item_id_uses_the_short_form() -> None:
    turn = Message(
        role="assistant", parts=[TextPart(text="a"), TextPart(text="b", phase="final_answer")]
    )
    items = _body(_request(Message.user("q"), turn))["input"]
    assert items[1:] == [
        {"type": "message", "role": "assistant", "content": "a"},
        {"type": "message", "role": "assistant", "content": "b", "phase": "final_answer"},
    ]


def test_a_stored_reasoning_item_goes_back_by_id() -> None:
    turn = Message(role="assistant", parts=[ThinkingPart(text="", id="rs_9"), TextPart(text="ok")])
    items = _body(_request(Message.user("q"), turn))["input"]
    assert items[1] == {"type": "reasoning", "id": "rs_9", "summary": []}


def test_tool_results_with_images_become_output_parts() -> None:
    result = ToolResultPart(
        call_id="call_1",
        content=[TextPart(text="see"), ImagePart(url="https://x/y.png")],
        is_error=True,
    )
    turn = Message(role="assistant", parts=[ToolCallPart(id="call_1", name="f")])
    items = _body(_request(Message.user("q"), turn, Message(role="user", parts=[result])))["input"]
    assert items[-1] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": [
            {"type": "input_text", "text": "see"},
            {"type": "input_image", "image_url": "https://x/y.png", "detail": "auto"},
        ],
    }


def test_tools_choice_and_structured_output() -> None:
    tools = [
        ToolSpec(name="loose", description="d", parameters={"type": "object"}),
        ToolSpec(name="tight", parameters={"type": "object"}, strict=True),
        ToolSpec(name="bare"),
    ]
    schema = OutputSchema(name="Out", schema={"type": "object"}, description="the answer")
    body = _body(
        _request(
            tools=tools,
            tool_choice=ToolChoice.tool("tight"),
            output_schema=schema,
            parallel_tool_calls=False,
            max_tokens=99,
            temperature=0.5,
            top_p=0.9,
        )
    )
    assert body["tools"] == [
        {
            "type": "function",
            "name": "loose",
            "parameters": {"type": "object"},
            "strict": False,
            "description": "d",
        },
        {
            "type": "function",
            "name": "tight",
            "parameters": {"type": "object"},
            "strict": True,
            "description": None,
        },
        {
            "type": "function",
            "name": "bare",
            "parameters": {"type": "object", "properties": {}},
            "strict": False,
            "description": None,
        },
    ]
    assert body["tool_choice"] == {"type": "function", "name": "tight"}
    assert body["text"] == {
        "format": {
            "type": "json_schema",
            "name": "Out",
            "schema": {"type": "object"},
            "strict": True,
            "description": "the answer",
        }
    }
    assert (body["parallel_tool_calls"], body["max_output_tokens"]) == (False, 99)
    assert (body["temperature"], body["top_p"]) == (0.5, 0.9)
    assert _body(_request(tool_choice=ToolChoice(mode="required")))["tool_choice"] == "required"


def test_structured_output_through_a_forced_tool_where_json_schema_is_missing() -> None:
    registry = Registry.default()
    model = registry.resolve("openai/gpt-4-turbo")  # tools, no JSON-schema output
    target = Target.of(registry.provider("openai"), model, dialect="openai-responses")
    schema = OutputSchema(name="Out", schema={"type": "object"})
    body = _body(_request(output_schema=schema), target)
    assert body["tool_choice"] == {"type": "function", "name": "Out"}
    assert body["tools"][0]["name"] == "Out" and "text" not in body
    reply = _reply(
        [
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "c",
                "name": "Out",
                "arguments": '{"x":1}',
            }
        ]
    )
    parsed = DIALECT.parse(reply, target, _request(output_schema=schema))
    assert parsed.text == '{"x":1}' and parsed.finish_reason == "stop"


def test_responses_options_in_extra() -> None:
    body = _body(
        _request(
            extra={
                "store": True,
                "previous_response_id": "resp_1",
                "reasoning": {"effort": "high", "summary": "auto"},
                "service_tier": "flex",
            }
        )
    )
    assert body["store"] is True and "include" not in body
    assert body["previous_response_id"] == "resp_1"
    assert body["reasoning"] == {"effort": "high", "summary": "auto"}
    assert body["service_tier"] == "flex"
    # chat completions' spelling works too; an explicit include is used as given
    mapped = _body(_request(extra={"reasoning_effort": "low", "include": []}))
    assert mapped["reasoning"] == {"effort": "low"} and mapped["include"] == []
    both = _body(_request(extra={"reasoning": {"summary": "auto"}, "reasoning_effort": "minimal"}))
    assert both["reasoning"] == {"effort": "minimal", "summary": "auto"}


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        ({"store": "yes"}, "extra['store']"),
        ({"include": "reasoning.encrypted_content"}, "extra['include']"),
        ({"include": [1]}, "extra['include']"),
        ({"reasoning": {"effort": 3}}, "extra['reasoning']"),
        ({"reasoning_effort": 1}, "extra['reasoning_effort']"),
    ],
)
def test_bad_responses_options_fail_before_sending(extra: dict[str, Any], option: str) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        DIALECT.build(_request(extra=extra), TARGET)
    assert caught.value.option == option


def test_encrypted_reasoning_is_not_asked_of_a_model_that_does_not_reason() -> None:
    registry = Registry.default()
    plain = Target.of(
        registry.provider("openai"), registry.resolve("openai/gpt-4o"), dialect="openai-responses"
    )
    thinker = Target.of(
        registry.provider("openai"), registry.resolve("openai/gpt-5"), dialect="openai-responses"
    )
    assert "include" not in _body(_request(), plain)
    assert _body(_request(), thinker)["include"] == ["reasoning.encrypted_content"]


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"stop": ["x"]}, "stop sequences"),
        ({"seed": 1}, "seed"),
    ],
)
def test_what_the_api_lacks_is_refused(fields: dict[str, Any], match: str) -> None:
    with pytest.raises(UnsupportedRequestError, match=match):
        DIALECT.build(_request(**fields), TARGET)


def test_parts_it_cannot_send_are_refused() -> None:
    audio = Message(role="user", parts=[AudioPart(data=b"RIFF", media_type="audio/wav")])
    with pytest.raises(UnsupportedRequestError, match="no audio input"):
        DIALECT.build(_request(audio), TARGET)
    odd = Message(role="assistant", parts=[ImagePart(url="https://x")])
    with pytest.raises(UnsupportedRequestError, match="assistant message cannot carry"):
        DIALECT.build(_request(Message.user("q"), odd), TARGET)
    registry = Registry.default()
    blind = Target.of(
        registry.provider("openai"), registry.resolve("openai/gpt-4"), dialect="openai-responses"
    )
    with pytest.raises(CapabilityError):
        DIALECT.build(_request(Message(role="user", parts=[ImagePart(url="https://x")])), blind)


# ---------------------------------------------------------------- responses


def _reply(output: list[dict[str, Any]], **fields: Any) -> bytes:
    body: dict[str, Any] = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": "gpt-5-2025-08-07",
        "output": output,
        "usage": {
            "input_tokens": 100,
            "input_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 5},
            "output_tokens": 30,
            "output_tokens_details": {"reasoning_tokens": 20},
            "total_tokens": 130,
        },
        **fields,
    }
    return json.dumps(body).encode()


REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "a"}, {"type": "summary_text", "text": "b"}],
    "encrypted_content": "ENC",
    "status": "completed",
}
MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "role": "assistant",
    "status": "completed",
    "phase": "commentary",
    "content": [{"type": "output_text", "text": "Checking.", "annotations": []}],
}
CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "f",
    "arguments": '{"a": 1}',
    "status": "completed",
}


def test_output_items_become_parts_with_their_ids() -> None:
    web = {"type": "web_search_call", "id": "ws_1", "status": "completed", "action": {}}
    parsed = DIALECT.parse(_reply([REASONING, web, MESSAGE, CALL]), TARGET)
    assert parsed.message.parts == [
        RedactedThinkingPart(data="ENC", id="rs_1"),
        ThinkingPart(text="a", id="rs_1"),
        ThinkingPart(text="b", id="rs_1"),
        TextPart(text="Checking.", id="msg_1", phase="commentary"),
        ToolCallPart(
            id="call_1", name="f", arguments={"a": 1}, raw_arguments='{"a": 1}', item_id="fc_1"
        ),
    ]
    assert (parsed.id, parsed.model) == ("resp_1", "gpt-5-2025-08-07")
    assert (parsed.finish_reason, parsed.raw_finish_reason) == ("tool_calls", "completed")
    usage = parsed.usage
    assert (usage.input_tokens, usage.output_tokens) == (100, 30)
    assert (usage.cache_read_tokens, usage.cache_write_tokens, usage.reasoning_tokens) == (
        60,
        5,
        20,
    )


def test_parsed_parts_go_back_unchanged() -> None:
    parsed = DIALECT.parse(_reply([REASONING, MESSAGE, CALL]), TARGET)
    sent = _body(_request(Message.user("go"), parsed.message))["input"][1:]
    status = {k: v for k, v in CALL.items() if k != "status"}
    assert sent == [
        {k: v for k, v in REASONING.items() if k != "status"},
        {**MESSAGE, "status": "completed"},
        status,
    ]


def test_reasoning_text_refusals_and_stored_reasoning() -> None:
    shown = {
        "type": "reasoning",
        "id": "rs_2",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "raw"}],
    }
    stored = {"type": "reasoning", "id": "rs_3", "summary": []}
    refusal = {
        "type": "message",
        "id": "msg_2",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "refusal", "refusal": "I can't."}],
    }
    empty = {
        "type": "message",
        "id": "msg_3",
        "role": "assistant",
        "status": "completed",
        "content": [],
    }
    parsed = DIALECT.parse(_reply([shown, stored, refusal, empty]), TARGET)
    assert parsed.message.parts == [
        ThinkingPart(text="raw", id="rs_2"),
        ThinkingPart(text="", id="rs_3"),
        TextPart(text="I can't.", id="msg_2"),
        TextPart(text="", id="msg_3"),
    ]
    assert parsed.finish_reason == "stop"


@pytest.mark.parametrize(
    ("reason", "finish"),
    [
        ("max_output_tokens", "length"),
        ("content_filter", "content_filter"),
        ("new_reason", "other"),
    ],
)
def test_incomplete_reasons_map_to_finish_reasons(reason: str, finish: str) -> None:
    body = _reply([MESSAGE], status="incomplete", incomplete_details={"reason": reason})
    parsed = DIALECT.parse(body, TARGET)
    assert (parsed.finish_reason, parsed.raw_finish_reason) == (finish, reason)


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("server_error", ServerError),
        ("rate_limit_exceeded", RateLimitError),
        ("invalid_prompt", BadRequestError),
        ("image_too_large", BadRequestError),
        ("something_new", StreamInterrupted),
    ],
)
def test_a_failed_response_is_its_typed_error(code: str, kind: type[Exception]) -> None:
    body = _reply([], status="failed", error={"code": code, "message": "it broke"})
    with pytest.raises(kind, match="it broke") as caught:
        DIALECT.parse(body, TARGET)
    assert getattr(caught.value, "code", None) == code


def test_an_error_envelope_sent_with_200() -> None:
    body = b'{"error": {"message": "bad key", "type": "invalid_request_error", "code": "x"}}'
    with pytest.raises(BadRequestError, match="bad key"):
        DIALECT.parse(body, TARGET)


def test_a_body_that_is_not_a_response() -> None:
    with pytest.raises(InvalidResponseError):
        DIALECT.parse(b"<html>", TARGET)
    with pytest.raises(InvalidResponseError):
        DIALECT.parse(b'{"output": 5}', TARGET)


def test_http_errors_use_the_openai_envelope() -> None:
    error = DIALECT.parse_error(
        429,
        {"retry-after": "2", "x-request-id": "req_1"},
        b'{"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}',
        TARGET,
    )
    assert isinstance(error, RateLimitError)
    assert (error.retry_after, error.request_id, error.code) == (
        2.0,
        "req_1",
        "rate_limit_exceeded",
    )


def test_embeddings_go_to_the_same_provider() -> None:
    http = DIALECT.build_embeddings(["a"], TARGET, dimensions=4)
    assert http.url == "http://127.0.0.1:9/v1/embeddings"
    assert json.loads(http.body)["dimensions"] == 4
    got = DIALECT.parse_embeddings(
        b'{"data": [{"index": 0, "embedding": [0.5]}], "model": "e",'
        b' "usage": {"prompt_tokens": 1}}',
        TARGET,
    )
    assert got.vectors == [[0.5]]


def test_other_dialects_leave_responses_reasoning_out() -> None:
    parsed = DIALECT.parse(_reply([REASONING, MESSAGE, CALL]), TARGET)
    request = _request(Message.user("go"), parsed.message, Message.user("more"))
    for dialect in ("anthropic-messages", "openai-chat"):
        other = Target.of(dialect=dialect, base_url="http://127.0.0.1:9/v1", name="m")
        sent = DIALECT_OF[dialect].build(request, other).body
        assert b"ENC" not in sent and b"rs_1" not in sent, dialect
        assert b"Checking." in sent and b"call_1" in sent


DIALECT_OF = {
    "anthropic-messages": AnthropicMessagesDialect(),
    "openai-chat": OpenAIChatDialect(),
}


def test_reasoning_that_ends_a_turn_is_left_out() -> None:
    cut = Message(
        role="assistant",
        parts=[RedactedThinkingPart(data="E1", id="rs_1"), ThinkingPart(text="hm", id="rs_1")],
    )
    kept = Message(
        role="assistant",
        parts=[
            RedactedThinkingPart(data="E2", id="rs_2"),
            TextPart(text="ok", id="msg_2"),
            RedactedThinkingPart(data="E3", id="rs_3"),  # nothing after it in its turn
        ],
    )
    items = _body(_request(Message.user("q"), cut, Message.user("go on"), kept))["input"]
    assert [(i["type"], i.get("id")) for i in items] == [
        ("message", None),
        ("message", None),
        ("reasoning", "rs_2"),
        ("message", "msg_2"),
    ]


# A summary part is never empty here: an empty one is indistinguishable from an id alone.
_summaries = st.lists(st.text(min_size=1, max_size=12), max_size=2)
_texts = st.lists(st.text(max_size=12), min_size=1, max_size=2)


@st.composite
def _outputs(draw: st.DrawFn) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for n, kind in enumerate(draw(st.lists(st.sampled_from(["r", "m", "f"]), max_size=7))):
        if kind == "r":
            item: dict[str, Any] = {
                "type": "reasoning",
                "id": f"rs_{n}",
                "summary": [{"type": "summary_text", "text": t} for t in draw(_summaries)],
            }
            if draw(st.booleans()):
                item["encrypted_content"] = draw(st.text(min_size=1, max_size=12))
        elif kind == "m":
            item = {
                "type": "message",
                "id": f"msg_{n}",
                "role": "assistant",
                "status": "completed",
                "content": [
                    {"type": "output_text", "text": t, "annotations": []} for t in draw(_texts)
                ],
            }
            phase = draw(st.sampled_from([None, "commentary", "final_answer"]))
            if phase:
                item["phase"] = phase
        else:
            arguments = draw(st.dictionaries(st.sampled_from("ab"), st.integers()))
            item = {
                "type": "function_call",
                "id": f"fc_{n}",
                "call_id": f"call_{n}",
                "name": draw(st.sampled_from(["f", "g"])),
                "arguments": json.dumps(arguments),
            }
        items.append(item)
    return items


@given(output=_outputs())
def test_any_parsed_turn_goes_back_as_the_items_it_came_from(output: list[dict[str, Any]]) -> None:
    parsed = DIALECT.parse(_reply(output), TARGET)
    sent = _body(_request(Message.user("q"), parsed.message))["input"][1:]
    expected = [dict(i) for i in output]
    while expected and expected[-1]["type"] == "reasoning":
        expected.pop()  # reasoning that ends a turn is left out
    assert sent == expected
