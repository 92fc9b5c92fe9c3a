"""Where one model's calls go: the registry entries, the dialect, the base URL and the key.

A ``Target`` is resolved once when a Client is made, so a typo in a model name or a missing key
fails at construction, not on the first call.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date

import msgspec
from atoll_registry import ModelSpec, ProviderSpec, Registry, UnknownModelError

from ._anthropic import AnthropicMessagesDialect
from ._dialect import Dialect
from ._exceptions import MissingAPIKeyError, UnsupportedRequestError
from ._openai_chat import OpenAIChatDialect

# Dialects are stateless: one shared instance each, found by the registry's dialect id.
_DIALECTS: dict[str, Dialect] = {
    OpenAIChatDialect.name: OpenAIChatDialect(),
    AnthropicMessagesDialect.name: AnthropicMessagesDialect(),
}

_CUSTOM_PROVIDER_SOURCE = "user-supplied base_url"


def dialect_named(name: str) -> Dialect:
    """The shared dialect instance for a registry dialect id.

    Raises:
        UnsupportedRequestError: No dialect of that name is implemented.
    """
    try:
        return _DIALECTS[name]
    except KeyError:
        known = ", ".join(sorted(_DIALECTS))
        raise UnsupportedRequestError(
            f"no dialect named {name!r} is implemented (known: {known})"
        ) from None


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
    """

    name: str
    model: ModelSpec | None
    provider: ProviderSpec
    dialect: Dialect
    base_url: str
    api_key: str | None = field(repr=False)

    @property
    def request_model(self) -> str:
        """The model name to put on the wire."""
        return self.model.request_name if self.model is not None else self.name

    @property
    def label(self) -> str:
        """``provider/model`` for spans, errors and attempt records."""
        return f"{self.provider.name}/{self.request_model}"


def resolve_target(
    name: str,
    *,
    registry: Registry,
    base_url: str | None = None,
    api_key: str | None = None,
    dialect: str | None = None,
) -> Target:
    """Resolve a model name (plus optional overrides) into a ``Target``.

    Args:
        name: A registry name or alias, or any model name when ``base_url`` is given.
        registry: Where model and provider facts come from.
        base_url: Send requests here instead of the provider's URL; with a name the registry
            does not know, this makes a custom OpenAI-compatible (or ``dialect``) target.
        api_key: The key; default: the provider's environment variable.
        dialect: The dialect id for a custom target (default ``"openai-chat"``).

    Raises:
        UnknownModelError: The name is not in the registry and no ``base_url`` was given.
        UnknownProviderError: The ``provider/`` prefix names no provider.
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
        provider = ProviderSpec(
            name="custom",
            dialect=dialect or "openai-chat",  # type: ignore[arg-type]
            auth="bearer",
            source=_CUSTOM_PROVIDER_SOURCE,
            as_of=date.today(),
            key_required=False,
        )
    if dialect is not None and dialect != provider.dialect:
        provider = msgspec.structs.replace(provider, dialect=dialect)
    url = base_url or provider.base_url
    if url is None:
        raise UnsupportedRequestError(
            f"provider {provider.name!r} has no fixed base URL; pass base_url=... "
            "(the address of your server, e.g. http://127.0.0.1:8000/v1)",
            provider=provider.name,
            model=name,
        )
    key = api_key if api_key is not None else _key_from_env(provider)
    if key is None and provider.key_required and base_url is None:
        raise MissingAPIKeyError(provider.name, provider.api_key_env)
    return Target(
        name=name,
        model=model,
        provider=provider.with_base_url(url),
        dialect=dialect_named(provider.dialect),
        base_url=url.rstrip("/"),
        api_key=key,
    )


def _key_from_env(provider: ProviderSpec) -> str | None:
    if provider.api_key_env is None:
        return None
    return os.environ.get(provider.api_key_env) or None
