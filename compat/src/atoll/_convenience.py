"""``ai``, ``ai_``, ``aai`` and ``aai_``: quick one-liners on a module conversation.

The legacy ``ai"..."`` string macros as functions: ``ai("Hi")`` starts a conversation and
returns the reply; ``ai_("And then?")`` (``ai!``) continues the last one; ``aai``/``aai_`` do the
same on the running event loop. Conversations are kept in ``CONV_HISTORY`` (the last
``MAX_HISTORY_LENGTH`` preference of them, 5 by default).
"""

from __future__ import annotations

import threading
from typing import Any

from ._generate import aigenerate, aigenerate_async
from ._messages import AbstractMessage
from ._preferences import get_preferences

CONV_HISTORY: list[list[AbstractMessage]] = []
"""The conversations of ``ai``/``ai_``/``aai``/``aai_``, oldest first."""

_lock = threading.Lock()


def push_conversation(conversation: list[AbstractMessage]) -> None:
    """Add a conversation to ``CONV_HISTORY``, dropping the oldest beyond the limit."""
    limit = get_preferences("MAX_HISTORY_LENGTH")
    with _lock:
        CONV_HISTORY.append(conversation)
        if limit is not None:
            del CONV_HISTORY[: max(len(CONV_HISTORY) - int(limit), 0)]


def _last() -> list[AbstractMessage]:
    with _lock:
        return list(CONV_HISTORY[-1]) if CONV_HISTORY else []


def ai(prompt: str, model: str | None = None, **kwargs: Any) -> Any:
    """Start a conversation with ``prompt``; returns the reply (``ai"..."`` in the legacy API).

    Args:
        prompt: What to say.
        model: A model name or alias (default: the ``MODEL_CHAT`` preference).
        **kwargs: Any ``aigenerate`` keyword argument or placeholder value.
    """
    conversation = aigenerate(prompt, model=model, return_all=True, **kwargs)
    push_conversation(conversation)
    return conversation[-1]


def ai_(prompt: str, model: str | None = None, **kwargs: Any) -> Any:
    """Continue the last conversation (``ai!"..."``); starts one when there is none."""
    conversation = aigenerate(prompt, model=model, return_all=True, conversation=_last(), **kwargs)
    push_conversation(conversation)
    return conversation[-1]


async def aai(prompt: str, model: str | None = None, **kwargs: Any) -> Any:
    """``ai`` on the running event loop (asyncio or trio)."""
    conversation = await aigenerate_async(prompt, model=model, return_all=True, **kwargs)
    push_conversation(conversation)
    return conversation[-1]


async def aai_(prompt: str, model: str | None = None, **kwargs: Any) -> Any:
    """``ai_`` on the running event loop (asyncio or trio)."""
    conversation = await aigenerate_async(
        prompt, model=model, return_all=True, conversation=_last(), **kwargs
    )
    push_conversation(conversation)
    return conversation[-1]
