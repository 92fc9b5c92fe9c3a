"""A provider's model list, read from its wire shape and merged with what the registry knows.

Each dialect lists models its own way (``Dialect.build_models`` / ``parse_models``): OpenAI-
compatible servers answer ``GET /models`` in one page; Anthropic pages with ``limit`` and
``after_id``; Gemini (its own dialect) with ``pageToken``. A page is a ``ModelPage``; the Client
follows the pages and turns each ``ListedModel`` into a ``ModelInfo`` carrying the registry's
facts (context window, output limit, price, whether the facts were verified) when it knows the
model.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import msgspec
from atoll_registry import Price, Registry

from ._exceptions import InvalidResponseError

if TYPE_CHECKING:
    from ._target import Target

__all__ = [
    "ListedModel",
    "ModelInfo",
    "ModelPage",
    "model_info",
    "parse_anthropic_models",
    "parse_openai_models",
]

_json = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class ListedModel:
    """One entry of a provider's model list, as the provider gave it.

    Attributes:
        id: The model id to send on the wire.
        display_name: A human name, when the provider gives one.
        created: When the model was published, when the provider says.
        owned_by: The owning organisation (OpenAI-compatible lists).
        raw: The provider's entry, untouched.
    """

    id: str
    display_name: str | None = None
    created: dt.datetime | None = None
    owned_by: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict[str, Any], repr=False)


@dataclass(frozen=True, slots=True)
class ModelPage:
    """One page of a model list.

    Attributes:
        models: The entries on this page, in the provider's order.
        cursor: What to pass back for the next page (None: this was the last).
    """

    models: list[ListedModel]
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model the provider lists, with the registry's facts about it.

    Attributes:
        id: The model id to send on the wire.
        provider: The provider's registry name.
        display_name: The provider's human name, else the registry's.
        created: When the provider says the model was published.
        owned_by: The owning organisation, when listed.
        known: Whether the registry has an entry for the model (the facts below are None
            when it does not).
        registry_name: The registry's ``provider/id`` for it, when known.
        context_window: Input plus output tokens per request.
        max_output_tokens: Output tokens per request.
        price: The price row in force today (USD per million tokens), when known.
        verified: Whether the registry's facts were checked against the provider's docs.
        deprecated: Whether the provider announced its retirement.
        raw: The provider's entry, untouched.
    """

    id: str
    provider: str
    display_name: str | None = None
    created: dt.datetime | None = None
    owned_by: str | None = None
    known: bool = False
    registry_name: str | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    price: Price | None = None
    verified: bool = False
    deprecated: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict[str, Any], repr=False)


def model_info(listed: ListedModel, target: Target, registry: Registry) -> ModelInfo:
    """Merge one listed model with the registry's entry for it (if any)."""
    provider = target.provider.name
    base = ModelInfo(
        id=listed.id,
        provider=provider,
        display_name=listed.display_name,
        created=listed.created,
        owned_by=listed.owned_by,
        raw=listed.raw,
    )
    if target.model is None:  # a custom server: the registry knows nothing about its names
        return base
    try:
        spec = registry.resolve(f"{provider}/{listed.id}")
    except LookupError:
        return base
    if not spec.known:
        return base
    return ModelInfo(
        id=listed.id,
        provider=provider,
        display_name=listed.display_name or spec.name,
        created=listed.created,
        owned_by=listed.owned_by,
        known=True,
        registry_name=spec.qualified_name,
        context_window=spec.context_window,
        max_output_tokens=spec.max_output_tokens,
        price=spec.price_at(dt.datetime.now(dt.UTC).date()),
        verified=spec.verified,
        deprecated=spec.deprecated,
        raw=listed.raw,
    )


def _decode(body: bytes, target: Target) -> dict[str, Any]:
    try:
        value = _json.decode(body)
    except msgspec.DecodeError as exc:
        raise _invalid(body, target, f"the response is not JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise _invalid(body, target, "the response is not a JSON object")
    return cast("dict[str, Any]", value)


def _invalid(body: bytes, target: Target, reason: str) -> InvalidResponseError:
    return InvalidResponseError(
        f"the model list could not be read: {reason}",
        status=200,
        provider=target.provider.name,
        model=target.request_model,
        body=body.decode("utf-8", "replace"),
    )


def _items(document: dict[str, Any], body: bytes, target: Target) -> list[dict[str, Any]]:
    """The ``data`` entries that have an ``id``; a malformed entry is skipped, not fatal."""
    entries = document.get("data")
    if not isinstance(entries, list):
        raise _invalid(body, target, "no 'data' list")
    items: list[dict[str, Any]] = []
    for entry in cast("list[object]", entries):
        if isinstance(entry, dict):
            item = cast("dict[str, Any]", entry)
            if isinstance(item.get("id"), str):
                items.append(item)
    return items


def parse_openai_models(body: bytes, target: Target) -> ModelPage:
    """``GET /models`` of an OpenAI-compatible server: ``{"data": [{"id", "created", ...}]}``."""
    document = _decode(body, target)
    models: list[ListedModel] = []
    for item in _items(document, body, target):
        created = item.get("created")
        models.append(
            ListedModel(
                id=item["id"],
                display_name=_text(item.get("display_name") or item.get("name")),
                created=_from_unix(created),
                owned_by=_text(item.get("owned_by")),
                raw=item,
            )
        )
    return ModelPage(models)


def parse_anthropic_models(body: bytes, target: Target) -> ModelPage:
    """Anthropic's ``GET /models`` page: ``data``, ``has_more`` and ``last_id`` (the cursor)."""
    document = _decode(body, target)
    models: list[ListedModel] = []
    for item in _items(document, body, target):
        models.append(
            ListedModel(
                id=item["id"],
                display_name=_text(item.get("display_name")),
                created=_from_iso(item.get("created_at")),
                raw=item,
            )
        )
    more = document.get("has_more") is True
    last = document.get("last_id")
    cursor = last if more and isinstance(last, str) and last else None
    return ModelPage(models, cursor)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _from_unix(value: object) -> dt.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _from_iso(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
