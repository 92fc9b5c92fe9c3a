"""Typed usage of the public API: pyright checks these annotations; pytest runs them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import assert_type

from atoll_registry import (
    Capabilities,
    Cost,
    CostUnknown,
    ModelSpec,
    Price,
    ProviderQuirks,
    ProviderSpec,
    Registry,
)
from atoll_wire import Usage


def test_public_api_types() -> None:
    registry = Registry.default()
    spec = registry.resolve("gpt4om")
    assert_type(spec, ModelSpec)
    provider = registry.provider(spec.provider)
    assert_type(provider, ProviderSpec)
    assert_type(provider.quirks, ProviderQuirks)
    assert_type(provider.base_url, str | None)
    assert_type(provider.auth_headers("k"), dict[str, str])
    assert_type(spec.capabilities, Capabilities)
    assert_type(spec.capabilities.vision, bool | None)
    assert_type(spec.context_window, int | None)
    assert_type(spec.price_at(date(2026, 1, 1)), Price | None)
    usage = Usage(input_tokens=10, output_tokens=5)
    cost = registry.cost(spec, usage)
    assert_type(cost, Cost | None)
    explained = registry.explain_cost("gpt4om", usage, at=date(2026, 1, 1))
    assert_type(explained, Cost | CostUnknown)
    assert cost is not None
    assert_type(cost.total, Decimal)
    assert cost.total == cost.input + cost.output > 0
    assert spec.capabilities.vision is True and provider.dialect == "openai-chat"
