"""``Registry``: the packaged data plus user overrides, name resolution and cost.

Nothing is read at import time. ``Registry.default()`` reads the packaged JSON files (and the
files named by ``ATOLL_REGISTRY``) on first use and keeps the result. Nothing here touches the
network.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import date, datetime

from ._cost import Cost, CostUnknown, TokenUsage, compute_cost
from ._document import (
    RegistryDocument,
    decode_document,
    merge_documents,
    normalise_model,
    read_document,
)
from ._exceptions import UnknownProviderError
from ._index import NameIndex, suggest
from ._types import ModelSpec, ProviderSpec

__all__ = ["ENV_VAR", "Registry"]

ENV_VAR = "ATOLL_REGISTRY"
_PACKAGED = ("providers.json", "models.json", "prices.json")
_CACHE_LIMIT = 4096

# No lock: two threads racing on the first default() each build an identical registry and
# one wins; that is cheaper than importing threading for every user.
_default: Registry | None = None


def _packaged_documents() -> list[tuple[RegistryDocument, str]]:
    from importlib.resources import files  # deferred: import time matters

    root = files("atoll_registry").joinpath("data")
    docs: list[tuple[RegistryDocument, str]] = []
    for name in _PACKAGED:
        origin = f"atoll_registry/data/{name}"
        docs.append((decode_document(root.joinpath(name).read_bytes(), origin), origin))
    return docs


def _env_paths() -> list[str]:
    value = os.environ.get(ENV_VAR, "")
    return [p for p in value.split(os.pathsep) if p.strip()]


class Registry:
    """Models and providers with their capabilities, quirks and prices.

    Build one with ``Registry.default()`` (packaged data plus ``ATOLL_REGISTRY`` overrides,
    cached) or ``Registry.load(path)``; ``Registry()`` with explicit specs is for tests and
    embedding.

    Args:
        providers: Provider specs.
        models: Model specs; each must name one of ``providers``.
    """

    def __init__(
        self, providers: Iterable[ProviderSpec] = (), models: Iterable[ModelSpec] = ()
    ) -> None:
        doc = RegistryDocument(providers=tuple(providers), models=tuple(models))
        self._providers, self._models = merge_documents([(doc, "<memory>")])
        self._reindex()

    def _reindex(self) -> None:
        self._index = NameIndex(self._providers, self._models.values())
        self._resolved: dict[str, ModelSpec] = {}

    # ------------------------------------------------------------------ construction

    @classmethod
    def default(cls) -> Registry:
        """The packaged registry with ``ATOLL_REGISTRY`` override files merged on top, cached.

        ``ATOLL_REGISTRY`` holds one or more paths separated by ``os.pathsep``; later files win.
        The first call reads the files; later calls return the same object.

        Raises:
            RegistryDataError: An override file is missing or malformed.
        """
        global _default
        registry = _default
        if registry is None:
            docs = _packaged_documents()
            docs.extend((read_document(p), p) for p in _env_paths())
            registry = _default = cls._from_documents(docs)
        return registry

    @classmethod
    def reset_default(cls) -> None:
        """Forget the cached default registry so the next ``default()`` reads the files again."""
        global _default
        _default = None

    @classmethod
    def load(cls, *paths: str | os.PathLike[str], packaged: bool = True) -> Registry:
        """A registry from data files merged in order (later files win).

        Args:
            *paths: JSON files in the registry format (see docs/registry.md).
            packaged: Start from the packaged data (default) or from nothing.

        Raises:
            RegistryDataError: A file is missing, malformed or inconsistent.
        """
        docs = _packaged_documents() if packaged else []
        docs.extend((read_document(p), os.fspath(p)) for p in paths)
        return cls._from_documents(docs)

    @classmethod
    def _from_documents(cls, docs: list[tuple[RegistryDocument, str]]) -> Registry:
        registry = cls.__new__(cls)
        registry._providers, registry._models = merge_documents(docs)
        registry._reindex()
        return registry

    def register(self, model: ModelSpec) -> ModelSpec:
        """Add a model, or replace the one with the same ``provider/id``.

        On ``Registry.default()`` this changes the registry every caller shares.

        Args:
            model: The spec; its provider must be registered.

        Returns:
            The stored spec (``api_name`` filled in from ``id`` when empty).

        Raises:
            RegistryDataError: Bad figures in the spec.
            UnknownProviderError: Its provider is not registered.
        """
        if model.provider not in self._providers:
            raise UnknownProviderError(model.provider, suggest(model.provider, self._providers))
        stored = normalise_model(model, "register()")
        self._models[(model.provider, model.id)] = stored
        self._reindex()
        return stored

    def register_provider(self, provider: ProviderSpec) -> ProviderSpec:
        """Add a provider, or replace the one with the same name."""
        self._providers[provider.name] = provider
        self._reindex()
        return provider

    # ------------------------------------------------------------------ lookup

    def resolve(self, name: str) -> ModelSpec:
        """The model a name means.

        Accepts ``provider/model``, a bare id when only one provider serves it, an alias
        (``gpt4om``, ``claudeh``), and dated ids (``gpt-4o-2024-08-06``) which map to their base
        entry with the dated id kept as ``api_name``. An unlisted model on a known provider
        resolves to a spec with ``known=False`` and unknown limits and prices.

        Raises:
            AmbiguousModelError: A bare name served by several providers.
            UnknownProviderError: ``x/model`` where ``x`` is not a provider (with suggestions).
            UnknownModelError: Nothing matches (with suggestions).
        """
        spec = self._resolved.get(name)
        if spec is None:
            spec = self._index.resolve(name)
            if len(self._resolved) >= _CACHE_LIMIT:
                self._resolved.clear()
            self._resolved[name] = spec
        return spec

    def provider(self, name: str) -> ProviderSpec:
        """The provider called ``name``.

        Raises:
            UnknownProviderError: No such provider (with suggestions).
        """
        try:
            return self._providers[name]
        except KeyError:
            raise UnknownProviderError(name, suggest(name, self._providers)) from None

    def provider_for(self, model: ModelSpec | str) -> ProviderSpec:
        """The provider serving ``model`` (a spec or a name to resolve)."""
        spec = self.resolve(model) if isinstance(model, str) else model
        return self.provider(spec.provider)

    def providers(self) -> list[ProviderSpec]:
        """All providers, sorted by name."""
        return sorted(self._providers.values(), key=lambda p: p.name)

    def models(self, provider: str | None = None) -> list[ModelSpec]:
        """All listed models (of one provider when given), sorted by qualified name."""
        specs = [m for m in self._models.values() if provider is None or m.provider == provider]
        return sorted(specs, key=lambda m: m.qualified_name)

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            return self.resolve(name).known
        except LookupError:
            return False

    def __repr__(self) -> str:
        return f"Registry(providers={len(self._providers)}, models={len(self._models)})"

    # ------------------------------------------------------------------ cost

    def explain_cost(
        self,
        model: ModelSpec | str,
        usage: TokenUsage,
        *,
        at: date | datetime | None = None,
        batch: bool = False,
    ) -> Cost | CostUnknown:
        """The cost of a call, or why it cannot be known.

        Args:
            model: A spec or a name to resolve.
            usage: Token counts in atoll_wire's neutral convention (cache tokens inside
                ``input_tokens``, reasoning inside ``output_tokens``).
            at: When the call happened (default now), to pick the price then in force.
            batch: The call went through the provider's batch API: use the model's batch
                rates (``ModelSpec.batch_prices``).

        Raises:
            UnknownModelError: ``model`` is a name that does not resolve.
            UnknownProviderError: ``model`` names an unknown provider.
        """
        spec = self.resolve(model) if isinstance(model, str) else model
        return compute_cost(spec, usage, at, batch=batch)

    def cost(
        self,
        model: ModelSpec | str,
        usage: TokenUsage,
        *,
        at: date | datetime | None = None,
        batch: bool = False,
    ) -> Cost | None:
        """The cost of a call in USD, or ``None`` when any needed price is unknown.

        ``explain_cost`` takes the same arguments and says why instead of returning ``None``.
        """
        result = self.explain_cost(model, usage, at=at, batch=batch)
        return result if isinstance(result, Cost) else None
