"""OpenAI Responses API items and their content parts: the tagged unions of ``input``/``output``.

One ``Item`` union serves both directions, as the API itself does (an output item goes back in
the next request's ``input``). Fields the API requires on the way in but a provider may leave
out on the way out are typed ``X | None = None`` and set by whoever builds a request, so they
are encoded even when empty (``summary: []``, ``annotations: []``) while decoding stays lenient.
Item and content types this module does not know decode to ``UnknownItem``/``UnknownContent``
(see ``atoll_wire.responses.decode_item``).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import msgspec


# gc=False: decoded wire data never forms reference cycles; untracked structs allocate faster.
class _Wire(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Every plain wire struct: keyword-only, fields left at their defaults are not encoded."""


class _Tagged(_Wire, tag_field="type", kw_only=True):
    """Every union member: tagged on ``type``."""


# ---------------------------------------------------------------- content parts


class InputText(_Tagged, tag="input_text", kw_only=True):
    """Text in a message (or a function call's output).

    Attributes:
        text: The text.
        prompt_cache_breakpoint: ``{"mode": "explicit"}`` to end a cached prefix here.
    """

    text: str
    prompt_cache_breakpoint: dict[str, Any] | None = None


class InputImage(_Tagged, tag="input_image", kw_only=True):
    """An image by URL (``https:`` or ``data:``) or uploaded file id.

    Attributes:
        image_url: The URL.
        file_id: An uploaded file's id.
        detail: ``low``, ``high``, ``auto`` or ``original``; the API wants it in messages, so
            requests built here always set it (``auto`` unless told).
        prompt_cache_breakpoint: ``{"mode": "explicit"}`` to end a cached prefix here.
    """

    image_url: str | None = None
    file_id: str | None = None
    detail: str | None = None
    prompt_cache_breakpoint: dict[str, Any] | None = None


class InputFile(_Tagged, tag="input_file", kw_only=True):
    """A file (PDF and other documents) by data, URL or uploaded file id.

    Attributes:
        file_data: The content as a ``data:`` URL.
        file_id: An uploaded file's id.
        file_url: A URL the provider fetches.
        filename: The name shown to the model.
        detail: ``auto``, ``low`` or ``high`` rendering.
        prompt_cache_breakpoint: ``{"mode": "explicit"}`` to end a cached prefix here.
    """

    file_data: str | None = None
    file_id: str | None = None
    file_url: str | None = None
    filename: str | None = None
    detail: str | None = None
    prompt_cache_breakpoint: dict[str, Any] | None = None


class OutputText(_Tagged, tag="output_text", kw_only=True):
    """Text the model wrote (in an assistant message).

    Attributes:
        text: The text.
        annotations: Citations and file paths, as sent; required when sent back, so requests
            built here set ``[]``.
        logprobs: Token log probabilities, when asked for.
    """

    text: str
    annotations: list[dict[str, Any]] | None = None
    logprobs: list[dict[str, Any]] | None = None


class Refusal(_Tagged, tag="refusal", kw_only=True):
    """The model refused.

    Attributes:
        refusal: The explanation.
    """

    refusal: str


class SummaryText(_Tagged, tag="summary_text", kw_only=True):
    """One part of a reasoning item's summary.

    Attributes:
        text: The summary text.
    """

    text: str


class ReasoningText(_Tagged, tag="reasoning_text", kw_only=True):
    """Reasoning text itself (open-weight models served with visible reasoning).

    Attributes:
        text: The reasoning text.
    """

    text: str


class UnknownContent(_Tagged, tag="unknown", kw_only=True):
    """A content part whose ``type`` this module does not know, kept whole.

    Attributes:
        content_type: The part's ``type``.
        raw: The part's JSON object as decoded.
    """

    content_type: str
    raw: dict[str, Any]


Content: TypeAlias = InputText | InputImage | InputFile | OutputText | Refusal | UnknownContent
"""A part of a message's ``content``."""

OutputContent: TypeAlias = InputText | InputImage | InputFile | UnknownContent
"""A part of a ``function_call_output``'s list-valued ``output``."""

