"""Shared fixtures: one scripted server per module, Clients pointed at it and closed after."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from atoll_dialects import Client, RetryPolicy
from atoll_testing import ChatInput, FakeLLMServer, Turn

Model = Callable[[ChatInput], Turn]
MakeClient = Callable[..., Client]


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


@pytest.fixture
async def make_client(llm: FakeLLMServer) -> AsyncIterator[MakeClient]:
    """``make_client(model_fn, name="custom-model")``: a Client whose model answers with model_fn.

    A registry name (``openai/gpt-4o-mini``) keeps that model's facts (capabilities, prices,
    dialect); the server answers under its wire name.
    """
    llm.clear()
    made: list[Client] = []

    def make(model: Model, name: str = "scripted", **options: object) -> Client:
        client = Client(
            name,
            base_url=llm.base_url,
            api_key="test-key",
            retry=RetryPolicy(attempts=1),
            **options,  # type: ignore[arg-type]
        )
        llm.models[client.targets[0].request_model] = model
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
