"""The agent loop's own tests, run unchanged on the OpenAI Responses dialect.

The test functions of ``tests/agents`` (the loop, runs, approval) are loaded as they are; only
the fixtures they ask for differ: ``make_client`` here makes Clients that speak
``openai-responses`` to the local server, so every turn goes through ``POST /v1/responses``,
tool results go back as ``function_call_output`` items and the server checks their call ids.
The one test that reads the chat-completions request body (a wire shape, not the loop) stays
with the chat dialect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from _pytest.pathlib import import_path
from atoll_dialects import Client, RetryPolicy
from atoll_testing import ChatInput, FakeLLMServer, Turn

pytestmark = pytest.mark.anyio

TESTS = Path(__file__).resolve().parent.parent
MODULES = ("test_loop", "test_runs", "test_approval")
CHAT_SHAPED = {"test_tools_see_run_context_outside_their_schema"}


def _module(name: str) -> ModuleType:
    # The same import pytest itself makes, so a module collected twice is loaded once.
    return import_path(
        TESTS / "agents" / f"{name}.py",
        mode="importlib",
        root=TESTS.parent,
        consider_namespace_packages=False,
    )


def _borrowed() -> dict[str, object]:
    found: dict[str, object] = {}
    for name in MODULES:
        for attr, value in vars(_module(name)).items():
            is_test = attr.startswith("test_") and callable(value) and attr not in CHAT_SHAPED
            is_fixture = hasattr(value, "_fixture_function_marker") or type(value).__name__ == (
                "FixtureFunctionDefinition"
            )
            if is_test or (is_fixture and attr not in ("llm", "make_client")):
                found[attr] = value
    return found


globals().update(_borrowed())


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


@pytest.fixture
async def make_client(llm: FakeLLMServer) -> AsyncIterator[Callable[..., Client]]:
    """As tests/agents/conftest.py makes them, on the openai-responses dialect."""
    llm.clear()
    made: list[Client] = []

    def make(
        model: Callable[[ChatInput], Turn], name: str = "scripted", **options: object
    ) -> Client:
        client = Client(
            name,
            base_url=llm.base_url,
            api_key="test-key",
            dialect="openai-responses",
            retry=RetryPolicy(attempts=1),
            **options,  # type: ignore[arg-type]
        )
        llm.models[client.targets[0].request_model] = model
        made.append(client)
        return client

    yield make
    for client in made:
        await client.aclose()
    assert all(r.path.endswith("/responses") for r in llm.requests), "every turn spoke Responses"


def test_the_borrowed_tests_are_here() -> None:
    names = [
        n for n in globals() if n.startswith("test_") and n != "test_the_borrowed_tests_are_here"
    ]
    assert len(names) >= 25, names
