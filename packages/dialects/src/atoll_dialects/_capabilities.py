"""Refuse, before sending, a request the model cannot serve (per the registry's capabilities)."""

from __future__ import annotations

from atoll_wire import AudioPart, ChatRequest, DocumentPart, ImagePart, Part, ToolResultPart

from ._exceptions import CapabilityError
from ._quirks import ModelFacts


def _media_kinds(parts: list[Part], found: set[str]) -> None:
    for part in parts:
        if isinstance(part, ImagePart):
            found.add("vision")
        elif isinstance(part, AudioPart):
            found.add("audio")
        elif isinstance(part, DocumentPart):
            found.add("documents")
        elif isinstance(part, ToolResultPart):
            _media_kinds(list(part.content), found)


def check_capabilities(request: ChatRequest, facts: ModelFacts) -> None:
    """Raise CapabilityError when the registry says the model lacks what the request needs.

    Unknown capabilities (``None``) never block: the provider will answer for itself.

    Args:
        request: The neutral request.
        facts: What the registry says the model can do.

    Raises:
        CapabilityError: Tools, an image, audio, a document or a JSON schema the model lacks.
    """
    where = {"provider": facts.provider, "model": facts.model or request.model}
    if request.tools and facts.tools is False:
        raise CapabilityError(
            "tools", "the model does not support tool calling, but the request has tools", **where
        )
    found: set[str] = set()
    for message in request.messages:
        _media_kinds(message.parts, found)
    labels = {"vision": "an image", "audio": "audio input", "documents": "a document"}
    for kind in ("vision", "audio", "documents"):
        if kind in found and getattr(facts, kind) is False:
            raise CapabilityError(
                kind, f"the model does not accept {labels[kind]}, but the request has one", **where
            )
    if request.output_schema is not None and facts.json_schema is False and facts.tools is False:
        raise CapabilityError(
            "json_schema",
            "the model supports neither JSON-schema output nor tools, so structured output "
            "cannot be requested",
            **where,
        )
