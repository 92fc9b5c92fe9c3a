"""Reading a ``multipart/form-data`` body (RFC 7578), as ``POST /v1/files`` uploads send it."""

from __future__ import annotations

from dataclasses import dataclass

from ._exceptions import RequestError


@dataclass(frozen=True, slots=True)
class FormField:
    """One part of a form: its name, the filename and type a file part gives, and its bytes."""

    name: str
    data: bytes
    filename: str | None = None
    content_type: str | None = None


def boundary_of(content_type: str) -> bytes:
    """The ``boundary`` parameter of a ``multipart/form-data`` content type.

    Raises:
        RequestError: Not multipart/form-data, or no boundary (answered as a 400).
    """
    kind, _, params = content_type.partition(";")
    if kind.strip().lower() != "multipart/form-data":
        raise RequestError(400, "expected a multipart/form-data body", "invalid_request_error")
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "boundary" and value.strip():
            return value.strip().strip('"').encode("latin-1")
    raise RequestError(400, "multipart/form-data without a boundary", "invalid_request_error")


def _disposition(value: str) -> tuple[str | None, str | None]:
    name = filename = None
    for item in value.split(";")[1:]:
        key, _, raw = item.strip().partition("=")
        text = raw.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1].replace('\\"', '"')
        if key.lower() == "name":
            name = text
        elif key.lower() == "filename":
            filename = text
    return name, filename


def _part(chunk: bytes) -> FormField:
    head, sep, data = chunk.partition(b"\r\n\r\n")
    if not sep:
        raise RequestError(400, "a multipart part has no header block", "invalid_request_error")
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        key, colon, value = line.partition(":")
        if colon:
            headers[key.strip().lower()] = value.strip()
    name, filename = _disposition(headers.get("content-disposition", ""))
    if not name:
        raise RequestError(400, "a multipart part has no name", "invalid_request_error")
    return FormField(name, data, filename, headers.get("content-type"))


def parse_form(body: bytes, content_type: str) -> dict[str, FormField]:
    """The fields of a form by name (a repeated name: the last one wins).

    Raises:
        RequestError: The body is not a well-formed multipart/form-data body.
    """
    delimiter = b"--" + boundary_of(content_type)
    if not body.startswith(delimiter):
        raise RequestError(
            400, "the body does not start with its boundary", "invalid_request_error"
        )
    fields: dict[str, FormField] = {}
    position = len(delimiter)
    while True:
        if body.startswith(b"--", position):  # the closing delimiter
            return fields
        if not body.startswith(b"\r\n", position):
            raise RequestError(400, "malformed multipart delimiter", "invalid_request_error")
        end = body.find(b"\r\n" + delimiter, position + 2)
        if end < 0:
            raise RequestError(400, "the multipart body is not closed", "invalid_request_error")
        field = _part(body[position + 2 : end])
        fields[field.name] = field
        position = end + 2 + len(delimiter)
