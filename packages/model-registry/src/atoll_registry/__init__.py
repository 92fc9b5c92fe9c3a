"""Models, providers, capabilities, quirks and prices as packaged data with provenance.

Everything is offline: the facts ship as JSON files inside the package and are read on first
use, never at import time and never from the network::

    from atoll_registry import Registry

    registry = Registry.default()
    spec = registry.resolve("gpt4om")            # alias -> openai/gpt-4o-mini
    provider = registry.provider(spec.provider)  # base URL, auth, dialect, quirks
    cost = registry.cost(spec, usage)            # Decimal breakdown, or None if a price is unknown

See docs/registry.md for the data format, overrides and the cost convention.
"""

from __future__ import annotations

from atoll_wire import AtollError

from ._cost import Cost, CostUnknown, TokenUsage
from ._document import PriceTable, RegistryDocument
from ._exceptions import (
    AmbiguousModelError,
    RegistryDataError,
    RegistryError,
    UnknownModelError,
    UnknownProviderError,
)
from ._registry import Registry
from ._types import (
    AuthScheme,
    AuthStyle,
    Capabilities,
    Dialect,
    DialectId,
    MaxTokensField,
    Modality,
    ModelSpec,
    Price,
    ProviderQuirks,
    ProviderSpec,
    QuirkOverrides,
    QuirkValues,
    ReasoningField,
)

__version__ = "0.1.0"

# Exceptions report the module users import them from (and pickle by it).
for _error in (
    AmbiguousModelError,
    RegistryDataError,
    RegistryError,
    UnknownModelError,
    UnknownProviderError,
):
    _error.__module__ = __name__

__all__ = (
    "AmbiguousModelError",
    "AtollError",
    "AuthScheme",
    "AuthStyle",
    "Capabilities",
    "Cost",
    "CostUnknown",
    "Dialect",
    "DialectId",
    "MaxTokensField",
    "Modality",
    "ModelSpec",
    "Price",
    "PriceTable",
    "ProviderQuirks",
    "ProviderSpec",
    "QuirkOverrides",
    "QuirkValues",
    "ReasoningField",
    "Registry",
    "RegistryDataError",
    "RegistryDocument",
    "RegistryError",
    "TokenUsage",
    "UnknownModelError",
    "UnknownProviderError",
)
