"""Where one model's calls go: the registry entries, the dialect, the URL, auth and quirks.

A ``Target`` is resolved once when a Client is made, so a typo in a model name, a dialect or
auth scheme nobody registered, a quirk the dialect does not know, or a missing key fails at
construction, not on the first call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import msgspec
from atoll_registry import ModelSpec, ProviderSpec, Registry, UnknownModelError

from ._auth import Auth, NoAuth
from ._dialect import Dialect
from ._dialects import AuthContext, auth_for, dialect_named, resolve_settings
from ._exceptions import UnsupportedRequestError
from ._quirks import DialectQuirks, ModelFacts

__all__ = ["Target", "resolve_target"]

_CUSTOM_PROVIDER_SOURCE = "user-supplied base_url"


@dataclass(frozen=True, slots=True)
class Target:
    """One model the Client can call.

    Attributes:
        name: The name the caller used.
        model: The registry's entry (``known=False`` for an unlisted model of a known
            provider), or None for a model behind a user-supplied base URL that the registry
            does not know.
        provider: The provider entry (a synthetic one for a bare ``base_url``).
        dialect: The dialect that speaks to it.
        base_url: The API root the requests go to.
        api_key: The key found for it (never shown).
        auth: How its requests authenticate.
        quirks: The dialect's quirk record for this provider and model.
        facts: What the registry says the model can do.
        settings: Endpoint settings the dialect and auth read (``api_version``, ...).
    """

    name: str
    model: ModelSpec | None
    provider: ProviderSpec
    dialect: Dialect
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    auth: Auth = field(default_factory=NoAuth, repr=False)
    quirks: DialectQuirks = field(default_factory=DialectQuirks)
    facts: ModelFacts = field(default_factory=ModelFacts)
    settings: Mapping[str, str] = field(default_factory=dict[str, str])

    @property
    def request_model(self) -> str:
        """The model name to put on the wire."""
        return self.model.request_name if self.model is not None else self.name

    @property
    def label(self) -> str:
        """``provider/model`` for spans, errors and attempt records."""
        return f"{self.provider.name}/{self.request_model}"

    @classmethod
    def of(
        cls,
        provider: ProviderSpec | None = None,
        model: ModelSpec | None = None,
        *,
        name: str | None = None,
        dialect: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        auth: Auth | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> Target:
        """A target made straight from registry entries, without a ``Registry`` lookup.

        For tools and tests that drive a dialect directly. With no provider, the target has
        the dialect's own defaults (quirks, auth) and knows nothing about the model.

        Args:
            provider: The provider's entry, or None for a custom server of ``dialect``.
            model: The model's entry, or None.
            name: The model name to send when ``model`` is None.
            dialect: The dialect id (default: the model's own, else the provider's, else
                ``openai-chat``).
            base_url: The API root (default: the provider's).
            api_key: The key (no environment lookup here; none means no auth header).
            auth: Authenticate this way instead of the provider's scheme.
            settings: Endpoint settings over the provider's.

        Raises:
            UnknownDialectError: The dialect or auth scheme is not registered.
            RegistryDataError: The provider's quirks do not fit the dialect's quirk record.
        """
        overrides = True
        if provider is None:
            provider = _custom_provider(dialect)
        else:
            provider, overrides = _speaking(provider, model, dialect)
        url = base_url or provider.base_url or ""
        return _make(
            model.request_name if model is not None else (name or ""),
            model,
            provider,
            url,
            key=api_key,
            auth=auth,
            settings=settings,
            key_required=False,  # a tool or test may build requests without a key
            model_overrides=overrides,
        )


def _speaking(
    provider: ProviderSpec, model: ModelSpec | None, dialect: str | None
) -> tuple[ProviderSpec, bool]:
    """The provider as spoken to in the chosen dialect, and whether the model's quirks apply.

    The dialect is the caller's, else the model's own (``ModelSpec.dialect``), else the
    provider's. The provider's quirks are written for its dialect, the model's for the model's
    own: each applies only when that dialect is spoken. A dialect the caller forces takes its
    own auth default too; a model's own dialect keeps its provider's auth.
    """
    own = model.dialect if model is not None and model.dialect else provider.dialect
    wanted = dialect or own
    overrides = wanted == own
    if wanted == provider.dialect:
        return provider, overrides
    auth = provider.auth if wanted == own else ""
    return msgspec.structs.replace(provider, dialect=wanted, quirks={}, auth=auth), overrides


def _custom_provider(dialect: str | None) -> ProviderSpec:
    return ProviderSpec(
        name="custom",
        dialect=dialect or "openai-chat",
        source=_CUSTOM_PROVIDER_SOURCE,
        as_of=date.today(),
        key_required=False,
    )


def resolve_target(
    name: str,
    *,
    registry: Registry,
    base_url: str | None = None,
    api_key: str | None = None,
    dialect: str | None = None,
    auth: Auth | None = None,
    settings: Mapping[str, str] | None = None,
) -> Target:
    """Resolve a model name (plus optional overrides) into a ``Target``.

    Args:
        name: A registry name or alias, or any model name when ``base_url`` is given.
        registry: Where model and provider facts come from.
        base_url: Send requests here instead of the provider's URL; with a name the registry
            does not know, this makes a custom target of ``dialect`` (default openai-chat).
        api_key: The key; default: the provider's environment variable.
        dialect: Speak this dialect instead of the model's own (``ModelSpec.dialect``, else the
            provider's). The target then takes that dialect's own defaults for quirks and auth
            (the provider's are for its dialect).
        auth: Authenticate this way instead of the provider's scheme (a token source, ...).
        settings: Endpoint settings over the registry's (``api_version``, ``project``, ...).

    Raises:
        UnknownModelError: The name is not in the registry and no ``base_url`` was given.
        UnknownProviderError: The ``provider/`` prefix names no provider.
        UnknownDialectError: The dialect or auth scheme is not registered.
        RegistryDataError: The provider's quirks do not fit its dialect's quirk record.
        MissingAPIKeyError: The provider needs a key and none was given or found.
        UnsupportedRequestError: The provider needs a base URL (vLLM, llama.cpp) and none was given.
    """
    model: ModelSpec | None
    try:
        model = registry.resolve(name)
        provider = registry.provider(model.provider)
    except UnknownModelError:
        if base_url is None:
            raise
        model = None
        provider = _custom_provider(dialect)
    provider, overrides = _speaking(provider, model, dialect)
    url = base_url or provider.base_url
    if url is None:
        raise UnsupportedRequestError(
            f"provider {provider.name!r} has no fixed base URL; pass base_url=... "
            "(the address of your server, e.g. http://127.0.0.1:8000/v1)",
            provider=provider.name,
            model=name,
        )
    return _make(
        name,
        model,
        provider,
        url,
        key=api_key if api_key is not None else _key_from_env(provider),
        auth=auth,
        settings=settings,
        key_required=provider.key_required and base_url is None,
        model_overrides=overrides,
    )


def _make(
    name: str,
    model: ModelSpec | None,
    provider: ProviderSpec,
    url: str,
    *,
    key: str | None,
    auth: Auth | None,
    settings: Mapping[str, str] | None,
    key_required: bool,
    model_overrides: bool = True,
) -> Target:
    speaker = dialect_named(provider.dialect)
    resolved = resolve_settings(provider, settings)
    if auth is None:
        context = AuthContext(
            provider=provider, api_key=key, settings=resolved, key_required=key_required
        )
        auth = auth_for(provider.auth or speaker.auth, context)
    # A model's quirk overrides apply only to its own provider's dialect.
    own = model_overrides and model is not None and model.provider == provider.name
    return Target(
        name=name,
        model=model,
        provider=provider.with_base_url(url) if url else provider,
        dialect=speaker,
        base_url=url.rstrip("/"),
        api_key=key,
        auth=auth,
        quirks=speaker.quirks(provider, model if own else None),
        facts=ModelFacts.of(provider.name, model),
        settings=resolved,
    )


def _key_from_env(provider: ProviderSpec) -> str | None:
    if provider.api_key_env is None:
        return None
    return os.environ.get(provider.api_key_env) or None
