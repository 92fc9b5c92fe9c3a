"""``MODEL_REGISTRY``, ``MODEL_ALIASES`` and ``register_model``: live views on atoll_registry.

Nothing is copied: reading goes to ``Registry.default()`` and writing registers there, so a
model registered here is resolved, called and priced by ``atoll_dialects.Client`` like any
packaged one. Prices given per token (the legacy unit) are stored per million tokens, exactly.

Fixed: a model registered without prices has an unknown cost (``None``), not $0.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
from atoll_registry import ModelSpec as RegistryModelSpec
from atoll_registry import Price, ProviderSpec, Registry, UnknownModelError

from ._preferences import get_preferences
from ._schemas import (
    AbstractPromptSchema,
    CustomOpenAISchema,
    schema_for_provider,
    schema_named,
    split_wrappers,
)

CUSTOM_PROVIDER = "custom"
_SCHEMAS: dict[str, AbstractPromptSchema] = {}


@dataclass
class ModelSpec:
    """A model as the legacy API described it: name, schema, prices per token.

    Attributes:
        name: The name to pass as ``model=`` (``provider/id`` for registry entries).
        schema: The schema its calls use.
        cost_of_token_prompt: USD per input token; ``None`` when unknown.
        cost_of_token_generation: USD per output token; ``None`` when unknown.
        description: Free text.
        spec: The registry entry behind it (``None`` before registration).
    """

    name: str
    schema: AbstractPromptSchema | None = None
    cost_of_token_prompt: float | None = None
    cost_of_token_generation: float | None = None
    description: str = ""
    spec: RegistryModelSpec | None = field(default=None, compare=False, repr=False)


def _registry() -> Registry:
    return Registry.default()


def _today() -> date:
    return datetime.now(UTC).date()


def _per_million(per_token: float | None) -> Decimal | None:
    return None if per_token is None else Decimal(str(per_token)).scaleb(6)


def _per_token(per_million: Decimal | None) -> float | None:
    return None if per_million is None else float(per_million.scaleb(-6))


def _view(spec: RegistryModelSpec) -> ModelSpec:
    registry = _registry()
    schema = _SCHEMAS.get(spec.qualified_name)
    if schema is None:
        provider = registry.provider(spec.provider)
        schema = schema_for_provider(provider.name, provider.dialect)
    price = spec.price_at(_today())
    return ModelSpec(
        name=spec.qualified_name,
        schema=schema,
        cost_of_token_prompt=_per_token(price.input) if price else None,
        cost_of_token_generation=_per_token(price.output) if price else None,
        description=spec.notes or spec.name or "",
        spec=spec,
    )


def registered_schema(spec: RegistryModelSpec) -> AbstractPromptSchema | None:
    """The schema given to ``register_model`` for this entry (tracer wrappers included)."""
    return _SCHEMAS.get(spec.qualified_name)


def _custom_provider(registry: Registry) -> None:
    try:
        registry.provider(CUSTOM_PROVIDER)
    except LookupError:
        registry.register_provider(
            ProviderSpec(
                name=CUSTOM_PROVIDER,
                dialect="openai-chat",
                auth="bearer",
                source="atoll compat: models registered with CustomOpenAISchema",
                as_of=_today(),
                key_required=False,
            )
        )


def _provider_of(name: str, schema: AbstractPromptSchema | None) -> tuple[str, str]:
    registry = _registry()
    base = split_wrappers(schema)[0] if schema is not None else None
    head, slash, tail = name.partition("/")
    if slash and base is None:
        registry.provider(head)  # raises UnknownProviderError with suggestions
        return head, tail
    if base is None:
        base = schema_named(str(get_preferences("PROMPT_SCHEMA")))
    if isinstance(base, CustomOpenAISchema) or base.provider is None:
        _custom_provider(registry)
        return CUSTOM_PROVIDER, name
    if slash and head == base.provider:
        return head, tail
    return base.provider, name


def register_model(
    name: str | ModelSpec,
    schema: AbstractPromptSchema | None = None,
    cost_of_token_prompt: float | None = None,
    cost_of_token_generation: float | None = None,
    description: str = "",
) -> ModelSpec:
    """Register (or update) a model in the shared registry.

    Args:
        name: The model name (``provider/id`` or an id for ``schema``'s provider), or a
            ``ModelSpec`` holding every field.
        schema: The schema calls use (default: ``PROMPT_SCHEMA``); a ``TracerSchema`` or
            ``SaverSchema`` wrapper is kept and applied to calls that name no schema.
        cost_of_token_prompt: USD per input token (``None``: unknown, never $0).
        cost_of_token_generation: USD per output token (``None``: unknown).
        description: Free text, kept as the registry entry's notes.

    Returns:
        The registered model, as ``MODEL_REGISTRY`` shows it.
    """
    if isinstance(name, ModelSpec):
        return register_model(
            name.name,
            name.schema,
            name.cost_of_token_prompt,
            name.cost_of_token_generation,
            name.description,
        )
    registry = _registry()
    provider, model_id = _provider_of(name, schema)
    existing = next(
        (m for m in registry.models(provider) if m.id == model_id),
        RegistryModelSpec(id=model_id, provider=provider, source="register_model()"),
    )
    changes: dict[str, object] = {}
    if cost_of_token_prompt is not None or cost_of_token_generation is not None:
        price = Price(
            source="register_model()",
            as_of=_today(),
            input=_per_million(cost_of_token_prompt),
            output=_per_million(cost_of_token_generation),
        )
        changes["prices"] = (price,)
    if description:
        changes["notes"] = description
    stored = registry.register(msgspec.structs.replace(existing, **changes))
    if schema is not None:
        _SCHEMAS[stored.qualified_name] = schema
    return _view(stored)


class ModelRegistryView(Mapping[str, ModelSpec]):
    """``MODEL_REGISTRY``: every model by ``provider/id``; names and aliases resolve too.

    ``MODEL_REGISTRY["gpt4om"]`` resolves like a call would; ``MODEL_REGISTRY[name] = spec``
    registers. Entries cannot be deleted (the registry keeps what it was given).
    """

    def __getitem__(self, key: str) -> ModelSpec:
        try:
            spec = _registry().resolve(key)
        except LookupError:
            raise KeyError(key) from None
        if not spec.known:
            raise KeyError(key)
        return _view(spec)

    def __setitem__(self, key: str, value: ModelSpec) -> None:
        register_model(
            key,
            value.schema,
            value.cost_of_token_prompt,
            value.cost_of_token_generation,
            value.description,
        )

    def __iter__(self) -> Iterator[str]:
        return iter([m.qualified_name for m in _registry().models()])

    def __len__(self) -> int:
        return len(_registry())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in _registry()

    def __repr__(self) -> str:
        return f"MODEL_REGISTRY({len(self)} models; see atoll_registry.Registry.default())"


class ModelAliasesView(Mapping[str, str]):
    """``MODEL_ALIASES``: alias to ``provider/id``; ``MODEL_ALIASES["mini"] = "gpt-4o-mini"``.

    Setting an alias adds it to the registry entry, so the Client resolves it too; ``del``
    removes it.
    """

    def _all(self) -> dict[str, str]:
        return {a: m.qualified_name for m in _registry().models() for a in m.aliases}

    def __getitem__(self, key: str) -> str:
        return self._all()[key]

    def __setitem__(self, alias: str, name: str) -> None:
        registry = _registry()
        if alias in self:
            del self[alias]
        try:
            spec = registry.resolve(name)
        except UnknownModelError:
            spec = None
        if spec is None or not spec.known:
            spec = registry.register(_view_or_new(name))
        base = next(m for m in registry.models(spec.provider) if m.id == spec.id)
        registry.register(msgspec.structs.replace(base, aliases=(*base.aliases, alias)))

    def __delitem__(self, alias: str) -> None:
        registry = _registry()
        owner = self._all().get(alias)
        if owner is None:
            raise KeyError(alias)
        spec = registry.resolve(owner)
        base = next(m for m in registry.models(spec.provider) if m.id == spec.id)
        kept = tuple(a for a in base.aliases if a != alias)
        registry.register(msgspec.structs.replace(base, aliases=kept))

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"MODEL_ALIASES({self._all()!r})"


def _view_or_new(name: str) -> RegistryModelSpec:
    provider, model_id = _provider_of(name, None)
    return RegistryModelSpec(id=model_id, provider=provider, source="MODEL_ALIASES")


MODEL_REGISTRY = ModelRegistryView()
"""Every model in ``atoll_registry.Registry.default()``, as legacy ``ModelSpec`` views."""

MODEL_ALIASES = ModelAliasesView()
"""Every alias in ``atoll_registry.Registry.default()``, live and writable."""
