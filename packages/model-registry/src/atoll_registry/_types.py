"""The registry's typed facts: prices, capabilities, provider quirks, providers and models.

Every struct is frozen and strict (unknown fields are rejected when decoding a data file), so a
typo in an override file fails loudly instead of being ignored. ``None`` always means "not
documented in our data", never "no" or "zero".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

import msgspec

__all__ = [
    "AuthScheme",
    "AuthStyle",
    "Capabilities",
    "Dialect",
    "DialectId",
    "MaxTokensField",
    "Modality",
    "ModelSpec",
    "Price",
    "ProviderQuirks",
    "ProviderSpec",
    "QuirkOverrides",
    "QuirkValues",
    "ReasoningField",
]

DialectId = str
"""The id of a registered wire dialect (``openai-chat``, ``anthropic-messages``, ``gemini``, ...).

The registry names dialects as data; atoll_dialects keeps the set of implemented dialects (each
registers itself) and refuses a provider whose dialect is not registered when a Client is made.
"""

Dialect = DialectId
"""Former name of ``DialectId`` (kept for existing imports; it clashed with the Dialect class)."""

AuthScheme = str
"""The id of a registered auth scheme: ``bearer`` (``Authorization: Bearer <key>``),
``x-api-key``, ``api-key``, ``x-goog-api-key`` (the key in that header), ``none``, or one a
package registers (OAuth token sources for Vertex AI, Microsoft Entra ID for Azure). A key is
never sent in a URL query."""

AuthStyle = AuthScheme
"""Former name of ``AuthScheme`` (kept for existing imports)."""

QuirkValues = dict[str, Any]
"""Dialect-specific quirk fields as data; the dialect named by the provider validates them."""

ReasoningField = Literal[
    "reasoning_content", "reasoning", "think_tags", "content_parts", "thinking_blocks", "hidden"
]
"""Where reasoning text arrives (an openai-chat quirk value).

``reasoning_content`` / ``reasoning``: a message (or delta) field of that name;
``think_tags``: inline in the content between ``<think_tag>`` tags; ``content_parts``: typed
``thinking`` parts of a content array (Mistral); ``thinking_blocks``: Anthropic thinking blocks;
``hidden``: reasoning is billed but its text is never returned (OpenAI).
"""

MaxTokensField = Literal["max_tokens", "max_completion_tokens"]
"""The request field that caps the output length."""

Modality = Literal["text", "image", "audio", "video", "pdf"]
"""A kind of content a model reads or writes."""


class Price(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """USD per million tokens for one model, with where the figures came from.

    A model carries several rows when its price changed over time (``effective_from``) or depends
    on the prompt size (``above_input_tokens``: the row applies to the whole request once its
    input exceeds that many tokens, the "cliff" tiers providers use for long contexts).

    A missing figure (``None``) is unknown: cost computation never treats it as zero. The one
    documented default is ``reasoning``: when absent, reasoning tokens are billed at the
    ``output`` rate, which is how every provider in the data bills them. The audio rates apply
    only to usage that reports audio tokens apart (see ``compute_cost``).
    """

    source: str
    """Where the figures come from (package and version, pricing page URL)."""
    as_of: date
    """The date the figures were taken from the source."""
    input: Decimal | None = None
    """Uncached input tokens."""
    output: Decimal | None = None
    """Output tokens (visible text and tool calls)."""
    cache_read: Decimal | None = None
    """Input tokens read from the provider's prompt cache."""
    cache_write: Decimal | None = None
    """Input tokens written to the prompt cache (Anthropic: the 5-minute cache)."""
    cache_write_1h: Decimal | None = None
    """Anthropic's 1-hour cache writes; informational, since ``Usage`` has no per-TTL split."""
    reasoning: Decimal | None = None
    """Reasoning tokens when billed differently from output; ``None`` means the output rate."""
    input_audio: Decimal | None = None
    """Uncached audio input tokens (realtime and audio models)."""
    cache_read_audio: Decimal | None = None
    """Audio input tokens read from the prompt cache."""
    output_audio: Decimal | None = None
    """Audio output tokens."""
    effective_from: date | None = None
    """First day (UTC) this row applies; ``None`` means since the model launched."""
    above_input_tokens: int = 0
    """The row applies when the request's input tokens exceed this; 0 is the base row."""
    note: str | None = None
    """Anything the figures leave out (batch discounts, off-peak rates, service tiers)."""


