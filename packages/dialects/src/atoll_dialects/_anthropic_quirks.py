"""The Anthropic Messages dialect's quirk record."""

from __future__ import annotations

from ._quirks import DialectQuirks

__all__ = ["AnthropicQuirks"]


class AnthropicQuirks(DialectQuirks, frozen=True, kw_only=True):
    """Registry ``quirks`` of an anthropic-messages provider; defaults are Anthropic's API."""

    max_tokens_required: bool = True
    """Requests must carry ``max_tokens``: the dialect fills one in when the caller gave none
    (the model's output limit, at most 8,192). When False, an unset value is left out."""
    cache_tokens_in_input: bool = False
    """The raw input count already includes cache reads and writes (Anthropic's does not, so
    the dialect adds them to make the neutral input count)."""
    vertex_version: str | None = None
    """Claude on Vertex AI: requests go to ``{root}/v1/projects/{project}/locations/{location}/
    publishers/anthropic/models/{model}:rawPredict`` (``:streamRawPredict`` for streams) with
    this value as ``anthropic_version`` in the body and no ``model`` there (it is in the URL)."""
