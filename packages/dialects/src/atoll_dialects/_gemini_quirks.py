"""The Gemini dialect's quirk record: how an endpoint speaking Gemini's API departs from it."""

from __future__ import annotations

from ._quirks import DialectQuirks

__all__ = ["GeminiQuirks"]


class GeminiQuirks(DialectQuirks, frozen=True, kw_only=True):
    """Registry ``quirks`` of a gemini provider; the defaults are the Gemini API's behaviour."""

    vertex: bool = False
    """Vertex AI paths: ``{root}/{api_version}/projects/{project}/locations/{location}/
    publishers/google/models/{model}:method``, the host picked by the location (``global``,
    the ``us``/``eu`` multi-regions, or a region), and embeddings through ``:predict``."""
    openapi_schemas: bool = False
    """The model takes only the OpenAPI 3.0 subset of JSON Schema: tool parameters go in
    ``parameters`` and output schemas in ``responseSchema``, down-converted (``$ref`` inlined,
    ``anyOf`` with null as ``nullable``, unsupported keywords dropped). False sends the full
    JSON Schema in ``parametersJsonSchema`` and ``responseJsonSchema``."""
    unsigned_call_signature: str | None = None
    """Sent as the ``thoughtSignature`` of a model turn's first ``functionCall`` that has none
    (a call from another provider's turn, a fallback, a hand-built history): Gemini 3 answers
    400 to such a call, and Google documents ``skip_thought_signature_validator`` for it.
    Signatures the model gave are never replaced; None sends nothing."""
