"""Golden tests of the stats line: ``Tokens: N @ Cost: $X in S seconds``, once per call."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from atoll import AIMessage, CustomOpenAISchema, aigenerate, aigenerate_async
from atoll._stats import format_cost, stats_line
from atoll_testing import FakeLLMServer

pytestmark = pytest.mark.anyio


def _message(tokens: tuple[int, int], elapsed: float, **extras: str) -> AIMessage:
    return AIMessage("x", tokens=tokens, elapsed=elapsed, extras=dict(extras))


@pytest.mark.parametrize(
    ("messages", "line"),
    [
        (
            [_message((1000, 234), 2.08, cost_usd="0.0012")],
            "Tokens: 1234 @ Cost: $0.0012 in 2.1 seconds",
        ),
        (
            [_message((10, 3), 0.04, cost_usd="0.00000285")],
            "Tokens: 13 @ Cost: $0.00000285 in 0.0 seconds",
        ),
        (
            [_message((10, 3), 1.0, cost_note="model 'x' is not in the registry")],
            "Tokens: 13 @ Cost: unknown (model 'x' is not in the registry) in 1.0 seconds",
        ),
        (
            [_message((5, -1), 0.5, cost_note="usage not reported")],
            "Tokens: 5 (some not reported) @ Cost: unknown (usage not reported) in 0.5 seconds",
        ),
        (
            [
                _message((10, 5), 1.2, cost_usd="0.001"),
                _message((10, 7), 1.4, cost_usd="0.002"),
            ],
            "Tokens: 32 @ Cost: $0.0030 in 1.4 seconds",
        ),
        (
            [_message((0, 0), 0.1, cost_usd="0")],
            "Tokens: 0 @ Cost: $0.0000 in 0.1 seconds",
        ),
    ],
)
def test_stats_line(messages: list[AIMessage], line: str) -> None:
    assert stats_line(messages) == line


def test_a_tiny_cost_never_reads_as_zero() -> None:
    assert format_cost(Decimal("0.00000003")) == "$0.00000003"
    assert format_cost(None) == "unknown"


def _lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("Tokens:")]


def test_logged_once_per_call_and_silenced_by_verbose(
    server: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    options = {"model": "gpt-4o-mini", "api_kwargs": {"url": server.base_url, "n": 2}}
    with caplog.at_level(logging.INFO, logger="atoll"):
        aigenerate(CustomOpenAISchema(), "one two", **options)
        assert len(_lines(caplog)) == 1, "two samples, one call, one line"
        assert caplog.records[-1].name == "atoll" and caplog.records[-1].levelname == "INFO"
        aigenerate(CustomOpenAISchema(), "one two", verbose=False, **options)
        assert len(_lines(caplog)) == 1


async def test_async_logs_the_same_line(
    server: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="atoll"):
        reply = await aigenerate_async(
            CustomOpenAISchema(),
            "one two",
            model="gpt-4o-mini",
            api_kwargs={"url": server.base_url},
        )
    (line,) = _lines(caplog)
    assert line == stats_line([reply])
    assert line.startswith(f"Tokens: {sum(reply.tokens)} @ Cost: $0.00000")


def test_unregistered_model_costs_unknown_not_zero(
    server: FakeLLMServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="atoll"):
        reply = aigenerate(
            CustomOpenAISchema(), "hi", model="echo-custom", api_kwargs={"url": server.base_url}
        )
    assert reply.cost is None
    assert "not in the registry" in reply.extras["cost_note"]
    assert "@ Cost: unknown (model 'echo-custom' is not in the registry" in _lines(caplog)[0]
