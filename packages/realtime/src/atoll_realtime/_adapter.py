"""The adapter interface: one provider's realtime events to and from the neutral ones."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from ._config import SessionConfig
from ._events import RealtimeEvent

__all__ = ["RealtimeAdapter"]


class RealtimeAdapter(ABC):
    """Translates one provider's realtime protocol; the session does the I/O.

    Client events are returned as encoded JSON bytes ready to send as a text frame.
    """

    name: str
    """The adapter's name, as ``RealtimeEndpoint.adapter`` refers to it."""

    known_types: frozenset[str]
    """Provider event types that need no neutral form (lifecycle events): ``events()`` skips
    them unless asked for raw events. Types outside this set and the mapped ones always pass
    through as ``RawEvent``."""

    @abstractmethod
    def decode(self, payload: bytes) -> RealtimeEvent:
        """One server message as a neutral event (``RawEvent`` when it has no neutral form)."""

    @abstractmethod
    def session_update(self, config: SessionConfig) -> bytes:
        """The event that applies ``config`` to a freshly opened session."""

    @abstractmethod
    def user_text(self, text: str) -> bytes:
        """Add a user text message to the conversation."""

    @abstractmethod
    def audio_append(self, chunk: bytes) -> bytes:
        """Append raw audio to the input buffer."""

    @abstractmethod
    def audio_commit(self) -> bytes:
        """Commit the input buffer as a user message."""

    @abstractmethod
    def audio_clear(self) -> bytes:
        """Drop what the input buffer holds."""

    @abstractmethod
    def response_create(self, overrides: dict[str, Any]) -> bytes:
        """Ask for a response (``overrides`` apply to this response only)."""

    @abstractmethod
    def response_cancel(self, response_id: str | None) -> bytes:
        """Cancel the response in progress."""

    @abstractmethod
    def truncate(self, item_id: str, audio_end_ms: int) -> bytes:
        """Cut an assistant audio item at what the user actually heard."""

    @abstractmethod
    def tool_output(self, call_id: str, output: str) -> bytes:
        """Send a tool call's result."""

    @abstractmethod
    def is_session_ready(self, event: RealtimeEvent) -> bool:
        """The event that confirms the session update (``session.updated``)."""

    @abstractmethod
    def is_session_created(self, event: RealtimeEvent) -> bool:
        """The event a new connection starts with (``session.created``)."""

    @abstractmethod
    def response_started(self, event: RealtimeEvent) -> str | None:
        """The response id if ``event`` announces a new response, else ``None``."""
