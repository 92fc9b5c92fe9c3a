"""Golden tests of the first rendering pass: placeholders, the system message, conversations."""

from __future__ import annotations

import logging

import pytest
from atoll import (
    AIMessage,
    AnnotationMessage,
    DataMessage,
    PlaceholderError,
    RenderError,
    SystemMessage,
    UserMessage,
    UserMessageWithImages,
    aigenerate,
)
from atoll._render import DEFAULT_SYSTEM_PROMPT, render_conversation


def test_variables_are_found_in_order_without_duplicates() -> None:
    message = UserMessage("{{b}} and {{a}} and {{b}} again, {{ spaced }}")
    assert message.variables == ["b", "a", " spaced "]


def test_only_declared_placeholders_are_filled_and_missing_ones_stay_verbatim() -> None:
    prompt = [SystemMessage("You are {{persona}}."), UserMessage("Say {{word}} to {{name}}.")]
    rendered, used = render_conversation(
        prompt, replacements={"persona": "a pirate", "name": "Ann"}
    )
    assert rendered == [SystemMessage("You are a pirate."), UserMessage("Say {{word}} to Ann.")]
    assert used == {"persona", "name"}


def test_a_message_fills_only_the_variables_it_declares() -> None:
    # The legacy rule: replacements follow `variables`, not a blind text substitution.
    message = UserMessage("Hello {{name}}", variables=["other"])
    rendered, used = render_conversation([message], replacements={"name": "Ann", "other": 1})
    assert isinstance(rendered[-1], UserMessage)
    assert rendered[-1].content == "Hello {{name}}"
    assert used == {"other"}


@pytest.mark.parametrize("name", ["model", "api_kwargs", "return_all", "conversation", "api_key"])
def test_reserved_names_are_rejected(name: str) -> None:
    with pytest.raises(PlaceholderError) as caught:
        UserMessage("Use {{" + name + "}} here")
    assert caught.value.names == (name,)
    assert isinstance(caught.value, ValueError)


def test_default_system_message_is_added_first() -> None:
    rendered, _ = render_conversation([UserMessage("Hi")])
    assert rendered == [SystemMessage(DEFAULT_SYSTEM_PROMPT), UserMessage("Hi")]
    assert DEFAULT_SYSTEM_PROMPT == "Act as a helpful AI assistant"


def test_system_message_moves_to_the_front() -> None:
    rendered, _ = render_conversation([UserMessage("Hi"), SystemMessage("Be brief.")])
    assert rendered == [SystemMessage("Be brief."), UserMessage("Hi")]


def test_two_system_messages_are_refused() -> None:
    with pytest.raises(RenderError, match="only one system message"):
        render_conversation([SystemMessage("A")], conversation=[SystemMessage("B")])


def test_no_system_message_adds_none_and_demotes_the_prompts() -> None:
    rendered, _ = render_conversation([UserMessage("Hi")], no_system_message=True)
    assert rendered == [UserMessage("Hi")]
    rendered, _ = render_conversation(
        [SystemMessage("Rules {{x}}"), UserMessage("Hi")],
        no_system_message=True,
        replacements={"x": 1},
    )
    assert rendered == [UserMessage("Rules 1"), UserMessage("Hi")]


def test_the_conversation_is_copied_never_changed() -> None:
    conversation = [SystemMessage("S"), UserMessage("first"), AIMessage("reply")]
    before = list(conversation)
    rendered, _ = render_conversation([UserMessage("second {{x}}")], conversation=conversation)
    assert conversation == before
    assert rendered == [*before, UserMessage("second {{x}}")]


def test_earlier_messages_are_not_rerendered() -> None:
    conversation = [SystemMessage("S"), UserMessage("literal {{x}}")]
    rendered, used = render_conversation(
        [UserMessage("now {{x}}")], conversation=conversation, replacements={"x": "X"}
    )
    assert [m.content for m in rendered if isinstance(m, UserMessage)] == ["literal {{x}}", "now X"]
    assert used == {"x"}


def test_annotations_and_data_are_not_sent(caplog: pytest.LogCaptureFixture) -> None:
    prompt = [AnnotationMessage("a note"), UserMessage("Hi"), DataMessage(content=[1.0])]
    with caplog.at_level(logging.WARNING, logger="atoll"):
        rendered, _ = render_conversation(prompt)
    assert rendered == [SystemMessage(DEFAULT_SYSTEM_PROMPT), UserMessage("Hi")]
    assert "DataMessage is not sent" in caplog.text


def test_images_keep_their_urls_and_fill_placeholders() -> None:
    message = UserMessageWithImages("Describe {{what}}", image_url="https://x.test/a.png")
    rendered, _ = render_conversation([message], replacements={"what": "the logo"})
    assert rendered[-1] == UserMessageWithImages(
        "Describe the logo", image_url=["https://x.test/a.png"]
    )


def test_name_user_applies_to_user_messages_without_a_name() -> None:
    rendered, _ = render_conversation(
        [UserMessage("a"), UserMessage("b", name="Bob")], name_user="Ann"
    )
    assert [m.name for m in rendered if isinstance(m, UserMessage)] == ["Ann", "Bob"]


def test_an_unused_keyword_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="atoll"):
        aigenerate("Hi {{name}}", name="Ann", temperature=0.2, dry_run=True)
    assert "temperature matched no {{placeholder}}" in caplog.text
    assert "name" not in caplog.text.split("argument(s)")[1].split("matched")[0]


def test_prompt_must_be_messages() -> None:
    with pytest.raises(TypeError, match=r"prompt\[1\] is a int"):
        aigenerate([UserMessage("a"), 3], dry_run=True)  # type: ignore[list-item]
