"""Message parts and the neutral ``Message``: what a conversation is made of.

Parts are a tagged union on the ``type`` field, so a list of mixed parts encodes to JSON and
decodes back to the same classes with one msgspec decoder.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import msgspec

Role: TypeAlias = Literal["system", "user", "assistant", "tool"]
"""Who speaks a message: ``system``, ``user``, ``assistant`` or ``tool``."""


class _Part(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type"):
    """Shared configuration of every part: keyword-only, tagged on ``type``."""


class TextPart(_Part, tag="text", kw_only=True):
    """Plain text.

    Attributes:
        text: The text.
        id: The id of the provider's output item holding this text, sent back with it on the
            next turn where the API wants it (OpenAI Responses ``msg_...``); None elsewhere.
        phase: The provider's label for this assistant text, sent back unchanged (OpenAI
            Responses ``commentary`` or ``final_answer``); None when it sent none.
        signature: Gemini's ``thoughtSignature`` on this very part, sent back on it unchanged
            (other dialects ignore it). A signed part is never merged with another.
    """

    text: str
    id: str | None = None
    phase: str | None = None
    signature: str | None = None


class ImagePart(_Part, tag="image", kw_only=True):
    """An image, either by URL or as bytes with a media type.

    Attributes:
        url: A URL the provider can fetch (``https:`` or ``data:``).
        data: Raw image bytes (base64 on the JSON wire).
        media_type: MIME type such as ``image/png``; needed with ``data``.
        detail: OpenAI's ``low``/``high``/``auto`` hint, passed through.
    """

    url: str | None = None
    data: bytes | None = None
    media_type: str | None = None
    detail: str | None = None


class AudioPart(_Part, tag="audio", kw_only=True):
    """Audio bytes.

    Attributes:
        data: Raw audio bytes.
        media_type: MIME type such as ``audio/wav``.
    """

    data: bytes
    media_type: str


class DocumentPart(_Part, tag="document", kw_only=True):
    """A document such as a PDF, by bytes or URL.

    Attributes:
        data: Raw document bytes.
        url: A URL the provider can fetch.
        media_type: MIME type, ``application/pdf`` unless told otherwise.
        title: An optional title shown to the model.
    """

    data: bytes | None = None
    url: str | None = None
    media_type: str = "application/pdf"
    title: str | None = None


class ToolCallPart(_Part, tag="tool_call", kw_only=True):
    """A call the model asked for.

    Attributes:
        id: The provider's call id (may be ``""``: some providers send that).
        name: The tool name.
        arguments: The parsed arguments; ``{}`` when ``raw_arguments`` is empty or invalid.
        raw_arguments: The exact argument text the model sent.
        arguments_error: Why ``raw_arguments`` is not a JSON object (e.g. truncated), else None.
        item_id: The id of the provider's item holding the call when it differs from the call
            id (OpenAI Responses: item ``fc_...``, call ``call_...``; results answer ``id``).
        signature: Gemini's ``thoughtSignature`` on this call's part (in parallel calls only
            the first is signed), sent back on it unchanged; other dialects ignore it.
    """

    id: str
    name: str
    arguments: dict[str, Any] = {}
    raw_arguments: str = ""
    arguments_error: str | None = None
    item_id: str | None = None
    signature: str | None = None


class ThinkingPart(_Part, tag="thinking", kw_only=True):
    """Reasoning text the model showed, with the provider's signature when it sends one.

    Attributes:
        text: The reasoning text.
        signature: Opaque signature that must be sent back unchanged (Anthropic; Gemini's
            ``thoughtSignature`` on a thought part).
        id: The id of the provider's reasoning item this text belongs to (OpenAI Responses
            ``rs_...``); parts sharing an id are one item.
    """

    text: str
    signature: str | None = None
    id: str | None = None


class RedactedThinkingPart(_Part, tag="redacted_thinking", kw_only=True):
    """Reasoning the provider encrypted; sent back unchanged on the next turn.

    Attributes:
        data: The opaque payload.
        id: The id of the provider's reasoning item it belongs to (OpenAI Responses ``rs_...``,
            whose ``encrypted_content`` is ``data``).
    """

    data: str
    id: str | None = None


class ToolResultPart(_Part, tag="tool_result", kw_only=True):
    """The result of a tool call, sent back to the model.

    Attributes:
        call_id: The id of the ``ToolCallPart`` this answers.
        content: The result as text, image or document parts.
        is_error: True when the tool failed and ``content`` describes the failure.
        name: The tool name, for dialects that want it.
    """

    call_id: str
    content: list[TextPart | ImagePart | DocumentPart]
    is_error: bool = False
    name: str | None = None

    @classmethod
    def from_text(
        cls, call_id: str, text: str, *, is_error: bool = False, name: str | None = None
    ) -> ToolResultPart:
        """Build a result holding one text part.

        Args:
            call_id: The id of the call being answered.
            text: The result text.
            is_error: Whether the tool failed.
            name: The tool name.
        """
        return cls(call_id=call_id, content=[TextPart(text=text)], is_error=is_error, name=name)


Part: TypeAlias = (
    TextPart
    | ImagePart
    | AudioPart
    | DocumentPart
    | ToolCallPart
    | ToolResultPart
    | ThinkingPart
    | RedactedThinkingPart
)
"""One part of a message: a tagged union on ``type`` (text, image, audio, document, tool call,
tool result, thinking, redacted thinking)."""


class Message(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One turn of a conversation.

    Attributes:
        role: ``system``, ``user``, ``assistant`` or ``tool``.
        parts: The content, in order.
        name: An optional participant name.
    """

    role: Role
    parts: list[Part]
    name: str | None = None

    @classmethod
    def user(cls, text: str) -> Message:
        """A user message holding one text part.

        Args:
            text: The text.
        """
        return cls(role="user", parts=[TextPart(text=text)])

    @classmethod
    def system(cls, text: str) -> Message:
        """A system message holding one text part.

        Args:
            text: The instructions.
        """
        return cls(role="system", parts=[TextPart(text=text)])

    @classmethod
    def assistant(cls, text: str) -> Message:
        """An assistant message holding one text part.

        Args:
            text: The text.
        """
        return cls(role="assistant", parts=[TextPart(text=text)])

    @property
    def text(self) -> str:
        """The text parts joined with no separator; ``""`` when there are none."""
        return "".join(p.text for p in self.parts if type(p) is TextPart)

    @property
    def tool_calls(self) -> list[ToolCallPart]:
        """The tool call parts, in order."""
        return [p for p in self.parts if type(p) is ToolCallPart]

    @property
    def thinking(self) -> str:
        """The thinking parts' text joined with no separator; ``""`` when there are none."""
        return "".join(p.text for p in self.parts if type(p) is ThinkingPart)
