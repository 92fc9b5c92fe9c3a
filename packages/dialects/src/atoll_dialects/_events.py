"""What happens during a call, as typed events: one taxonomy for the Client, agents and sinks.

The Client emits ``RequestStarted``, ``FirstToken`` (streams), ``RetryScheduled``,
``FallbackUsed`` and then ``RequestFinished`` or ``RequestFailed``, from the one attempt loop,
so the async and the sync client emit the same events in the same order. Agents add
``ToolCalled``, ``ToolFinished`` and ``MessageAdded``. Every event carries the call id, the model
and its provider, the wall-clock time it happened and, inside an agent run, the run id.

Events are frozen msgspec structs tagged by their class name (``{"event": "RetryScheduled",
...}``): ``JsonlSink`` writes them as JSON lines and ``decode_event`` reads them back. Text in
them has passed the call's ``Redactor``; message content is present only when the Redactor
captures content.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TypeAlias

import msgspec
from atoll_wire import Message, Usage

__all__ = [
    "EVENT_TYPES",
    "AnyEvent",
    "FallbackUsed",
    "FirstToken",
    "MessageAdded",
    "RequestFailed",
    "RequestFinished",
    "RequestStarted",
    "RetryScheduled",
    "TelemetryEvent",
    "ToolCalled",
    "ToolFinished",
    "decode_event",
]


class TelemetryEvent(
    msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag_field="event", tag=True
):
    """What every event carries.

    Attributes:
        call_id: The model call's id (for an agent's tool and message events: the call that
            produced them, or ``""`` for messages the caller supplied).
        model: The model name as sent to the provider.
        provider: The provider's registry name (``custom`` for a bare ``base_url``).
        time: When it happened, as Unix time in seconds.
        run_id: The agent run it belongs to, if any.
    """

    call_id: str
    model: str
    provider: str
    time: float
    run_id: str | None = None


class RequestStarted(TelemetryEvent, frozen=True, kw_only=True):
    """A call began (before its first attempt is sent).

    Attributes:
        operation: ``chat`` or ``embeddings``.
        stream: Whether the call streams.
        models: ``provider/model`` of every model the call may use, in fallback order.
        input: The request's messages, only when the Redactor captures content (masked).
    """

    operation: str
    stream: bool = False
    models: tuple[str, ...] = ()
    input: list[Message] | None = None


class FirstToken(TelemetryEvent, frozen=True, kw_only=True):
    """The first chunk of a stream's body arrived.

    Attributes:
        elapsed: Seconds from the call's start (time to first token, across any retries).
    """

    elapsed: float


class RetryScheduled(TelemetryEvent, frozen=True, kw_only=True):
    """An attempt failed and the same model is tried again after a wait.

    Attributes:
        attempt: The number of the attempt that failed (1-based, per model).
        error: The error's class name.
        message: The error's message (redacted).
        status: The HTTP status, when the provider answered.
        wait: Seconds waited before the next attempt.
    """

    attempt: int
    error: str
    message: str = ""
    status: int | None = None
    wait: float = 0.0


class FallbackUsed(TelemetryEvent, frozen=True, kw_only=True):
    """A model gave up and the next one in the list takes over (``model`` is the new one).

    Attributes:
        from_model: ``provider/model`` that failed.
        to_model: ``provider/model`` that takes over.
        reason: Why: the last error's class name and status.
        message: The last error's message (redacted).
    """

    from_model: str
    to_model: str
    reason: str
    message: str = ""


class RequestFinished(TelemetryEvent, frozen=True, kw_only=True):
    """A call succeeded (a stream: its body ended, or the caller left it early).

    Attributes:
        operation: ``chat`` or ``embeddings``.
        stream: Whether the call streamed.
        duration: Seconds from the call's start to its end, waits included.
        served_by: ``provider/model`` that answered.
        attempts: Attempts sent, across retries and fallback models.
        usage: Tokens used, as the provider reported them.
        cost: The cost in USD, or None when a price is unknown.
        cost_note: Why ``cost`` is None.
        finish_reason: The normalized finish reason, when there is one.
        time_to_first_token: Seconds to the first streamed chunk (streams only).
        incomplete: The stream ended before the provider said it was done.
        output: The reply, only when the Redactor captures content (masked).
    """

    operation: str
    stream: bool = False
    duration: float
    served_by: str
    attempts: int = 1
    usage: Usage = msgspec.field(default_factory=Usage)
    cost: Decimal | None = None
    cost_note: str | None = None
    finish_reason: str | None = None
    time_to_first_token: float | None = None
    incomplete: bool = False
    output: Message | None = None


class RequestFailed(TelemetryEvent, frozen=True, kw_only=True):
    """A call ended with an error (retries and fallbacks spent, or not allowed), or was cancelled.

    Attributes:
        operation: ``chat`` or ``embeddings``.
        stream: Whether the call streamed.
        duration: Seconds from the call's start to the failure.
        attempts: Attempts sent, across retries and fallback models.
        error: The error's class name.
        message: The error's message (redacted).
        status: The HTTP status, when the provider answered.
        cancelled: The caller cancelled the call (or left its stream by an exception).
    """

    operation: str
    stream: bool = False
    duration: float
    attempts: int = 0
    error: str
    message: str = ""
    status: int | None = None
    cancelled: bool = False


class ToolCalled(TelemetryEvent, frozen=True, kw_only=True):
    """An agent is about to run a tool call (emitted by atoll_agents).

    Attributes:
        tool: The tool's name.
        tool_call_id: The model's id for the call.
        turn: The model turn that asked for it.
        arguments: The raw arguments, only when the Redactor captures content (masked).
    """

    tool: str
    tool_call_id: str
    turn: int
    arguments: str | None = None


class ToolFinished(TelemetryEvent, frozen=True, kw_only=True):
    """A tool call has its result (emitted by atoll_agents).

    Attributes:
        tool: The tool's name.
        tool_call_id: The model's id for the call.
        turn: The model turn that asked for it.
        duration: Seconds the call took (validation, approval and the tool itself).
        is_error: The result is an error result (a failure, a denial, a timeout).
        error: The failure's class name, when it failed.
        result: The result's text, only when the Redactor captures content (masked).
    """

    tool: str
    tool_call_id: str
    turn: int
    duration: float
    is_error: bool = False
    error: str | None = None
    result: str | None = None


class MessageAdded(TelemetryEvent, frozen=True, kw_only=True):
    """A complete message was added to an agent run's conversation (emitted by atoll_agents).

    Attributes:
        index: Its position in the conversation.
        role: ``system``, ``user``, ``assistant`` or ``tool``.
        producer: ``provider/model`` that wrote it (assistant turns), else None.
        message: The message, only when the Redactor captures content (masked).
    """

    index: int
    role: str
    producer: str | None = None
    message: Message | None = None


AnyEvent: TypeAlias = (
    RequestStarted
    | FirstToken
    | RetryScheduled
    | FallbackUsed
    | RequestFinished
    | RequestFailed
    | ToolCalled
    | ToolFinished
    | MessageAdded
)
"""Every event type, as one tagged union (what ``decode_event`` reads)."""

EVENT_TYPES: tuple[type[TelemetryEvent], ...] = (
    RequestStarted,
    FirstToken,
    RetryScheduled,
    FallbackUsed,
    RequestFinished,
    RequestFailed,
    ToolCalled,
    ToolFinished,
    MessageAdded,
)

_DECODER = msgspec.json.Decoder(AnyEvent)


def decode_event(data: bytes | str) -> AnyEvent:
    """Read one event from its JSON form (one line written by ``JsonlSink``).

    Raises:
        msgspec.DecodeError: ``data`` is not JSON.
        msgspec.ValidationError: It is JSON but not an event of this taxonomy.
    """
    return _DECODER.decode(data)
