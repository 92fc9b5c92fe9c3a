"""Fixtures for the compat tests: a scripted local server and a clean global state per test.

The legacy API keeps global state (preferences, the shared registry, the template store, the
module conversation); every test starts from the packaged state and leaves nothing behind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from atoll import _convenience, _models, _preferences, _templates
from atoll_registry import Registry
from atoll_testing import ChatInput, FakeLLMServer, ToolCall, Turn

PEOPLE = {"James": 30, "Jack": 19}


def _schema_name(body: dict[str, Any]) -> str | None:
    fmt = body.get("response_format") or {}
    schema = fmt.get("json_schema") or {}
    return schema.get("name")


def _classification(body: dict[str, Any], text: str) -> str:
    schema = body["response_format"]["json_schema"]["schema"]
    labels: list[str] = schema["properties"]["choice"]["enum"]
    picked = next((label for label in labels if label.lower() in text.lower()), labels[0])
    return json.dumps({"choice": picked})


def scripted(request: ChatInput) -> Turn:
    """The test model: answers depend on the last user text and on what was asked for."""
    text = request.last_user_text
    body: dict[str, Any] = json.loads(request.body) if request.body else {}
    if request.tool_results:
        last = request.tool_results[-1]
        return Turn(text=f"tool said: {last.content}")
    if _schema_name(body) == "classification":
        return Turn(text=_classification(body, text))
    if _schema_name(body) == "Person":
        return Turn(text=json.dumps({"name": "James", "age": 30}))
    if "Person" in request.tool_names:
        name = next((n for n in PEOPLE if n in text), "James")
        return Turn(
            tool_calls=[ToolCall(name="Person", arguments={"name": name, "age": PEOPLE[name]})]
        )
    if "MyMeasurement" in request.tool_names:
        measured = {"age": 30, "height": 180, "weight": 80.0}
        return Turn(tool_calls=[ToolCall(name="MyMeasurement", arguments=measured)])
    weather = [n for n in request.tool_names if n.startswith("get_weather")]
    if weather and "weather" in text:
        return Turn(tool_calls=[ToolCall(name=weather[0], arguments={"city": "Paris"})])
    if "think" in text:
        return Turn(thinking="Let me think it through.", text="Thought about it.")
    if "cached" in text:
        return Turn(
            text="from the cache",
            input_tokens=13_000,
            cache_read_tokens=10_000,
            cache_write_tokens=2_000,
            output_tokens=500,
        )
    return Turn(text=f"echo: {text}")


MODELS = {
    "gpt-4o-mini": scripted,
    "claude-haiku-4-5": scripted,
    "claude-haiku-5-5": scripted,
    "echo-custom": scripted,
}


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    """One scripted server per test module."""
    with FakeLLMServer(models=MODELS).run_in_thread() as server:
        yield server


@pytest.fixture
def server(llm: FakeLLMServer) -> FakeLLMServer:
    """The module's server with an empty log."""
    llm.clear()
    return llm


@pytest.fixture(autouse=True)
def _clean_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ATOLL_PREFERENCES", str(tmp_path / "preferences.json"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    monkeypatch.delenv("ATOLL_REGISTRY", raising=False)
    _preferences.reload_preferences()
    Registry.reset_default()
    _templates.load_templates_()
    yield
    _preferences.reload_preferences()
    Registry.reset_default()
    _models._SCHEMAS.clear()  # pyright: ignore[reportPrivateUsage]
    _convenience.CONV_HISTORY.clear()
    _templates.TEMPLATE_PATH[1:] = []
    _templates.load_templates_()


@pytest.fixture
def redirect(
    server: FakeLLMServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> FakeLLMServer:
    """Point the registry's openai and anthropic providers at the local server (ATOLL_REGISTRY).

    Legacy code that names models only (``model="gpt4om"``) then runs unchanged against it.
    """
    import msgspec

    registry = Registry.default()
    providers: list[dict[str, Any]] = []
    for name in ("openai", "anthropic"):
        data = msgspec.to_builtins(registry.provider(name))
        data["base_url"] = server.base_url
        providers.append(data)
    path = tmp_path / "override.json"
    path.write_text(json.dumps({"schema_version": 1, "providers": providers}))
    monkeypatch.setenv("ATOLL_REGISTRY", str(path))
    Registry.reset_default()
    return server
