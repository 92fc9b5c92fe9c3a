"""A response ready to send: status, headers and body bytes (or SSE events), plus its fault.

Renderers build a :class:`Reply`; the HTTP protocol sends it, applying the fault's timing,
cuts and injected events. Keeping events as separate byte strings is what lets a fault land
"after N events" without re-parsing anything.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ._faults import Fault
from ._inputs import ChatInput
from ._script import Turn

JSON = b"application/json"
SSE = b"text/event-stream; charset=utf-8"


class Reply:
    """A response ready to send, as route handlers and dialect renderers build it.

    A plain body goes out with ``content-length``; a stream (``events`` set) goes out chunked,
    one event after another, which is where stream faults land: ``disconnect-events=N`` cuts
    after N events, ``error-event=N`` sends ``error_event`` after N, ``malformed=N`` inserts
    ``malformed_event``, and ``no-done`` drops ``terminal``. Events are framed bytes in the
    dialect's own framing (SSE ``data:`` lines, newline-delimited JSON, ...).

    Args:
        status: HTTP status.
        content_type: The ``content-type`` value, e.g. ``b"application/json"``.
        body: A plain body (ignored when ``events`` is set).
        events: A stream's events before its end marker, each framed and complete.
        terminal: The end marker event(s) (``[DONE]``, ``message_stop``); may be empty.
        headers: Extra response headers as ``(name, value)`` pairs.
        error_event: The framed error event the ``error-event`` fault sends.
        malformed_event: The framed, truncated event the ``malformed`` fault inserts.
        fault: A fault to apply when sending (set by the server).
        source: A body produced while it is sent (the recorder's pass-through), sent chunked.
    """

    __slots__ = (
        "body",
        "content_type",
        "error_event",
        "events",
        "fault",
        "headers",
        "malformed_event",
        "source",
        "status",
        "terminal",
    )

    def __init__(
        self,
        status: int,
        content_type: bytes,
        body: bytes = b"",
        *,
        events: list[bytes] | None = None,
        terminal: list[bytes] | None = None,
        headers: list[tuple[str, str]] | None = None,
        error_event: bytes = b"",
        malformed_event: bytes = b"",
        fault: Fault | None = None,
        source: AsyncIterator[bytes] | None = None,
    ) -> None:
        self.status = status
        self.content_type = content_type
        self.body = body
        self.events = events
        self.terminal = terminal or []
        self.headers = headers or []
        self.error_event = error_event
        self.malformed_event = malformed_event
        self.fault = fault
        self.source = source


def usage_numbers(turn: Turn, request: ChatInput) -> tuple[int, int, int, int, int]:
    """``(input, output, reasoning, cache_read, cache_write)`` for a turn, defaults filled in.

    Input follows the neutral (OpenAI) convention: cache reads and writes are included.
    """
    if turn.input_tokens is not None:
        input_tokens = turn.input_tokens
    else:
        input_tokens = request.input_tokens
    reasoning = turn.reasoning_tokens
    if reasoning is None:
        reasoning = len(turn.thinking.split()) if turn.thinking else 0
    if turn.output_tokens is not None:
        output = turn.output_tokens
    else:
        output = len(turn.full_text().split()) + reasoning
        output += sum(len(c.raw_arguments().split()) + 1 for c in turn.tool_calls)
    return (
        input_tokens,
        output,
        reasoning,
        turn.cache_read_tokens or 0,
        turn.cache_write_tokens or 0,
    )


def split_fixed(text: str, size: int) -> list[str]:
    """Split text into pieces of at most ``size`` characters (tool arguments in streams)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
