"""Where a call goes: a schema and a model name resolved into the Client's arguments.

The registry decides everything it knows (provider, URL, dialect, prices); the schema only picks
the provider when the name alone does not, and ``api_kwargs["url"]`` points a schema at another
server. Keys: the ``api_key`` argument, then the preference named like the provider's variable,
then the environment (read by the Client).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from atoll_dialects import Auth, Client, HeaderKeyAuth, SyncClient, Target
from atoll_registry import (
    AmbiguousModelError,
    ModelSpec,
    ProviderSpec,
    Registry,
    UnknownModelError,
)
from atoll_wire import SyncTransport

from ._exceptions import SchemaError
from ._models import registered_schema
from ._preferences import get_preferences, key_from_preferences
from ._schemas import (
    AbstractPromptSchema,
    AzureOpenAISchema,
    ChatMLSchema,
    LocalServerOpenAISchema,
    NoSchema,
    Wrapper,
    schema_for_provider,
    schema_named,
    split_wrappers,
)


@dataclass(frozen=True)
class CallTarget:
    """A resolved call target.

    Attributes:
        name: The model name given to the Client (``provider/id`` for registry entries).
        schema: The schema that makes the call (wrappers removed).
        wrappers: ``TracerSchema``/``SaverSchema`` around it, outermost first.
        spec: The registry entry, or ``None`` for a model the registry does not know.
        provider: The provider entry (a synthetic one for an unknown server).
        base_url: A URL overriding the provider's, or ``None``.
        dialect: The dialect forced for a custom server, or ``None`` (the provider's).
        auth: How requests authenticate when the provider's own scheme does not fit (Azure's
            ``api-key`` header), else ``None``.
    """

    name: str
    schema: AbstractPromptSchema
    wrappers: list[Wrapper]
    spec: ModelSpec | None
    provider: ProviderSpec
    base_url: str | None
    dialect: str | None
    api_key: str | None = field(repr=False, default=None)
    auth: Auth | None = field(repr=False, default=None)

    @property
    def label(self) -> str:
        """``provider/model`` as shown in logs."""
        return self.spec.qualified_name if self.spec is not None else f"custom/{self.name}"

    def wire_target(self) -> Target:
        """The dialects' target for this call, built without a key (for rendering only)."""
        return Target.of(
            self.provider,
            self.spec,
            name=self.name,
            dialect=self.dialect,
            base_url=self.provider.base_url or "http://localhost/v1",
        )

    def client_args(self) -> dict[str, Any]:
        """Keyword arguments for ``Client``/``SyncClient`` (model first)."""
        args: dict[str, Any] = {
            "model": self.name,
            "base_url": self.base_url,
            "api_key": self.api_key,
            "dialect": self.dialect,
        }
        if self.auth is not None:
            args["auth"] = self.auth
        return args

    def async_client(self, **options: Any) -> Client:
        """A new async Client for this target (the caller closes it)."""
        args = self.client_args()
        return Client(args.pop("model"), **args, **options)

    def sync_client(self, transport: SyncTransport | None, **options: Any) -> SyncClient:
        """A SyncClient for this target on a shared sync transport."""
        args = self.client_args()
        return SyncClient(args.pop("model"), **args, transport=transport, **options)


_AZURE_KEY = "AZURE_OPENAI_API_KEY"


def _custom_provider() -> ProviderSpec:
    return ProviderSpec(
        name="custom",
        dialect="openai-chat",
        auth="bearer",
        source="user-supplied url",
        as_of=date.today(),
        key_required=False,
    )


def _lookup(registry: Registry, name: str) -> ModelSpec | None:
    try:
        return registry.resolve(name)
    except (UnknownModelError, LookupError):
        return None