class Capabilities(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """What a model can do, as documented by its provider; ``None`` means not documented here."""

    tools: bool | None = None
    """Function / tool calling."""
    parallel_tool_calls: bool | None = None
    """Several tool calls in one assistant turn."""
    json_schema: bool | None = None
    """Output constrained to a JSON Schema (structured outputs)."""
    vision: bool | None = None
    """Image input."""
    audio: bool | None = None
    """Audio input or output in chat."""
    reasoning: bool | None = None
    """A reasoning ("thinking") model."""
    prompt_caching: bool | None = None
    """Prompt caching with discounted cache reads."""
    streaming: bool | None = None
    """Server-sent-event streaming."""
    streaming_usage: bool | None = None
    """Token usage is available at the end of a stream."""


ProviderQuirks = QuirkValues
"""A provider's departures from its dialect's reference behaviour, as a mapping of quirk names
to values (``{"stream_include_usage": true, "notes": [...]}``).

Quirks belong to a dialect: each dialect declares its own quirk record (in atoll_dialects) and
validates these values against it when a Client is made, so a misspelt quirk fails loudly and
the registry never needs to know a dialect's fields. ``notes`` is prose for people."""

QuirkOverrides = QuirkValues
"""Where one model departs from its provider's quirks: the same mapping, merged over the
provider's by ``ProviderSpec.quirks_for(model)`` (``notes`` are appended)."""


class ProviderSpec(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A provider: where to send requests, how to authenticate, which dialect, which quirks."""

    name: str
    """Registry name, the ``provider`` in ``provider/model``."""
    dialect: DialectId
    """The wire dialect spoken at ``base_url`` (a registered dialect id)."""
    auth: AuthScheme = ""
    """How the caller authenticates (a registered auth scheme id); empty: the dialect's own
    default (``bearer`` for openai-chat, ``x-api-key`` for anthropic-messages, ...)."""
    source: str
    """The provider documentation for these facts: where to check them."""
    as_of: date
    """When the facts were written down (and, if ``verified``, checked against ``source``)."""
    verified: bool = False
    """True only when base URL, auth and quirks were read from ``source`` on ``as_of``. False
    means written from memory, secondary sources or recorded traffic (see ``quirks.notes``)."""
    display_name: str = ""
    """Human name (defaults to ``name``)."""
    base_url: str | None = None
    """API root without the endpoint path; ``None`` when the user must supply it (self-hosted)."""
    api_key_env: str | None = None
    """Environment variable conventionally holding the key."""
    key_required: bool = True
    """Requests fail without a key (``False`` for local servers)."""
    headers: dict[str, str] = {}
    """Fixed headers every request carries (e.g. ``anthropic-version``)."""
    local: bool = False
    """Runs on the user's own machine or cluster."""
    quirks: QuirkValues = {}
    """Departures from the dialect's reference behaviour, validated by the dialect."""
    settings: dict[str, str] = {}
    """Endpoint settings a dialect or auth scheme reads (``api_version``, ``location``, ...):
    a value, or ``$NAME`` to read the environment variable ``NAME`` when a Client is made."""
    default_price: Price | None = None
    """Price for models the registry does not list (self-hosted servers: zero, with a source)."""
    pricing_url: str | None = None
    """The provider's pricing page."""
    rate_limits_url: str | None = None
    """The provider's rate-limit documentation."""

    @property
    def base_url_required(self) -> bool:
        """True when the user must supply the base URL (vLLM, llama.cpp)."""
        return self.base_url is None

    def with_base_url(self, base_url: str) -> ProviderSpec:
        """A copy of this provider pointing at ``base_url`` (trailing slash removed)."""
        return msgspec.structs.replace(self, base_url=base_url.rstrip("/"))

    def auth_headers(self, api_key: str | None) -> dict[str, str]:
        """The fixed headers plus the key in the header of a built-in key scheme.

        A convenience for scripts; the Client authenticates through atoll_dialects' ``Auth``
        schemes, which also cover token sources.

        Args:
            api_key: The secret; ``None`` or ``""`` adds no auth header.

        Returns:
            A new dict; the caller must keep it out of logs (it holds the secret).
        """
        headers = dict(self.headers)
        if api_key:
            if self.auth in ("bearer", ""):
                headers["Authorization"] = f"Bearer {api_key}"
            elif self.auth in ("x-api-key", "api-key", "x-goog-api-key"):
                headers[self.auth] = api_key
        return headers

    def quirks_for(self, model: ModelSpec | None) -> QuirkValues:
        """This provider's quirks with ``model``'s overrides merged on top (``model.quirks``).

        Args:
            model: A model served by this provider, or ``None`` for the provider's own quirks.

        Returns:
            A new mapping; ``notes`` holds the provider's notes followed by the model's.
        """
        overrides = model.quirks if model is not None else None
        if not overrides:
            return dict(self.quirks)
        merged = {**self.quirks, **overrides}
        notes = [*self.quirks.get("notes", ()), *overrides.get("notes", ())]
        if notes:
            merged["notes"] = notes
        return merged


class ModelSpec(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A model served by one provider: names, limits, modalities, capabilities and prices."""

    id: str
    """Registry id, unique within the provider (the ``model`` in ``provider/model``)."""
    provider: str
    """The provider's registry name."""
    api_name: str = ""
    """The value sent as ``model`` in requests (defaults to ``id``; a dated id when resolved
    from one)."""
    name: str | None = None
    """Human name."""
    aliases: tuple[str, ...] = ()
    """Short names that resolve here (e.g. ``gpt4om``); unique across the registry."""
    snapshots: tuple[str, ...] = ()
    """Pinned or dated ids of this model that resolve here with that api name."""
    context_window: int | None = None
    """Maximum input plus output tokens per request."""
    max_output_tokens: int | None = None
    """Maximum output tokens per request."""
    input_modalities: tuple[Modality, ...] = ()
    """What the model reads; empty when not documented."""
    output_modalities: tuple[Modality, ...] = ()
    """What the model writes; empty when not documented."""
    capabilities: Capabilities = Capabilities()
    """Documented capabilities."""
    quirks: QuirkValues | None = None
    """Where this model departs from its provider's quirks (see ``ProviderSpec.quirks_for``)."""
    dialect: DialectId | None = None
    """The dialect this model is spoken in when it is not its provider's (``openai-responses``
    for OpenAI models served only by the Responses API); None: the provider's. The provider's
    quirks are written for the provider's dialect, so they do not apply then: the model's own
    ``quirks`` are for this dialect. atoll_dialects refuses an id nobody registered."""
    prices: tuple[Price, ...] = ()
    """Price rows; empty when the price is unknown."""
    deprecated: bool = False
    """The provider has announced deprecation or retirement."""
    retires: date | None = None
    """Announced shutdown date, when known."""
    replacement: str | None = None
    """The provider's recommended successor, as a registry name."""
    source: str | None = None
    """Documentation for the limits and capabilities above: where to check them."""
    as_of: date | None = None
    """When those facts were written down (and, if ``verified``, checked against ``source``)."""
    verified: bool = False
    """True only when the limits, modalities and capabilities were read from ``source`` on
    ``as_of``. False (the default, and every packaged model today) means they were written
    from memory or secondary sources: treat them as hints and check ``source``."""
    known: bool = True
    """``False`` for a spec made up on the spot for a name the registry does not list."""
    notes: str | None = None
    """Anything else worth knowing."""

    @property
    def qualified_name(self) -> str:
        """``provider/id``, the unambiguous registry name."""
        return f"{self.provider}/{self.id}"

    @property
    def request_name(self) -> str:
        """The model name to send on the wire (``api_name``, or ``id`` when unset)."""
        return self.api_name or self.id

    def price_at(self, when: date, input_tokens: int = 0) -> Price | None:
        """The price row in force on ``when`` for a request with ``input_tokens`` input tokens.

        Args:
            when: The day of the request (UTC).
            input_tokens: All input tokens of the request, to pick a long-context tier.

        Returns:
            The matching row, or ``None`` when no row applies (unknown price).
        """
        prices = self.prices
        if len(prices) == 1:  # the common case: one row, no dates, no tiers
            only = prices[0]
            if only.effective_from is None and not only.above_input_tokens:
                return only
        latest: date | None = None
        found = False
        for row in self.prices:
            start = row.effective_from
            if start is not None and start > when:
                continue
            if not found or (start is not None and (latest is None or start > latest)):
                latest, found = start, True
        if not found:
            return None
        best: Price | None = None
        for row in self.prices:
            if row.effective_from != latest:
                continue
            if row.above_input_tokens and input_tokens <= row.above_input_tokens:
                continue
            if best is None or row.above_input_tokens > best.above_input_tokens:
                best = row
        return best
