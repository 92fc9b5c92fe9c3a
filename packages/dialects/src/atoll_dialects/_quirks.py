"""Provider and model differences, read once from the registry into one flat record.

Dialects never test a provider's name: they read a ``Quirks`` built here from the registry's
``ProviderSpec`` (auth style, quirks data) and ``ModelSpec`` (capabilities). This module is the
only place that knows the registry's field names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atoll_registry import ModelSpec, ProviderSpec


@dataclass(frozen=True, slots=True)
class Quirks:
    """What a dialect needs to know about one provider and model.

    Capability fields are ``None`` when the registry does not know; only a known ``False``
    blocks a request.
    """

    provider: str | None = None
    model: str | None = None
    stream_usage: bool = False
    """The provider accepts ``stream_options: {"include_usage": true}``."""
    max_tokens_field: str = "max_tokens"
    """``max_tokens`` or ``max_completion_tokens`` (OpenAI reasoning models)."""
    think_tag: str | None = None
    """Reasoning arrives inline in the text between ``<tag>`` and ``</tag>`` (``think``)."""
    echo_reasoning: bool = False
    """Reasoning arrives in ``reasoning_content`` and goes back in that field on assistant turns
    (DeepSeek's thinking mode rejects tool-use turns whose reasoning was dropped)."""
    empty_tool_call_ids: bool = False
    """Tool call ids may be ``""``: give them unique ids so results can be matched."""
    cache_tokens_in_input: bool = True
    """The raw input count already includes cache reads and writes (else the dialect adds them)."""
    native_output_format: bool = False
    """Anthropic: the model takes ``output_config.format``; otherwise a forced tool is used."""
    max_output_tokens: int | None = None
    """The model's documented output limit, if known."""
    tools: bool | None = None
    vision: bool | None = None
    audio: bool | None = None
    documents: bool | None = None
    json_schema: bool | None = None


def _modality(model: ModelSpec, name: str, declared: bool | None) -> bool | None:
    if declared is not None:
        return declared
    if model.input_modalities:
        return name in model.input_modalities
    return None


def _documents(model: ModelSpec) -> bool | None:
    # Providers that read images also take PDFs as pages (OpenAI converts them), and the data
    # rarely lists "pdf" separately: only a model documented as reading neither is refused.
    modalities = model.input_modalities
    if not modalities:
        return None
    return "pdf" in modalities or "image" in modalities


def quirks_for(
    provider: ProviderSpec | None, model: ModelSpec | None, *, anthropic: bool = False
) -> Quirks:
    """Read the registry's data for a provider and model into a ``Quirks`` record.

    Every call reads it twice (to build the request and to parse the answer), so records are
    remembered per pair of registry entries. Entries are frozen, so the same objects always give
    the same record; the key is their identity (hashing a whole model entry costs more than
    reading it) and the memo holds the entries, so an identity is never reused while cached.

    Args:
        provider: The provider's registry entry, or ``None`` for the dialect's defaults.
        model: The model's registry entry, or ``None`` (capabilities then unknown).
        anthropic: Use the Anthropic dialect's defaults when ``provider`` is ``None`` (cache
            tokens reported apart from input).

    Returns:
        The flat record the dialects read.
    """
    key = (id(provider), id(model), anthropic)
    hit = _MEMO.get(key)
    if hit is not None:
        return hit[2]
    quirks = _read_quirks(provider, model, anthropic=anthropic)
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.clear()
    _MEMO[key] = (provider, model, quirks)
    return quirks


_MEMO_SIZE = 1024
_MEMO: dict[tuple[int, int, bool], tuple[object, object, Quirks]] = {}


def _read_quirks(
    provider: ProviderSpec | None, model: ModelSpec | None, *, anthropic: bool = False
) -> Quirks:
    """Build the record (uncached); see ``quirks_for``."""
    quirks = Quirks(cache_tokens_in_input=not anthropic)
    if provider is not None:
        # The provider's quirks with this model's overrides (e.g. <think> tags on one model only).
        q = provider.quirks_for(
            model if model is not None and model.provider == provider.name else None
        )
        quirks = replace(
            quirks,
            provider=provider.name,
            stream_usage=q.stream_include_usage,
            max_tokens_field=q.max_tokens_field,
            think_tag=(q.think_tag or "think") if q.reasoning_field == "think_tags" else None,
            echo_reasoning=q.reasoning_field == "reasoning_content",
            empty_tool_call_ids=q.empty_tool_call_ids,
            cache_tokens_in_input=q.cache_tokens_in_input,
        )
    if model is not None and model.known:
        caps = model.capabilities
        quirks = replace(
            quirks,
            model=model.request_name,
            native_output_format=caps.json_schema is True,
            max_output_tokens=model.max_output_tokens,
            tools=caps.tools,
            vision=_modality(model, "image", caps.vision),
            audio=_modality(model, "audio", caps.audio),
            documents=_documents(model),
            json_schema=caps.json_schema,
        )
    return quirks
