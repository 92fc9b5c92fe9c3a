"""The registry's typed facts: prices, capabilities, provider quirks, providers and models.

Every struct is frozen and strict (unknown fields are rejected when decoding a data file), so a
typo in an override file fails loudly instead of being ignored. ``None`` always means "not
documented in our data", never "no" or "zero".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

import msgspec

__all__ = [
    "AuthStyle",
    "Capabilities",
    "Dialect",
    "MaxTokensField",
    "Modality",
    "ModelSpec",
    "Price",
    "ProviderQuirks",
    "ProviderSpec",
    "QuirkOverrides",
    "ReasoningField",
]

Dialect = Literal["openai-chat", "anthropic-messages", "gemini"]
"""The wire dialect a provider speaks (``gemini`` is reserved for the native Gemini API)."""

AuthStyle = Literal["bearer", "x-api-key", "none"]
"""How the key travels: ``Authorization: Bearer <key>``, an ``x-api-key`` header, or not at all."""

ReasoningField = Literal[
    "reasoning_content", "reasoning", "think_tags", "content_parts", "thinking_blocks", "hidden"
]
"""Where reasoning text arrives.

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


class ProviderQuirks(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """How a provider departs from its dialect's reference behaviour, as data.

    Dialects read these instead of branching on provider names.
    """

    stream_include_usage: bool = False
    """Accepts ``stream_options: {"include_usage": true}`` (OpenAI-chat) to get usage in streams."""
    stream_usage_always: bool = False
    """Sends usage at the end of a stream without being asked."""
    reasoning_field: ReasoningField | None = None
    """Where reasoning text arrives; ``None`` when not documented."""
    think_tag: str | None = None
    """The tag name when ``reasoning_field`` is ``think_tags`` (``think`` for ``<think>``)."""
    max_tokens_field: MaxTokensField = "max_tokens"
    """The request field that caps output length."""
    max_tokens_required: bool = False
    """Requests without a max-tokens value are rejected (Anthropic)."""
    empty_tool_call_ids: bool = False
    """Tool call ids may be ``""``; the client must synthesise unique ids."""
    tool_calls_single_index: bool = False
    """Streamed tool calls may all carry ``index: 0``; tell them apart by id."""
    cache_tokens_in_input: bool = True
    """The provider's raw input count includes cache reads and writes (OpenAI); when ``False``
    they are reported separately and the dialect adds them (Anthropic)."""
    parallel_tool_calls_param: bool = False
    """Accepts the OpenAI ``parallel_tool_calls`` request field."""
    notes: tuple[str, ...] = ()
    """Other observed behaviour worth knowing, in prose."""


class QuirkOverrides(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """Where one model departs from its provider's quirks; ``None`` inherits the provider's.

    Read them through ``ProviderSpec.quirks_for(model)``, which merges the two.
    """

    stream_include_usage: bool | None = None
    """See ``ProviderQuirks.stream_include_usage``."""
    stream_usage_always: bool | None = None
    """See ``ProviderQuirks.stream_usage_always``."""
    reasoning_field: ReasoningField | None = None
    """See ``ProviderQuirks.reasoning_field``."""
    think_tag: str | None = None
    """See ``ProviderQuirks.think_tag``."""
    max_tokens_field: MaxTokensField | None = None
    """See ``ProviderQuirks.max_tokens_field``."""
    max_tokens_required: bool | None = None
    """See ``ProviderQuirks.max_tokens_required``."""
    empty_tool_call_ids: bool | None = None
    """See ``ProviderQuirks.empty_tool_call_ids``."""
    tool_calls_single_index: bool | None = None
    """See ``ProviderQuirks.tool_calls_single_index``."""
    parallel_tool_calls_param: bool | None = None
    """See ``ProviderQuirks.parallel_tool_calls_param``."""
    notes: tuple[str, ...] = ()
    """Added to the provider's notes."""


class ProviderSpec(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, omit_defaults=True
):
    """A provider: where to send requests, how to authenticate, which dialect, which quirks."""

    name: str
    """Registry name, the ``provider`` in ``provider/model``."""
    dialect: Dialect
    """The wire dialect spoken at ``base_url``."""
    auth: AuthStyle
    """How the API key is sent."""
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
    quirks: ProviderQuirks = ProviderQuirks()
    """Departures from the dialect's reference behaviour."""
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
        """The fixed headers plus the authentication header for ``api_key``.

        Args:
            api_key: The secret; ``None`` or ``""`` adds no auth header.

        Returns:
            A new dict; the caller must keep it out of logs (it holds the secret).
        """
        headers = dict(self.headers)
        if api_key:
            if self.auth == "bearer":
                headers["Authorization"] = f"Bearer {api_key}"
            elif self.auth == "x-api-key":
                headers["x-api-key"] = api_key
        return headers

    def quirks_for(self, model: ModelSpec | None) -> ProviderQuirks:
        """This provider's quirks with ``model``'s overrides applied (``model.quirks``).

        Args:
            model: A model served by this provider, or ``None`` for the provider's own quirks.
        """
        overrides = model.quirks if model is not None else None
        if overrides is None:
            return self.quirks
        changes: dict[str, object] = {
            field: value
            for field in overrides.__struct_fields__
            if field != "notes" and (value := getattr(overrides, field)) is not None
        }
        if overrides.notes:
            changes["notes"] = (*self.quirks.notes, *overrides.notes)
        return msgspec.structs.replace(self.quirks, **changes)


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
    quirks: QuirkOverrides | None = None
    """Where this model departs from its provider's quirks (see ``ProviderSpec.quirks_for``)."""
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
