"""A page of legacy-style code runs unchanged, and what it was charged is the registry's price."""

from __future__ import annotations

import logging
import runpy
from pathlib import Path
from typing import Any

import pytest
from atoll import AIMessage, AIToolRequest, DataMessage, TemplateError
from atoll_registry import Registry
from atoll_testing import FakeLLMServer

PAGE = Path(__file__).parent / "legacy_page.py"


def test_the_page_runs_unchanged_and_costs_equal_the_registrys(
    redirect: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="atoll"):
        page: dict[str, Any] = runpy.run_path(str(PAGE), run_name="legacy_page")
    replies = page["replies"]
    assert [type(r) for r in replies] == [
        AIMessage,
        AIMessage,
        AIMessage,
        AIMessage,
        DataMessage,
        AIMessage,
        AIMessage,
        AIMessage,
        AIToolRequest,
    ]
    registry = Registry.default()
    for reply in replies:
        served = reply.extras["served_by"]
        expected = registry.cost(served, reply.usage)
        assert expected is not None, served
        assert reply.cost == float(expected.total), served
        assert reply.extras["cost_usd"] == str(expected.total)
    assert page["yoda"].extras["served_by"] == "anthropic/claude-haiku-5-5"
    assert page["capital"].content == "echo: What is the capital of France?"
    assert page["verdict"].content == "true"
    assert page["weather"].tool_calls[0].name == "get_weather"
    assert page["embedding"].cost is None, "no price for the embedding model: unknown, never $0"
    assert page["total_cost"] == pytest.approx(sum(r.cost for r in replies))
    stats = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Tokens:")]
    # One line per call: 10 generate-style calls, one embedding and the lazy call's run.
    assert len(stats) == 12
    models = {r.json()["model"] for r in redirect.requests if "model" in r.json()}
    assert models == {
        "gpt-4o-mini",
        "claude-haiku-5-5",
        "text-embedding-3-small",
    }


def test_the_page_fails_loudly_not_silently(redirect: FakeLLMServer, tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text('from atoll import *\naigenerate(":NoSuchTemplate", x=1)\n')
    with pytest.raises(TemplateError):
        runpy.run_path(str(broken))