StreamedPart: TypeAlias = OutputText | Refusal | ReasoningText | UnknownContent
"""The ``part`` of ``response.content_part.added``/``done``."""

# ---------------------------------------------------------------- items


class Message(_Tagged, tag="message", kw_only=True):
    """A message: user, system or developer input, or an assistant's output (then with ``id``).

    Attributes:
        role: ``user``, ``system``, ``developer`` or ``assistant``.
        content: Text, or parts (``input_*`` in input messages, ``output_text``/``refusal`` in
            assistant messages).
        id: The item id (``msg_...``) of an assistant output message.
        status: ``in_progress``, ``completed`` or ``incomplete``; required on an assistant
            message sent back with its ``id``.
        phase: ``commentary`` or ``final_answer`` on assistant messages of models that label
            them; send it back unchanged.
    """

    role: str
    content: str | list[Content]
    id: str | None = None
    status: str | None = None
    phase: str | None = None


class FunctionCall(_Tagged, tag="function_call", kw_only=True):
    """A call of one of the request's function tools.

    ``call_id`` (``call_...``) is what the result answers; ``id`` (``fc_...``) is the item's own
    id, sent back with it so the API can match it to the reasoning that produced it.

    Attributes:
        call_id: The call's id; a ``function_call_output`` answers it.
        name: The function's name.
        arguments: The argument JSON text as the model wrote it.
        id: The item id.
        status: ``in_progress``, ``completed`` or ``incomplete``.
        namespace: The function's namespace, when the tool had one.
    """

    call_id: str
    name: str
    arguments: str
    id: str | None = None
    status: str | None = None
    namespace: str | None = None


class FunctionCallOutput(_Tagged, tag="function_call_output", kw_only=True):
    """A function call's result, sent back by the caller.

    Attributes:
        call_id: The ``call_id`` of the call it answers.
        output: Text, or text/image/file parts.
        id: The item id, when the API returned this item.
        status: The item's status, when the API returned this item.
    """

    call_id: str
    output: str | list[OutputContent]
    id: str | None = None
    status: str | None = None


class Reasoning(_Tagged, tag="reasoning", kw_only=True):
    """A reasoning item: the model's chain of thought, summarised and/or encrypted.

    Sent back in the next request's ``input`` so the model keeps its reasoning across turns:
    by ``id`` alone when the response was stored, with ``encrypted_content`` when not
    (``store: false`` with ``include: ["reasoning.encrypted_content"]``). Take it from
    ``response.output_item.done``: in ``response.output_item.added`` the encrypted content can
    be incomplete.

    Attributes:
        id: The item id (``rs_...``).
        summary: The summary parts (``[]`` when none was asked for); required when sent back.
        content: The reasoning text itself, from servers that show it.
        encrypted_content: The reasoning, encrypted for the next turn.
        status: ``in_progress``, ``completed`` or ``incomplete``.
    """

    id: str
    summary: list[SummaryText] | None = None
    content: list[ReasoningText] | None = None
    encrypted_content: str | None = None
    status: str | None = None


class ItemReference(_Tagged, tag="item_reference", kw_only=True):
    """An earlier item, named by id (stored responses only).

    Attributes:
        id: The item id.
    """

    id: str


class UnknownItem(_Tagged, tag="unknown", kw_only=True):
    """An item whose ``type`` this module does not know (built-in tool calls among them).

    Attributes:
        item_type: The item's ``type`` (``web_search_call``, ``mcp_call``, ...).
        raw: The item's JSON object as decoded.
    """

    item_type: str
    raw: dict[str, Any]


Item: TypeAlias = (
    Message | FunctionCall | FunctionCallOutput | Reasoning | ItemReference | UnknownItem
)
"""An input or output item."""

ITEM_TYPES = frozenset(
    {"message", "function_call", "function_call_output", "reasoning", "item_reference"}
)
CONTENT_TYPES = frozenset(
    {"input_text", "input_image", "input_file", "output_text", "refusal", "reasoning_text"}
)
