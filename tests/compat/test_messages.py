"""Messages: lossless conversion to and from the neutral ``Message``; saved conversations."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from atoll import (
    AbstractMessage,
    AIMessage,
    AIToolRequest,
    AnnotationMessage,
    DataMessage,
    SystemMessage,
    ToolMessage,
    TracerMessage,
    UserMessage,
    UserMessageWithImages,
    from_neutral,
    load_conversation,
    save_conversation,
    to_neutral,
)
from atoll_wire import (
    ImagePart,
    Message,
    RedactedThinkingPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    Usage,
)
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


class Person(BaseModel):
    name: str
    age: int


def _round_trip(message: Message) -> Message:
    (legacy,) = from_neutral(message)
    back = to_neutral(legacy)
    assert back is not None
    return back


def test_thinking_and_its_signature_survive() -> None:
    message = Message(
        role="assistant",
        parts=[
            ThinkingPart(text="step by step", signature="sig-123"),
            RedactedThinkingPart(data="opaque"),
            TextPart(text="The answer."),
        ],
    )
    (legacy,) = from_neutral(message)
    assert isinstance(legacy, AIMessage)
    assert legacy.content == "The answer."
    assert legacy.extras is not None and legacy.extras["thinking"] == "step by step"
    assert _round_trip(message) == message


def test_interleaved_thinking_and_tool_calls_keep_their_order() -> None:
    message = Message(
        role="assistant",
        parts=[
            ThinkingPart(text="first", signature="s1"),
            ToolCallPart(id="c1", name="f", arguments={"a": 1}, raw_arguments='{"a": 1}'),
            ThinkingPart(text="second", signature="s2"),
            ToolCallPart(id="c2", name="g", arguments={}, raw_arguments="{}"),
        ],
    )
    (legacy,) = from_neutral(message)
    assert isinstance(legacy, AIToolRequest)
    assert [c.name for c in legacy.tool_calls] == ["f", "g"]
    assert _round_trip(message) == message


def test_an_edited_reply_keeps_its_thinking_then_the_new_text() -> None:
    message = Message(
        role="assistant",
        parts=[ThinkingPart(text="t", signature="s"), TextPart(text="old")],
    )
    (legacy,) = from_neutral(message)
    assert isinstance(legacy, AIMessage)
    legacy.content = "new"
    assert to_neutral(legacy) == Message(
        role="assistant", parts=[ThinkingPart(text="t", signature="s"), TextPart(text="new")]
    )


def test_user_images_and_tool_results() -> None:
    user = Message(
        role="user",
        parts=[TextPart(text="look"), ImagePart(data=PNG, media_type="image/png")],
    )
    (legacy,) = from_neutral(user)
    assert isinstance(legacy, UserMessageWithImages)
    assert legacy.image_url[0].startswith("data:image/png;base64,")
    tool = Message(
        role="tool",
        parts=[
            ToolResultPart.from_text("c1", "one", name="f"),
            ToolResultPart.from_text("c2", "two", name="g"),
        ],
    )
    results = from_neutral(tool)
    assert results == [
        ToolMessage(content="one", tool_call_id="c1", name="f"),
        ToolMessage(content="two", tool_call_id="c2", name="g"),
    ]
    assert [to_neutral(r) for r in results] == [
        Message(role="tool", parts=[p]) for p in tool.parts if isinstance(p, ToolResultPart)
    ]


def test_local_only_messages_are_not_sent() -> None:
    assert to_neutral(DataMessage(content=[1.0])) is None
    assert to_neutral(AnnotationMessage("note")) is None


def test_image_path_becomes_a_data_url(tmp_path: Path) -> None:
    path = tmp_path / "dot.png"
    path.write_bytes(PNG)
    message = UserMessageWithImages("what?", image_path=path)
    assert message.image_url[0].startswith("data:image/png;base64,iVBORw0KGgo")
    with pytest.raises(ValueError, match="image_url or image_path"):
        UserMessageWithImages("none")


_text = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=20)
_parts = st.lists(
    st.one_of(
        _text.map(lambda t: TextPart(text=t)),
        st.tuples(_text, st.none() | _text).map(lambda p: ThinkingPart(text=p[0], signature=p[1])),
        _text.map(lambda d: RedactedThinkingPart(data=d)),
    ),
    min_size=1,
    max_size=5,
)


@given(_parts)
def test_any_assistant_reply_round_trips(
    parts: list[TextPart | ThinkingPart | RedactedThinkingPart],
) -> None:
    message = Message(role="assistant", parts=list(parts))
    assert _round_trip(message) == message


def _conversation() -> list[AbstractMessage]:
    return [
        SystemMessage("Be {{tone}}."),
        UserMessage("Hi", name="ann"),
        UserMessageWithImages("see", image_url=["https://x.test/a.png"]),
        AIMessage(
            "reply",
            status=200,
            tokens=(10, 2),
            elapsed=0.5,
            cost=0.0001,
            usage=Usage(input_tokens=10, output_tokens=2, cache_read_tokens=4),
            extras={
                "thinking": "t",
                "parts": [{"type": "thinking", "text": "t", "signature": "s"}],
            },
            finish_reason="stop",
            sample_id=2,
        ),
        AIToolRequest(
            tool_calls=[ToolMessage(tool_call_id="c1", raw='{"a":1}', args={"a": 1}, name="f")],
            tokens=(3, 4),
        ),
        ToolMessage(content="done", tool_call_id="c1", raw='{"a":1}', args={"a": 1}, name="f"),
        DataMessage(content=Person(name="James", age=30), tokens=(5, 6), cost=None),
        DataMessage(content=[[0.1, 0.2], [0.3, 0.4]]),
        AnnotationMessage("kept locally", tags=["review"]),
    ]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    conversation = _conversation()
    path = tmp_path / "conv" / "saved.json"
    save_conversation(path, conversation)
    loaded = load_conversation(path, types=[Person])
    assert loaded == conversation
    assert [m.run_id for m in loaded if isinstance(m, AIMessage)] == [
        m.run_id for m in conversation if isinstance(m, AIMessage)
    ]
    tags = [item["_type"] for item in json.loads(path.read_text())]
    assert tags[:3] == ["systemmessage", "usermessage", "usermessagewithimages"]


def test_extracted_data_without_its_type_comes_back_as_data() -> None:
    stream = io.StringIO()
    save_conversation(stream, [DataMessage(content=Person(name="Ann", age=3))])
    stream.seek(0)
    (loaded,) = load_conversation(stream)
    assert isinstance(loaded, DataMessage) and loaded.content == {"name": "Ann", "age": 3}


def test_a_legacy_conversation_file_loads() -> None:
    legacy = [
        {"content": "Act as a helpful AI assistant", "variables": [], "_type": "systemmessage"},
        {"content": "Hi", "variables": [], "name": None, "_type": "usermessage"},
        {
            "content": "Hello!",
            "status": 200,
            "name": None,
            "tokens": [12, 3],
            "elapsed": 0.9,
            "cost": 1.2e-5,
            "usage": {
                "input_tokens": 12,
                "output_tokens": 3,
                "cache_read_tokens": 0,
                "model_id": "gpt-4o-mini",
                "cost": 1.2e-5,
                "extras": {},
            },
            "log_prob": None,
            "extras": {},
            "finish_reason": "stop",
            "run_id": 1234,
            "sample_id": None,
            "_type": "aimessage",
        },
    ]
    loaded = load_conversation(io.StringIO(json.dumps(legacy)))
    reply = loaded[-1]
    assert isinstance(reply, AIMessage)
    assert reply.tokens == (12, 3) and reply.run_id == 1234
    assert reply.usage == Usage(input_tokens=12, output_tokens=3, cache_read_tokens=0)


def test_tracer_messages_round_trip(tmp_path: Path) -> None:
    traced = TracerMessage(
        object=AIMessage("hi", tokens=(1, 1)),
        model="openai/gpt-4o-mini",
        meta={"inputs": [UserMessage("Hi")], "api_kwargs": {"temperature": 0.1}},
    )
    assert traced.content == "hi" and traced.tokens == (1, 1)
    save_conversation(tmp_path / "t.json", [traced])
    (loaded,) = load_conversation(tmp_path / "t.json")
    assert loaded == traced


def test_unknown_type_tags_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown message type 'nonsense'"):
        load_conversation(io.StringIO('[{"_type": "nonsense"}]'))