def _schema_url(base: AbstractPromptSchema, url: str | None) -> str | None:
    if url:
        return url
    if isinstance(base, LocalServerOpenAISchema):
        return str(get_preferences("LOCAL_SERVER"))
    if isinstance(base, AzureOpenAISchema):
        host = get_preferences("AZURE_OPENAI_HOST") or os.environ.get("AZURE_OPENAI_HOST")
        if not host:
            raise SchemaError(
                "AzureOpenAISchema",
                "set AZURE_OPENAI_HOST (preference or environment) or pass api_kwargs url",
            )
        return str(host).rstrip("/") + "/openai/v1"
    if base.url_required:
        raise SchemaError(
            type(base).__name__, "needs the server's address: api_kwargs={'url': 'http://...'}"
        )
    return None


def resolve_call(
    schema: AbstractPromptSchema | None,
    model: str,
    *,
    api_key: str | None = None,
    url: str | None = None,
) -> CallTarget:
    """Resolve a schema (optional) and a model name into a call target.

    Raises:
        SchemaError: A render-only schema, or a schema that needs a URL without one.
        AmbiguousModelError: A bare name several providers serve.
        UnknownProviderError: A ``provider/`` prefix naming no provider.
    """
    registry = Registry.default()
    spec: ModelSpec | None = None
    if schema is None:
        try:
            spec = registry.resolve(model)
        except AmbiguousModelError:
            raise
        except UnknownModelError:  # not in the registry: the default schema's provider serves it
            spec = None
        if spec is not None:
            provider = registry.provider(spec.provider)
            schema = registered_schema(spec) or schema_for_provider(provider.name, provider.dialect)
            if spec.known or "/" in model:
                return _finish(registry, schema, spec, spec.qualified_name, api_key, url)
        schema = schema_named(str(get_preferences("PROMPT_SCHEMA")))
    return _with_schema(registry, schema, model, api_key, url)


def _with_schema(
    registry: Registry,
    schema: AbstractPromptSchema,
    model: str,
    api_key: str | None,
    url: str | None,
) -> CallTarget:
    base = split_wrappers(schema)[0]
    if isinstance(base, ChatMLSchema | NoSchema):
        raise SchemaError(type(base).__name__, "is render-only; use it with dry_run=True")
    provider_name = base.provider
    if provider_name is None:  # any compatible server: the registry prices the names it knows
        found = _lookup(registry, model)
        known = found if found is not None and found.known else None
        name = known.qualified_name if known is not None else model
        return _finish(registry, schema, known, name, api_key, url)
    spec = _lookup(registry, model)
    if spec is None or spec.provider != provider_name:
        spec = registry.resolve(f"{provider_name}/{model}")
    return _finish(registry, schema, spec, spec.qualified_name, api_key, url)


def _finish(
    registry: Registry,
    schema: AbstractPromptSchema,
    spec: ModelSpec | None,
    name: str,
    api_key: str | None,
    url: str | None,
) -> CallTarget:
    base, wrappers = split_wrappers(schema)
    base_url = _schema_url(base, url)
    custom = base.provider is None
    provider = registry.provider(spec.provider) if spec is not None else _custom_provider()
    key = api_key or key_from_preferences(provider.api_key_env)
    auth: Auth | None = None
    if isinstance(base, AzureOpenAISchema):
        # Azure takes its key in an ``api-key`` header (a bearer token is for Entra ID).
        key = api_key or key_from_preferences(_AZURE_KEY) or os.environ.get(_AZURE_KEY)
        auth = HeaderKeyAuth("api-key", key) if key else None
    return CallTarget(
        name=name,
        schema=base,
        wrappers=wrappers,
        spec=spec,
        provider=provider.with_base_url(base_url) if base_url else provider,
        base_url=base_url,
        dialect=base.dialect if custom else None,
        api_key=key,
        auth=auth,
    )


def url_option(api_kwargs: Mapping[str, Any]) -> str | None:
    """The ``url`` entry of ``api_kwargs`` (the legacy way to point at a server)."""
    value = api_kwargs.get("url")
    return None if value is None else str(value)
