"""Lazy calls, ``run_``, ``airetry_`` and the ``ai``/``ai_``/``aai`` conveniences, end to end."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from atoll import (
    CONV_HISTORY,
    AICall,
    AIExtract,
    AIGenerate,
    AIMessage,
    CustomOpenAISchema,
    RetryBudgetError,
    RetryConfig,
    SystemMessage,
    UserMessage,
    aai,
    aai_,
    ai,
    ai_,
    aigenerate,
    airetry_,
    airetry__async,
    run_,
    run__async,
)
from atoll_dialects import NotFoundError
from atoll_testing import FakeLLMServer
from pydantic import BaseModel

pytestmark = pytest.mark.anyio


class Person(BaseModel):
    name: str
    age: int


def _local(server: FakeLLMServer, **api: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "verbose": False, "api_kwargs": {"url": server.base_url, **api}}


def test_a_lazy_call_runs_only_when_asked(server: FakeLLMServer) -> None:
    call = AIGenerate(CustomOpenAISchema(), "Hi {{name}}", name="Ann", **_local(server))
    assert call.success is None and server.requests == []
    run_(call)
    assert call.success is True
    assert call.last_output() == "echo: Hi Ann"
    assert [type(m) for m in call.conversation] == [SystemMessage, UserMessage, AIMessage]
    assert "name" not in call.kwargs, "placeholders are dropped once filled"
    call("And again?")
    assert call.last_output() == "echo: And again?"
    assert len(call.conversation) == 5
    assert call.config.calls == 2


def test_the_retry_config_never_overrides_the_callers_temperature(server: FakeLLMServer) -> None:
    run_(AIGenerate(CustomOpenAISchema(), "a", **_local(server, temperature=0.3)))
    assert server.requests[-1].json()["temperature"] == 0.3
    run_(AIGenerate(CustomOpenAISchema(), "b", **_local(server)))
    assert server.requests[-1].json()["temperature"] == 0.7
    config = RetryConfig(temperature=0.0)
    run_(AIGenerate(CustomOpenAISchema(), "c", config=config, **_local(server)))
    assert server.requests[-1].json()["temperature"] == 0.0


def test_errors_are_raised_or_kept(server: FakeLLMServer) -> None:
    bad = {**_local(server), "model": "no-such-model"}
    with pytest.raises(NotFoundError):
        run_(AIGenerate(CustomOpenAISchema(), "x", **bad))
    kept = run_(AIGenerate(CustomOpenAISchema(), "x", config=RetryConfig(catch_errors=True), **bad))
    assert kept.success is False and isinstance(kept.error, NotFoundError)


def test_airetry_adds_feedback_and_retries(server: FakeLLMServer) -> None:
    call = run_(AIGenerate(CustomOpenAISchema(), "Say something", **_local(server)))
    airetry_(lambda c: "Feedback" in str(c.last_output()), call, "Mention the feedback.")
    assert call.success is True
    assert call.config.retries == 1 and call.config.calls == 2
    sent = server.requests[-1].json()["messages"]
    assert sent[-1] == {
        "role": "user",
        "content": "### Feedback from Evaluator\n\nMention the feedback.\n",
    }
    assert [type(m).__name__ for m in call.conversation] == [
        "SystemMessage",
        "UserMessage",
        "AIMessage",
        "UserMessage",
        "AIMessage",
    ]
    root = call.samples
    assert root.visits >= 2 and root.wins == 1


def test_airetry_stacks_and_honours_the_budget(server: FakeLLMServer) -> None:
    call = run_(AIGenerate(CustomOpenAISchema(), "Say something", **_local(server)))
    airetry_(lambda c: c.last_output().startswith("echo"), call, "unused")
    assert call.config.retries == 0
    with pytest.raises(RetryBudgetError) as caught:
        airetry_(lambda c: False, call, "never good enough", max_retries=2, throw=True)
    assert (caught.value.retries, caught.value.max_retries) == (2, 2)
    assert call.config.calls == 3


def test_airetry_feedback_inplace_and_functions(server: FakeLLMServer) -> None:
    config = RetryConfig(feedback_inplace=True)
    call = run_(AIGenerate(CustomOpenAISchema(), "Base", config=config, **_local(server)))
    airetry_(
        lambda c: "Try" in str(c.last_output()),
        call,
        lambda c: f"Try harder than {c.last_output()!r}",
    )
    sent = server.requests[-1].json()["messages"]
    assert [m["role"] for m in sent] == ["system", "user"]
    assert sent[-1]["content"].startswith("Base\n\n### Feedback from Evaluator\n\nTry harder")


def test_airetry_needs_a_run_call() -> None:
    with pytest.raises(ValueError, match="run the call first"):
        airetry_(lambda c: True, AICall(aigenerate, "x"))


def test_samples_per_round(server: FakeLLMServer) -> None:
    call = AIGenerate(CustomOpenAISchema(), "x", config=RetryConfig(n_samples=3), **_local(server))
    run_(call)
    assert call.config.calls == 3
    assert len(call.samples.children) == 3
    temperatures = [r.json()["temperature"] for r in server.requests]
    assert temperatures == [0.7, 0.701, 0.702]


def test_lazy_extract(server: FakeLLMServer) -> None:
    call = run_(AIExtract(CustomOpenAISchema(), "Jack", return_type=Person, **_local(server)))
    assert call.last_output() == Person(name="Jack", age=19)


async def test_async_run_and_retry(server: FakeLLMServer) -> None:
    call = AIGenerate(CustomOpenAISchema(), "Say something", **_local(server))
    await run__async(call)
    assert call.last_output() == "echo: Say something"
    await airetry__async(lambda c: "Feedback" in str(c.last_output()), call, "again")
    assert call.success is True and call.config.retries == 1


def test_ai_conveniences_keep_a_module_conversation(
    redirect: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="atoll"):
        first = ai("Hello")
    assert first.content == "echo: Hello"
    assert any(r.getMessage().startswith("Tokens:") for r in caplog.records)
    second = ai_("More")
    assert second.content == "echo: More"
    assert len(redirect.requests[-1].json()["messages"]) == 4
    assert len(CONV_HISTORY) == 2 and len(CONV_HISTORY[-1]) == 5


async def test_async_conveniences(redirect: FakeLLMServer) -> None:
    reply = await aai("Hi", verbose=False)
    assert reply.content == "echo: Hi"
    reply = await aai_("Again", verbose=False)
    assert len(redirect.requests[-1].json()["messages"]) == 4
    assert len(CONV_HISTORY) == 2
