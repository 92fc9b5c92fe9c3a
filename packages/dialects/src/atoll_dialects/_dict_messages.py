"""OpenAI-style message dicts (``{"role": "user", "content": ...}``) → neutral ``Message``s.

Users of the openai SDK have their conversations as dicts; a call accepts them as they are and
converts them losslessly: text and content part lists (text, images, audio, files), an
assistant's tool calls with their exact argument text, tool results by call id, names.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any, cast

from atoll_wire import (
    AudioPart,
    DocumentPart,
    ImagePart,
    Message,
    Part,
    TextPart,
    ToolResultPart,
)

from ._encode import tool_call_part
from ._exceptions import InvalidOptionError

__all__ = ["message_from_dict"]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})
_AUDIO_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}


def _where(position: int, detail: str = "") -> str:
    return f"messages[{position}]{detail}"


def _data_url(url: str, where: str) -> tuple[bytes, str]:
    header, _, data = url.partition(",")
    if not header.startswith("data:") or ";base64" not in header:
        raise InvalidOptionError(where, url[:40], "a base64 data: URL")
    return _b64(data, where), header[5:].split(";")[0]


def _b64(data: str, where: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidOptionError(where, data[:20], "base64 data") from None


def _part(item: object, where: str) -> Part:
    if not isinstance(item, Mapping):
        raise InvalidOptionError(where, item, "a content part dict with a 'type'")
    part: Mapping[str, Any] = item  # pyright: ignore[reportUnknownVariableType]
    kind = part.get("type")
    if kind == "text" and isinstance(part.get("text"), str):
        return TextPart(text=part["text"])
    if kind == "image_url" and isinstance(part.get("image_url"), Mapping):
        image: Mapping[str, Any] = part["image_url"]
        url = image.get("url")
        if not isinstance(url, str):
            raise InvalidOptionError(where, part, "an image_url with a 'url'")
        detail = image.get("detail")
        if url.startswith("data:"):
            data, media_type = _data_url(url, where)
            return ImagePart(data=data, media_type=media_type, detail=detail)
        return ImagePart(url=url, detail=detail)
    if kind == "input_audio" and isinstance(part.get("input_audio"), Mapping):
        audio: Mapping[str, Any] = part["input_audio"]
        fmt = audio.get("format")
        media_type = _AUDIO_TYPES.get(fmt) if isinstance(fmt, str) else None
        if media_type is None or not isinstance(audio.get("data"), str):
            raise InvalidOptionError(
                where, part, "input_audio with base64 'data' and a wav/mp3 'format'"
            )
        return AudioPart(data=_b64(audio["data"], where), media_type=media_type)
    if kind == "file" and isinstance(part.get("file"), Mapping):
        file: Mapping[str, Any] = part["file"]
        file_data = file.get("file_data")
        if not isinstance(file_data, str):
            raise InvalidOptionError(where, part, "a file part with 'file_data' (a data: URL)")
        data, media_type = _data_url(file_data, where)
        return DocumentPart(data=data, media_type=media_type, title=file.get("filename"))
    raise InvalidOptionError(where, part, "a text, image_url, input_audio or file part")


def _content(value: object, where: str) -> list[Part]:
    if value is None:
        return []
    if isinstance(value, str):
        return [TextPart(text=value)] if value else []
    if isinstance(value, list):
        items: list[object] = value  # pyright: ignore[reportUnknownVariableType]
        return [_part(item, f"{where}.content[{i}]") for i, item in enumerate(items)]
    raise InvalidOptionError(f"{where}.content", value, "a string or a list of content parts")


def _tool_calls(value: object, where: str) -> list[Part]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidOptionError(f"{where}.tool_calls", value, "a list of tool calls")
    parts: list[Part] = []
    calls: list[object] = value  # pyright: ignore[reportUnknownVariableType]
    for i, item in enumerate(calls):
        empty: Mapping[str, Any] = {}
        call = cast("Mapping[str, Any]", item) if isinstance(item, Mapping) else empty
        function = call.get("function")
        if not isinstance(function, Mapping):
            raise InvalidOptionError(f"{where}.tool_calls[{i}]", item, "{'id', 'function': {...}}")  # pyright: ignore[reportUnknownArgumentType]
        fn: Mapping[str, Any] = function  # pyright: ignore[reportUnknownVariableType]
        arguments = fn.get("arguments") or ""
        call_id = call.get("id") or ""
        parts.append(tool_call_part(str(call_id), str(fn.get("name") or ""), str(arguments)))
    return parts


def message_from_dict(value: Mapping[str, Any], position: int) -> Message:
    """Convert one OpenAI-style message dict.

    Raises:
        InvalidOptionError: A role, content part or tool call of the wrong shape (the message
            names ``messages[i]`` and what was expected).
    """
    where = _where(position)
    role = value.get("role")
    if role not in _ROLES:
        raise InvalidOptionError(f"{where}.role", role, "system, user, assistant or tool")
    name = value.get("name")
    name = name if isinstance(name, str) else None
    if role == "tool":
        call_id = value.get("tool_call_id")
        if not isinstance(call_id, str):
            raise InvalidOptionError(f"{where}.tool_call_id", call_id, "the id of the call")
        content: list[TextPart | ImagePart | DocumentPart] = []
        for part in _content(value.get("content"), where):
            if not isinstance(part, TextPart | ImagePart | DocumentPart):
                raise InvalidOptionError(f"{where}.content", part, "text, images or files")
            content.append(part)
        result = ToolResultPart(call_id=call_id, content=content, name=name)
        return Message(role="tool", parts=[result])
    parts = _content(value.get("content"), where)
    if role == "assistant":
        parts.extend(_tool_calls(value.get("tool_calls"), where))
    return Message(role="system" if role == "developer" else role, parts=parts, name=name)
