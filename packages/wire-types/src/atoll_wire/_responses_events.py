"""OpenAI Responses API stream events: a tagged union on ``type``, one struct per event.

Every event carries ``sequence_number``. Events are encoded whole (None as null), as the API
sends them. Built-in tool progress events (web search, file search, code interpreter, image
generation, MCP, ...) and any event added later decode to ``UnknownEvent`` with the JSON as sent.
"""

from __future__ import annotations

from typing import Any, TypeAlias, get_args

import msgspec

from ._responses_body import Response
from ._responses_items import Item, StreamedPart, SummaryText


# gc=False: decoded wire data never forms reference cycles; untracked structs allocate faster.
class _Event(msgspec.Struct, tag_field="type", kw_only=True, gc=False):
    """Every stream event: tagged on ``type``, every field encoded."""

    sequence_number: int | None = None
    """The event's position in the stream (from 0 or 1, as the server counts)."""


# ---------------------------------------------------------------- lifecycle


class ResponseCreatedEvent(_Event, tag="response.created", kw_only=True):
    """The response was created (``status: in_progress``, no output yet).

    Attributes:
        response: The response so far.
    """

    response: Response


class ResponseQueuedEvent(_Event, tag="response.queued", kw_only=True):
    """The response is queued.

    Attributes:
        response: The response so far.
    """

    response: Response


class ResponseInProgressEvent(_Event, tag="response.in_progress", kw_only=True):
    """The response is being generated.

    Attributes:
        response: The response so far.
    """

    response: Response


class ResponseCompletedEvent(_Event, tag="response.completed", kw_only=True):
    """The response is complete: the stream's last event.

    Attributes:
        response: The whole response, usage included.
    """

    response: Response


class ResponseIncompleteEvent(_Event, tag="response.incomplete", kw_only=True):
    """The response ended early (``incomplete_details.reason``): the stream's last event.

    Attributes:
        response: The response as far as it got, usage included.
    """

    response: Response


class ResponseFailedEvent(_Event, tag="response.failed", kw_only=True):
    """The response failed (``response.error``): the stream's last event.

    Attributes:
        response: The response, with ``error`` set.
    """

    response: Response


class ErrorEvent(_Event, tag="error", kw_only=True):
    """An error in the stream.

    Attributes:
        code: The error code (``rate_limit_exceeded``, ``server_error``, ...), if any.
        message: What went wrong.
        param: The request parameter at fault, if any.
    """

    code: str | None = None
    message: str = ""
    param: str | None = None


# ---------------------------------------------------------------- items and content parts


class OutputItemAddedEvent(_Event, tag="response.output_item.added", kw_only=True):
    """An output item begins (its content and arguments arrive in later events).

    Attributes:
        output_index: The item's position in ``response.output``.
        item: The item so far. A reasoning item's ``encrypted_content`` may be incomplete.
    """

    output_index: int
    item: Item


class OutputItemDoneEvent(_Event, tag="response.output_item.done", kw_only=True):
    """An output item is complete: the version to send back on the next turn.

    Attributes:
        output_index: The item's position in ``response.output``.
        item: The complete item.
    """

    output_index: int
    item: Item


class ContentPartAddedEvent(_Event, tag="response.content_part.added", kw_only=True):
    """A content part of a message (or reasoning) item begins.

    Attributes:
        item_id: The item's id.
        output_index: The item's position.
        content_index: The part's position in the item's content.
        part: The part so far (empty text).
    """

    item_id: str
    output_index: int
    content_index: int
    part: StreamedPart


class ContentPartDoneEvent(_Event, tag="response.content_part.done", kw_only=True):
    """A content part is complete.

    Attributes:
        item_id: The item's id.
        output_index: The item's position.
        content_index: The part's position.
        part: The complete part.
    """

    item_id: str
    output_index: int
    content_index: int
    part: StreamedPart


class OutputTextDeltaEvent(_Event, tag="response.output_text.delta", kw_only=True):
    """More text of an ``output_text`` part: the hot path of a stream.

    Attributes:
        item_id: The message item's id.
        output_index: The item's position.
        content_index: The part's position.
        delta: The text fragment.
        logprobs: Log probabilities of the fragment's tokens, when asked for.
    """

    item_id: str
    output_index: int
    content_index: int
    delta: str
    logprobs: list[Any] = []


class OutputTextDoneEvent(_Event, tag="response.output_text.done", kw_only=True):
    """An ``output_text`` part is complete.

    Attributes:
        item_id: The message item's id.
        output_index: The item's position.
        content_index: The part's position.
        text: The whole text.
        logprobs: Log probabilities, when asked for.
    """

    item_id: str
    output_index: int
    content_index: int
    text: str
    logprobs: list[Any] = []


class OutputTextAnnotationAddedEvent(
    _Event, tag="response.output_text.annotation.added", kw_only=True
):
    """A citation (or file path) was added to an ``output_text`` part.

    Attributes:
        item_id: The message item's id.
        output_index: The item's position.
        content_index: The part's position.
        annotation_index: The annotation's position.
        annotation: The annotation, as sent.
    """

    item_id: str
    output_index: int
    content_index: int
    annotation_index: int
    annotation: dict[str, Any] | None = None


