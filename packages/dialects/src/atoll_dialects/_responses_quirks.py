"""The OpenAI Responses dialect's quirk record: how a Responses server departs from OpenAI's."""

from __future__ import annotations

from typing import Literal

from ._quirks import DialectQuirks

__all__ = ["OpenAIResponsesQuirks"]


class OpenAIResponsesQuirks(DialectQuirks, frozen=True, kw_only=True):
    """Registry ``quirks`` of an openai-responses provider; the defaults are OpenAI's API.

    Atoll's Client is stateless (each call sends the whole conversation), so by default it
    asks the provider to keep nothing (``store: false``) and to return reasoning encrypted,
    which then goes back with the next turn.
    """

    store: bool | None = False
    """The ``store`` sent when a call does not set one (``extra={"store": ...}``): False keeps
    nothing at the provider; True stores responses (OpenAI's own default, needed to continue
    with ``previous_response_id``); None sends no ``store`` field (servers that reject it)."""
    encrypted_reasoning: bool = True
    """When a call does not store its response, ask for ``include:
    ["reasoning.encrypted_content"]`` (unless the registry says the model does not reason, or
    the call gives its own ``include``); False for servers that refuse that value."""
    reasoning_text_field: Literal["summary", "content"] = "summary"
    """Where a reasoning item's readable text goes back on the next turn: ``summary`` (OpenAI
    sends summaries) or ``content`` (servers that show the reasoning itself, such as
    open-weight models on vLLM)."""
