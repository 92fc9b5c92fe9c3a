"""Templates: legacy files read unchanged, the starter library, search, creation, use in calls."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from atoll import (
    AITemplate,
    CustomOpenAISchema,
    SystemMessage,
    TemplateError,
    UserMessage,
    aigenerate,
    aitemplates,
    create_template,
    load_template,
    load_templates_,
    save_template,
)
from atoll._templates import TEMPLATE_STORE, render_template
from atoll_testing import FakeLLMServer

GOLDEN = Path(__file__).parent / "golden"


def test_a_legacy_template_file_loads_unchanged() -> None:
    template, metadata = load_template(GOLDEN / "LegacyPirate.json")
    assert template == [
        SystemMessage("You must speak like a pirate."),
        UserMessage("Say hi to {{name}}"),
    ]
    assert metadata[0].version == "1.2"
    assert metadata[0].description.startswith("Greets someone like a pirate")


def test_the_starter_library_ships_with_the_package() -> None:
    names = {m.name for m in aitemplates("", limit=100)}
    assert {
        "AssistantAsk",
        "BlankSystemUser",
        "JudgeIsItTrue",
        "InputClassifier",
        "ExtractData",
        "OCRTask",
        "FeedbackFromEvaluator",
    } <= names
    (ask,) = aitemplates(AITemplate("AssistantAsk"))
    assert ask.variables == ["ask"]
    assert ask.user_preview == "# Question\n\n{{ask}}"
    assert ask.source == "atoll starter library"


def test_search_by_text_regex_and_limit() -> None:
    found = [m.name for m in aitemplates("classif")]
    assert "InputClassifier" in found
    assert [m.name for m in aitemplates("PLACEHOLDERS: `IT`")] == ["JudgeIsItTrue"]
    by_regex = [m.name for m in aitemplates(re.compile(r"\{\{question\}\}"))]
    assert by_regex == ["QuestionRouter"]
    assert len(aitemplates("", limit=3)) == 3


def test_template_by_name_in_a_call() -> None:
    rendered = aigenerate(
        ":AssistantAsk", ask="What is an atoll?", dry_run=True, return_all=True, model="gpt4om"
    )
    assert rendered[1] == {"role": "user", "content": "# Question\n\nWhat is an atoll?"}
    same = aigenerate(
        AITemplate("AssistantAsk"), ask="What is an atoll?", dry_run=True, return_all=True
    )
    assert same == rendered


def test_an_unknown_template_suggests_close_names() -> None:
    with pytest.raises(TemplateError) as caught:
        aigenerate(":AssistantAks", ask="x", dry_run=True)
    assert caught.value.suggestions[0] == "AssistantAsk"
    assert isinstance(caught.value, LookupError)


def test_create_template_and_load_as(server: FakeLLMServer) -> None:
    template = create_template("You speak like a {{animal}}.", "Greet {{name}}.", load_as="Greeter")
    assert template == [
        SystemMessage("You speak like a {{animal}}."),
        UserMessage("Greet {{name}}."),
    ]
    reply = aigenerate(
        CustomOpenAISchema(),
        ":Greeter",
        animal="cat",
        name="Ann",
        model="gpt-4o-mini",
        api_kwargs={"url": server.base_url},
        verbose=False,
    )
    assert reply.content == "echo: Greet Ann."
    assert server.requests[-1].json()["messages"][0]["content"] == "You speak like a cat."
    assert create_template(user="Only {{x}}")[0] == SystemMessage("Act as a helpful AI assistant")
    with pytest.raises(TypeError):
        create_template("system only")


def test_save_then_load_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mine" / "nested"
    template = [SystemMessage("Be a {{role}}."), UserMessage("{{task}}")]
    save_template(folder / "RoleTask.json", template, description="A role and a task", version="2")
    shutil.copy(GOLDEN / "LegacyPirate.json", folder / "LegacyPirate.json")
    load_templates_(tmp_path / "mine")
    assert render_template("RoleTask") == template
    (meta,) = aitemplates(AITemplate("RoleTask"))
    assert (meta.description, meta.version, meta.variables) == (
        "A role and a task",
        "2",
        ["role", "task"],
    )
    assert "LegacyPirate" in TEMPLATE_STORE
    # A full reload keeps the remembered folder.
    load_templates_()
    assert "RoleTask" in TEMPLATE_STORE and "AssistantAsk" in TEMPLATE_STORE


def test_a_broken_template_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "Bad.json").write_text('{"not": "a list"}')
    with pytest.raises(TemplateError, match=r"Bad\.json"):
        load_templates_(tmp_path)
    with pytest.raises(TemplateError, match="not a folder"):
        load_templates_(tmp_path / "missing")


def test_every_starter_template_renders() -> None:
    for meta in aitemplates("", limit=100):
        values: dict[str, Any] = dict.fromkeys(meta.variables, "X")
        rendered = aigenerate(AITemplate(meta.name), dry_run=True, return_all=True, **values)
        assert "{{" not in str(rendered), meta.name
