"""Provider and model differences, read once per target from the registry's data.

Two records, made when a Client resolves a target and never re-read on the hot path:

- the dialect's quirk record: each dialect declares its own (a frozen msgspec struct whose
  defaults are the dialect's reference behaviour), and the registry's ``quirks`` mapping for the
  provider, with the model's overrides merged on top, is validated against it;
- ``ModelFacts``: what the registry says the model can do (capabilities, limits), the same for
  every dialect.

Dialects never test a provider's name: they read these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
from atoll_registry import RegistryDataError

if TYPE_CHECKING:
    from atoll_registry import ModelSpec

__all__ = ["DialectQuirks", "ModelFacts", "read_quirks"]


class DialectQuirks(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The base of every dialect's quirk record; a dialect subclasses it with its fields.

    Every field a subclass declares must be read by the dialect and exercised by a test
    (tests/dialects/test_quirk_readers.py fails for a field without one).
    """

    notes: tuple[str, ...] = ()
    """Observed behaviour worth knowing, in prose (read by people, not code)."""


Q = TypeVar("Q", bound="DialectQuirks")


def read_quirks(
    kind: type[Q], values: Mapping[str, Any], *, provider: str, origin: str = "registry"
) -> Q:
    """Validate a registry quirk mapping against a dialect's quirk record.

    Args:
        kind: The dialect's quirk record type.
        values: The provider's quirks with the model's overrides merged on top.
        provider: The provider's name, for the error.
        origin: Where the data came from, for the error.

    Raises:
        RegistryDataError: A quirk the dialect does not know, or a value of the wrong type.
    """
    try:
        return msgspec.convert(values, kind)
    except msgspec.ValidationError as exc:
        raise RegistryDataError(
            origin, f"provider {provider!r}: quirks for the {kind.__name__} record: {exc}"
        ) from None


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What the registry says a model can do; ``None`` means not documented (never blocks).

    Attributes:
        provider: The provider's name.
        model: The model name sent on the wire, when known.
        max_output_tokens: The documented output limit.
        tools: Tool calling.
        vision: Image input.
        audio: Audio input.
        documents: Document (PDF) input.
        json_schema: Output constrained to a JSON Schema.
    """

    provider: str | None = None
    model: str | None = None
    max_output_tokens: int | None = None
    tools: bool | None = None
    vision: bool | None = None
    audio: bool | None = None
    documents: bool | None = None
    json_schema: bool | None = None

    @classmethod
    def of(cls, provider: str | None, model: ModelSpec | None) -> ModelFacts:
        """Read a model's registry entry (``None`` or an unlisted model: nothing is known)."""
        if model is None or not model.known:
            return cls(provider=provider, model=model.request_name if model else None)
        caps = model.capabilities
        return cls(
            provider=provider,
            model=model.request_name,
            max_output_tokens=model.max_output_tokens,
            tools=caps.tools,
            vision=_modality(model, "image", caps.vision),
            audio=_modality(model, "audio", caps.audio),
            documents=_documents(model),
            json_schema=caps.json_schema,
        )


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
