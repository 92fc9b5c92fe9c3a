"""A model can prefer a dialect as data (``ModelSpec.dialect``), checked at both ends.

The registry checks the value is a dialect id; atoll_dialects refuses an id nobody registered
when a Client is made; a target speaks the caller's dialect, else the model's, else the
provider's, and applies each party's quirks only to its own dialect.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from atoll_dialects import (
    Client,
    OpenAIChatQuirks,
    OpenAIResponsesQuirks,
    UnknownDialectError,
    registered_dialects,
    resolve_target,
)
from atoll_registry import ModelSpec, Registry, RegistryDataError


def test_every_packaged_model_dialect_is_registered_and_its_target_resolves() -> None:
    registry = Registry.default()
    preferring = [m for m in registry.models() if m.dialect is not None]
    assert {m.qualified_name for m in preferring} >= {"openai/o3-pro", "openai/gpt-5-pro"}
    for model in preferring:
        assert model.dialect in registered_dialects(), model.qualified_name
        target = resolve_target(model.qualified_name, registry=registry, api_key="k")
        assert target.dialect.name == model.dialect
        assert target.base_url == registry.provider(model.provider).base_url


def test_the_callers_dialect_wins_and_quirks_follow_their_dialect() -> None:
    registry = Registry.default()
    own = resolve_target("openai/o3-pro", registry=registry, api_key="k")
    assert isinstance(own.quirks, OpenAIResponsesQuirks)  # the provider's chat quirks are not read
    assert dict(own.auth.headers()) == {"Authorization": "Bearer k"}
    chat = resolve_target("openai/o3-pro", registry=registry, api_key="k", dialect="openai-chat")
    assert chat.dialect.name == "openai-chat"
    assert isinstance(chat.quirks, OpenAIChatQuirks)
    assert chat.quirks.max_tokens_field == "max_completion_tokens"  # OpenAI's own chat quirks
    asked = resolve_target(
        "openai/gpt-5", registry=registry, api_key="k", dialect="openai-responses"
    )
    assert asked.dialect.name == "openai-responses"


def _registry(tmp_path: Path, **model: object) -> Registry:
    entry = {"id": "special", "provider": "openai", **model}
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": [entry]}))
    return Registry.load(path)


def test_a_models_quirks_are_for_its_own_dialect(tmp_path: Path) -> None:
    registry = _registry(
        tmp_path, dialect="openai-responses", quirks={"store": True, "notes": ["stored"]}
    )
    target = resolve_target("openai/special", registry=registry, api_key="k")
    assert isinstance(target.quirks, OpenAIResponsesQuirks)
    assert target.quirks.store is True and target.quirks.notes == ("stored",)
    # Spoken in chat completions, the model's Responses quirks do not apply (nor fail).
    chat = resolve_target("openai/special", registry=registry, api_key="k", dialect="openai-chat")
    assert isinstance(chat.quirks, OpenAIChatQuirks)


def test_an_unregistered_dialect_fails_when_the_client_is_made(tmp_path: Path) -> None:
    registry = _registry(tmp_path, dialect="openai-assistants")
    with pytest.raises(UnknownDialectError, match="openai-assistants"):
        Client("openai/special", registry=registry, api_key="k")


@pytest.mark.parametrize("value", ["", " openai-responses"])
def test_the_registry_refuses_what_is_not_a_dialect_id(tmp_path: Path, value: str) -> None:
    with pytest.raises(RegistryDataError, match="not a dialect id"):
        _registry(tmp_path, dialect=value)
    with pytest.raises(RegistryDataError, match="not a dialect id"):
        Registry.default().register(ModelSpec(id="x", provider="openai", dialect=value))
