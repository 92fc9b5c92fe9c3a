"""Turn whatever a tool returned into neutral tool-result content parts.

``str`` becomes text; image bytes (PNG, JPEG, GIF, WebP by signature) or an ``ImagePart``
become an image part; PDF bytes become a document part; text, image and document parts (alone
or in a list) pass through; anything else that pydantic can serialize (models, dataclasses,
dicts, lists, numbers, ``None``) becomes JSON text. Other values raise ``TypeError``, which the
caller reports as a tool failure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import pydantic_core
from atoll_wire import DocumentPart, ImagePart, TextPart

ContentPart = TextPart | ImagePart | DocumentPart

_IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_media_type(data: bytes) -> str | None:
    """The media type of image bytes recognised by their signature, else None."""
    for signature, media_type in _IMAGE_SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _is_part_list(value: object) -> bool:
    if not isinstance(value, list | tuple) or not value:
        return False
    return all(isinstance(item, ContentPart) for item in cast(Sequence[object], value))


def to_content(value: object) -> list[ContentPart]:
    """Convert a tool's return value to result content.

    Args:
        value: What the tool returned.

    Raises:
        TypeError: For bytes that are not a recognised image, or values with no JSON form.
    """
    if isinstance(value, str):
        return [TextPart(text=value)]
    if isinstance(value, ContentPart):
        return [value]
    if isinstance(value, bytes | bytearray):
        data = bytes(value)
        media_type = image_media_type(data)
        if media_type is not None:
            return [ImagePart(data=data, media_type=media_type)]
        if data.startswith(b"%PDF-"):
            return [DocumentPart(data=data, media_type="application/pdf")]
        raise TypeError(
            f"the tool returned {len(data)} bytes that are not a PNG, JPEG, GIF or WebP image "
            "or a PDF; return str, JSON-serializable data, an ImagePart or a DocumentPart"
        )
    if _is_part_list(value):
        return list(cast(Sequence[ContentPart], value))
    try:
        text = pydantic_core.to_json(value).decode()
    except pydantic_core.PydanticSerializationError as exc:
        raise TypeError(
            f"the tool returned a {type(value).__name__}, which has no JSON form: {exc}"
        ) from exc
    return [TextPart(text=text)]
