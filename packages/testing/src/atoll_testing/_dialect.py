"""``ServerDialect``: one provider API family as the local server speaks it.

A dialect owns everything that differs between API families: its routes, which header carries
the key, how a request body becomes the neutral :class:`ChatInput`, how a scripted
:class:`Turn` is rendered (whole and as a stream, with its own framing), and the shape of its
errors. The server owns everything else: the route table, the model lookup, scripts, replay,
faults, the request log and the counters. OpenAI chat and Anthropic Messages are two
implementations; a new family is a new subclass, given to ``FakeLLMServer(dialects=...)`` or
registered with ``register_server_dialect``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._exceptions import DialectError
from ._faults import Fault
from ._inputs import ChatInput
from ._reply import Reply
from ._routes import Route
from ._script import Turn

if TYPE_CHECKING:
    from ._exchange import Exchange


class ServerDialect(ABC):
    """The server side of one API family: routes, auth, parsing, rendering and errors.

    Subclass it and implement the abstract methods; override the others where the family
    differs from the defaults. Instances may hold configuration (a path prefix, a required
    query parameter), so one class can serve several deployments.

    Attributes:
        name: Short unique name, e.g. ``"openai"``; models see it as ``ChatInput.dialect``.
        corpus_dialect: The ``dialect`` of recorded cases in this family (``"openai-chat"``),
            used to render faults on replayed streams and to file recordings.
        malformed_event: A stream event with truncated JSON, in this dialect's framing (the
            ``malformed=N`` fault).
    """

    name: str = ""
    corpus_dialect: str = ""
    malformed_event: bytes = b'data: {"malformed\n\n'

    # ---- routing and auth -----------------------------------------------------------------

    @abstractmethod
    def routes(self) -> Sequence[Route]:
        """The endpoints this dialect answers (called once per server)."""

    @abstractmethod
    def credential(self, headers: Mapping[str, str]) -> str | None:
        """The API key the request presents in THIS dialect's auth header.

        The server compares it with its ``api_key``; a key sent in another dialect's header
        does not count (return None for it), as a real provider would not read it.

        Args:
            headers: The request headers, names lower-cased.

        Returns:
            The key, or None when the dialect's header is absent or malformed.
        """

    def auth_error(self, headers: Mapping[str, str]) -> Reply:
        """The 401 sent when the key is missing or wrong (never echo the presented key).

        Args:
            headers: The request headers, names lower-cased.
        """
        return self.error(401, "invalid API key")

    # ---- chat ------------------------------------------------------------------------------

    @abstractmethod
    def parse_chat(self, exchange: Exchange) -> ChatInput:
        """Read a chat request into the neutral :class:`ChatInput`.

        Raise ``msgspec.DecodeError`` / ``msgspec.ValidationError`` (answered with 400,
        "invalid request body") or :class:`RequestError` for anything else to reject.
        """

    @abstractmethod
    def render(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """A whole (non-stream) response for a turn.

        ``exchange.number`` and ``exchange.created`` give a unique number and a timestamp
        for ids.
        """

    @abstractmethod
    def render_stream(self, turn: Turn, chat: ChatInput, exchange: Exchange) -> Reply:
        """A streamed response: ``Reply.events`` framed in this dialect's way.

        Put the end marker (``[DONE]``, ``message_stop``) in ``Reply.terminal`` so that the
        ``no-done`` fault can drop it, and set ``error_event`` and ``malformed_event``.
        """

    def serve_chat(self, exchange: Exchange) -> Reply:
        """The usual chat route handler: parse, then let the server answer with the model."""
        return exchange.answer(self.parse_chat(exchange))

    # ---- errors and faults -----------------------------------------------------------------

    @abstractmethod
    def error(self, status: int, message: str, error_type: str | None = None) -> Reply:
        """An HTTP error response in this dialect's error-body shape.

        Args:
            status: HTTP status.
            message: Human-readable message.
            error_type: The dialect's error type; None means its default for ``status``.
        """

    @abstractmethod
    def error_event(self, message: str, error_type: str | None = None) -> bytes:
        """A mid-stream error event, framed for this dialect's streams (``error-event=N``)."""

    def ratelimit_headers(self, fault: Fault) -> list[tuple[str, str]]:
        """A fault's ``rl.<kind>.<field>`` items as headers: ``x-ratelimit-<field>-<kind>``."""
        return [(f"x-ratelimit-{f}-{k}", v) for k, f, v in fault.ratelimit]

    # ---- recordings ------------------------------------------------------------------------

    def is_stream_end(self, event: bytes) -> bool:
        """Whether a recorded stream event is the end marker (dropped by ``no-done``)."""
        return False

    def expect(self, body: str, stream: bool, status: int) -> dict[str, Any] | None:
        """The corpus ``expect`` block for a recorded body, or None when not understood."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def check_dialect(dialect: object) -> ServerDialect:
    """``dialect`` itself, after checking it is a usable :class:`ServerDialect`."""
    if not isinstance(dialect, ServerDialect):
        raise DialectError(repr(dialect), "is not a ServerDialect")
    if not isinstance(dialect.name, str) or not dialect.name:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise DialectError(repr(dialect), "needs a non-empty name")
    return dialect
