"""``client.models()``: the provider's list, every page, merged with the registry's facts."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncIterator

import pytest
from atoll_dialects import (
    AnthropicMessagesDialect,
    Client,
    InvalidResponseError,
    ModelInfo,
    OpenAIChatDialect,
    RetryPolicy,
    ServerError,
    SyncClient,
    Target,
    _anthropic_extras,
)
from atoll_testing import FakeLLMServer, Script

pytestmark = pytest.mark.anyio

KEY = "sk-k"
FAST = RetryPolicy(attempts=2, initial_backoff=0.0, max_backoff=0.0)


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    models = {"gpt-4o-mini": Script(["hi"]), "my-finetune": Script(["hi"])}
    async with FakeLLMServer(models=models, api_key=KEY) as srv:  # a wrong key would be a 401
        yield srv


def by_id(models: list[ModelInfo]) -> dict[str, ModelInfo]:
    return {m.id: m for m in models}


async def test_a_custom_server_lists_what_it_serves(server: FakeLLMServer) -> None:
    async with Client("echo", base_url=server.base_url, api_key=KEY) as client:
        models = by_id(await client.models())
    assert {"echo", "gpt-4o-mini", "my-finetune"} <= set(models)
    echo = models["echo"]
    assert (echo.provider, echo.owned_by, echo.known) == ("custom", "atoll", False)
    assert echo.created == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert echo.raw["object"] == "model"
    # A custom server's names mean nothing to the registry, even a familiar one.
    assert models["gpt-4o-mini"].known is False and models["gpt-4o-mini"].price is None
    (sent,) = server.requests
    assert (sent.method, sent.path) == ("GET", "/v1/models")


async def test_a_registry_provider_gets_the_registry_facts(server: FakeLLMServer) -> None:
    async with Client("openai/gpt-4o-mini", base_url=server.base_url, api_key=KEY) as client:
        models = by_id(await client.models())
    known = models["gpt-4o-mini"]
    assert known.known and known.registry_name == "openai/gpt-4o-mini"
    assert known.context_window == 128_000 and known.max_output_tokens is not None
    assert known.price is not None and known.price.input is not None
    unknown = models["my-finetune"]
    assert not unknown.known and unknown.context_window is None


async def test_anthropic_lists_are_followed_page_by_page(
    server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_anthropic_extras, "MODELS_PAGE_SIZE", 2)
    server.models.update({f"claude-{n}": Script(["hi"]) for n in range(5)})
    async with Client("anthropic/claude-sonnet-4-5", base_url=server.base_url, api_key=KEY) as c:
        models = await c.models()
    listed = [m.id for m in models]
    served = ["echo", "stream-200", *sorted(server.models)]
    assert listed == served  # every page, in order, none twice
    assert len(server.requests) == math.ceil(len(served) / 2)
    first, second = server.requests[:2]
    assert first.query == "limit=2" and second.query == f"limit=2&after_id={listed[1]}"
    assert first.headers["anthropic-version"] == "2023-06-01"
    assert models[0].display_name == listed[0]
    assert models[0].created == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


async def test_a_page_is_retried_like_any_call(server: FakeLLMServer) -> None:
    server.inject("status=503")
    async with Client("echo", base_url=server.base_url, api_key=KEY, retry=FAST) as client:
        models = await client.models()
    assert "echo" in by_id(models) and len(server.requests) == 2
    server.inject("status=503", times=2)
    async with Client("echo", base_url=server.base_url, api_key=KEY, retry=FAST) as client:
        with pytest.raises(ServerError):
            await client.models()


def test_model_list_bodies_are_read_leniently() -> None:
    target = Target.of(name="m")
    body = b'{"data": [{"id": "a", "created": 0}, {"no_id": true}, 5, {"id": "b"}]}'
    page = OpenAIChatDialect().parse_models(body, target)
    assert [m.id for m in page.models] == ["a", "b"] and page.cursor is None
    assert page.models[0].created == dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    with pytest.raises(InvalidResponseError, match="not JSON"):
        OpenAIChatDialect().parse_models(b"<html>", target)
    with pytest.raises(InvalidResponseError, match="'data'"):
        OpenAIChatDialect().parse_models(b'{"models": []}', target)
    anthropic = AnthropicMessagesDialect()
    more = (
        b'{"data": [{"id": "x", "created_at": "2025-02-03T04:05:06Z"}],'
        b' "has_more": true, "last_id": "x"}'
    )
    page = anthropic.parse_models(more, target)
    assert page.cursor == "x" and page.models[0].created == dt.datetime(
        2025, 2, 3, 4, 5, 6, tzinfo=dt.UTC
    )
    last = anthropic.parse_models(b'{"data": [], "has_more": false, "last_id": null}', target)
    assert last.cursor is None


def test_sync_models() -> None:
    with FakeLLMServer().run_in_thread() as server:
        with SyncClient("echo", base_url=server.base_url, api_key=KEY) as client:
            assert "echo" in by_id(client.models())
