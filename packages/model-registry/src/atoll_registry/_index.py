"""Name lookup: qualified names, bare ids, aliases, snapshots and dated ids.

Resolution order for a name (first hit wins):

1. ``provider/model`` where the provider is known and the model (id, alias, snapshot or api
   name) is listed under it; when it is not, but the whole name is another provider's model id
   (``openai/gpt-oss-120b`` on Groq), that is an ambiguity error rather than a silent reroute;
2. a bare id, alias, snapshot or api name, exact case first, then case-insensitive; several
   providers serving it is an ambiguity error;
3. steps 1-2 again with a date suffix removed (``-2024-08-06``, ``-20250929``), keeping the
   dated id as the api name sent on the wire;
4. ``provider/anything`` on a known provider: a spec marked ``known=False`` with unknown limits
   and only the provider's default price (zero for self-hosted servers, else none);
5. otherwise an ``UnknownProviderError`` or ``UnknownModelError`` with close matches.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

from ._exceptions import AmbiguousModelError, UnknownModelError, UnknownProviderError
from ._types import ModelSpec, ProviderSpec

__all__ = ["NameIndex", "suggest"]

# A trailing calendar date: -YYYY-MM-DD (OpenAI) or -YYYYMMDD (Anthropic). Four-digit version
# suffixes such as Mistral's -2512 are distinct models with their own prices, so they stay.
_DATED = re.compile(r"^(?P<base>.+?)-(?P<date>20\d\d-[01]\d-[0-3]\d|20\d\d[01]\d[0-3]\d)$")


def _entries(spec: ModelSpec) -> list[tuple[str, ModelSpec]]:
    """(name, spec to return) pairs; a snapshot returns the spec with that snapshot as api name."""
    entries = [(name, spec) for name in dict.fromkeys((spec.id, spec.api_name, *spec.aliases))]
    entries.extend(
        (snap, msgspec.structs.replace(spec, api_name=snap))
        for snap in spec.snapshots
        if snap != spec.api_name
    )
    return entries


def suggest(name: str, choices: Iterable[str]) -> tuple[str, ...]:
    """Up to five known names close to ``name`` (case-insensitive), best first."""
    import difflib  # only on the error path, to keep import time low

    pool = list(choices)
    lowered = {c.lower(): c for c in pool}
    matches = difflib.get_close_matches(name.lower(), list(lowered), n=5, cutoff=0.6)
    return tuple(lowered[m] for m in matches)


class NameIndex:
    """Every name the registry answers to, mapped to the specs it may mean."""

    def __init__(self, providers: dict[str, ProviderSpec], models: Iterable[ModelSpec]) -> None:
        self.providers = providers
        self.qualified: dict[str, ModelSpec] = {}
        self.qualified_folded: dict[str, ModelSpec] = {}
        self.bare: dict[str, list[ModelSpec]] = {}
        self.bare_folded: dict[str, list[ModelSpec]] = {}
        for model in models:
            owner = providers.get(model.provider)
            bare = owner is None or owner.bare_names
            for name, spec in _entries(model):
                self.qualified.setdefault(f"{spec.provider}/{name}", spec)
                self.qualified_folded.setdefault(f"{spec.provider}/{name}".lower(), spec)
                if bare:
                    _add(self.bare, name, spec)
                    _add(self.bare_folded, name.lower(), spec)

    def resolve(self, name: str) -> ModelSpec:
        """The spec ``name`` means; see the module docstring for the rules."""
        spec = self._lookup(name)
        if spec is not None:
            return spec
        dated = _DATED.match(name)
        if dated is not None:
            spec = self._lookup(dated.group("base"))
            if spec is not None:
                dated_api = name.partition("/")[2] if self.qualified_hit(name) else name
                return msgspec.structs.replace(spec, api_name=dated_api)
        return self._unlisted(name)

    def qualified_hit(self, name: str) -> bool:
        """True when ``name`` starts with a known provider and a slash."""
        provider, sep, _ = name.partition("/")
        return bool(sep) and provider in self.providers

    def _lookup(self, name: str) -> ModelSpec | None:
        provider, sep, _ = name.partition("/")
        candidates = self.bare.get(name) or self.bare_folded.get(name.lower()) or []
        unique = sorted({c.qualified_name: c for c in candidates}.items())
        if sep and provider in self.providers:
            hit = self.qualified.get(name) or self.qualified_folded.get(name.lower())
            if hit is not None:
                return hit
            # "openai/gpt-oss-120b" is not OpenAI's but is Groq's (and others') model id:
            # routing it to either silently would surprise someone, so ask.
            if unique:
                raise AmbiguousModelError(name, tuple(q for q, _ in unique))
            return None
        if len(unique) > 1:
            raise AmbiguousModelError(name, tuple(q for q, _ in unique))
        return unique[0][1] if unique else None

    def _unlisted(self, name: str) -> ModelSpec:
        provider_name, sep, model = name.partition("/")
        if sep and provider_name in self.providers:
            if not model.strip():
                raise UnknownModelError(
                    name, message=f"model name {name!r} has nothing after the provider"
                )
            provider = self.providers[provider_name]
            prices = (provider.default_price,) if provider.default_price else ()
            return ModelSpec(
                id=model, provider=provider_name, api_name=model, prices=prices, known=False
            )
        if sep and provider_name and not self.bare_folded.get(name.lower()):
            close = suggest(provider_name, self.providers)
            if close or not _looks_like_model_path(name, self.bare):
                raise UnknownProviderError(provider_name, close)
        raise UnknownModelError(name, suggest(name, [*self.qualified, *self.bare]))


def _looks_like_model_path(name: str, bare: dict[str, list[ModelSpec]]) -> bool:
    # "meta-llama/unknown" shares an organisation prefix with listed ids: report a model miss.
    prefix = name.partition("/")[0].lower() + "/"
    return any(key.lower().startswith(prefix) for key in bare)


def _add(index: dict[str, list[ModelSpec]], key: str, spec: ModelSpec) -> None:
    bucket = index.setdefault(key, [])
    if all(other.qualified_name != spec.qualified_name for other in bucket):
        bucket.append(spec)
