"""Every exception atoll_realtime raises, in one place.

The hierarchy (``AtollError`` is the root of the whole stack, in atoll_wire)::

    AtollError
    └── RealtimeSessionError          base of everything raised here (provider, model)
        ├── RealtimeConnectError          the session could not be opened (status, body excerpt)
        │   └── RealtimeAuthError             the provider refused the key (401/403 or an
        │                                     ``invalid_api_key`` error at start)
        ├── RealtimeConnectionLost        the socket closed mid-session (close code, reason,
        │                                 recoverable, the events of the unfinished response)
        ├── RealtimeProtocolError         the peer broke RFC 6455 or sent what is not an event
        ├── RealtimeClosedError           the session was used after it closed
        └── AudioFormatError              audio that is not 16-bit PCM of whole frames

Server ``error`` events are not exceptions: most leave the session open, so they arrive as
``RealtimeError`` events in ``events()``. No error here ever holds the API key: handshake
bodies are cut short and scrubbed of key-like text before they are stored.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atoll_wire import AtollError

if TYPE_CHECKING:
    from ._events import RealtimeEvent

RECOVERABLE_CLOSE_CODES = frozenset({1001, 1005, 1006, 1011, 1012, 1013, 1015})
"""Close codes worth reconnecting after: going away, no status, abnormal (no close frame),
server error, service restart, try again later, TLS failure."""


class RealtimeSessionError(AtollError):
    """Base class of every error raised by atoll_realtime.

    Attributes:
        message: What went wrong, in one sentence.
        provider: The registry provider name (``openai``), when known.
        model: The model the session was for, when known.
    """

    def __init__(self, message: str, *, provider: str | None = None, model: str | None = None):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model

    def __str__(self) -> str:
        return self.message


class RealtimeConnectError(RealtimeSessionError):
    """The session could not be opened: no connection, a refused handshake, or a start error.

    Attributes:
        status: The HTTP status of a refused handshake, else ``None``.
        body: The first bytes of the refusal's body, decoded and scrubbed of key-like text.
        code: The provider's error code (``invalid_api_key``, ``model_not_found``), if given.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: str = "",
        code: str | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, model=model)
        self.status = status
        self.body = body
        self.code = code


class RealtimeAuthError(RealtimeConnectError):
    """The provider refused the credentials (HTTP 401/403, or ``invalid_api_key`` at start)."""


class RealtimeConnectionLost(RealtimeSessionError):
    """The WebSocket closed while the session was open, without the caller asking.

    Attributes:
        close_code: The close code (1006 when the connection dropped without a close frame,
            1005 when the close frame carried no code).
        reason: The close frame's reason text.
        recoverable: The code is one worth reconnecting after (see ``RECOVERABLE_CLOSE_CODES``).
        partial: The events of the response in progress when the connection dropped (what
            arrived so far), oldest first.
    """

    def __init__(
        self,
        message: str,
        *,
        close_code: int,
        reason: str = "",
        partial: tuple[RealtimeEvent, ...] = (),
        provider: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, model=model)
        self.close_code = close_code
        self.reason = reason
        self.recoverable = close_code in RECOVERABLE_CLOSE_CODES
        self.partial = partial

    @property
    def text(self) -> str:
        """The text (and output transcript) deltas of ``partial``, joined."""
        from ._events import TextDelta, Transcript

        parts: list[str] = []
        for event in self.partial:
            if isinstance(event, TextDelta) or (
                isinstance(event, Transcript) and event.role == "assistant" and not event.final
            ):
                parts.append(event.text)
        return "".join(parts)

    @property
    def audio(self) -> bytes:
        """The audio deltas of ``partial``, joined."""
        from ._events import AudioDelta

        return b"".join(e.audio for e in self.partial if isinstance(e, AudioDelta))


class RealtimeProtocolError(RealtimeSessionError):
    """The peer broke the WebSocket protocol (bad frame, bad handshake answer).

    Attributes:
        close_code: The close code sent to the peer for it (1002, 1007, 1009), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        close_code: int | None = None,
        provider: str | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(message, provider=provider, model=model)
        self.close_code = close_code


class RealtimeClosedError(RealtimeSessionError):
    """The session is closed (or was never opened); open a new one."""


class AudioFormatError(RealtimeSessionError, ValueError):
    """Audio that is not 16-bit PCM made of whole sample frames."""