class RefusalDeltaEvent(_Event, tag="response.refusal.delta", kw_only=True):
    """More refusal text.

    Attributes:
        item_id: The message item's id.
        output_index: The item's position.
        content_index: The part's position.
        delta: The fragment.
    """

    item_id: str
    output_index: int
    content_index: int
    delta: str


class RefusalDoneEvent(_Event, tag="response.refusal.done", kw_only=True):
    """A refusal is complete.

    Attributes:
        item_id: The message item's id.
        output_index: The item's position.
        content_index: The part's position.
        refusal: The whole refusal text.
    """

    item_id: str
    output_index: int
    content_index: int
    refusal: str


class FunctionCallArgumentsDeltaEvent(
    _Event, tag="response.function_call_arguments.delta", kw_only=True
):
    """More argument JSON of a function call.

    Attributes:
        item_id: The function call item's id.
        output_index: The item's position.
        delta: The fragment.
    """

    item_id: str
    output_index: int
    delta: str


class FunctionCallArgumentsDoneEvent(
    _Event, tag="response.function_call_arguments.done", kw_only=True
):
    """A function call's arguments are complete.

    Attributes:
        item_id: The function call item's id.
        output_index: The item's position.
        arguments: The whole argument JSON text.
        name: The function's name.
    """

    item_id: str
    output_index: int
    arguments: str
    name: str | None = None


class ReasoningSummaryPartAddedEvent(
    _Event, tag="response.reasoning_summary_part.added", kw_only=True
):
    """A part of a reasoning item's summary begins.

    Attributes:
        item_id: The reasoning item's id.
        output_index: The item's position.
        summary_index: The part's position in the summary.
        part: The part so far.
    """

    item_id: str
    output_index: int
    summary_index: int
    part: SummaryText


class ReasoningSummaryPartDoneEvent(
    _Event, tag="response.reasoning_summary_part.done", kw_only=True
):
    """A summary part is complete.

    Attributes:
        item_id: The reasoning item's id.
        output_index: The item's position.
        summary_index: The part's position.
        part: The complete part.
        status: ``incomplete`` when it was cut short.
    """

    item_id: str
    output_index: int
    summary_index: int
    part: SummaryText
    status: str | None = None


class ReasoningSummaryTextDeltaEvent(
    _Event, tag="response.reasoning_summary_text.delta", kw_only=True
):
    """More reasoning summary text.

    Attributes:
        item_id: The reasoning item's id.
        output_index: The item's position.
        summary_index: The summary part's position.
        delta: The fragment.
    """

    item_id: str
    output_index: int
    summary_index: int
    delta: str


class ReasoningSummaryTextDoneEvent(
    _Event, tag="response.reasoning_summary_text.done", kw_only=True
):
    """A summary part's text is complete.

    Attributes:
        item_id: The reasoning item's id.
        output_index: The item's position.
        summary_index: The summary part's position.
        text: The whole text.
    """

    item_id: str
    output_index: int
    summary_index: int
    text: str


class ReasoningTextDeltaEvent(_Event, tag="response.reasoning_text.delta", kw_only=True):
    """More reasoning text (servers that show the reasoning itself).

    Attributes:
        item_id: The reasoning item's id.
        output_index: The item's position.
        content_index: The reasoning part's position.
        delta: The fragment.
    """

    item_id: str
    output_index: int
    content_index: int
    delta: str


class ReasoningTextDoneEvent(_Event, tag="response.reasoning_text.done", kw_only=True):
    """A reasoning text part is complete.

    Attributes:
        item_id: The reasoning item's id.
        output_index: The item's position.
        content_index: The reasoning part's position.
        text: The whole text.
    """

    item_id: str
    output_index: int
    content_index: int
    text: str


class UnknownEvent(_Event, tag="unknown", kw_only=True):
    """An event whose ``type`` this module does not know, kept whole.

    Attributes:
        event_type: The event's ``type``.
        raw: The event's JSON as decoded.
    """

    event_type: str
    raw: Any


StreamEvent: TypeAlias = (
    OutputTextDeltaEvent
    | ResponseCreatedEvent
    | ResponseQueuedEvent
    | ResponseInProgressEvent
    | ResponseCompletedEvent
    | ResponseIncompleteEvent
    | ResponseFailedEvent
    | ErrorEvent
    | OutputItemAddedEvent
    | OutputItemDoneEvent
    | ContentPartAddedEvent
    | ContentPartDoneEvent
    | OutputTextDoneEvent
    | OutputTextAnnotationAddedEvent
    | RefusalDeltaEvent
    | RefusalDoneEvent
    | FunctionCallArgumentsDeltaEvent
    | FunctionCallArgumentsDoneEvent
    | ReasoningSummaryPartAddedEvent
    | ReasoningSummaryPartDoneEvent
    | ReasoningSummaryTextDeltaEvent
    | ReasoningSummaryTextDoneEvent
    | ReasoningTextDeltaEvent
    | ReasoningTextDoneEvent
    | UnknownEvent
)
"""Any Responses stream event."""

EVENT_TYPES = frozenset(
    tag
    for tag in (cls.__struct_config__.tag for cls in get_args(StreamEvent))
    if isinstance(tag, str) and tag != "unknown"
)
"""The ``type`` of every event this module knows."""
