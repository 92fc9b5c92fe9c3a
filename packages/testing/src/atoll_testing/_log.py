"""The request log: what clients sent, with secrets redacted at the moment of recording."""

from __future__ import annotations

from typing import Any

import msgspec

SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie"}
)
REDACTED = "[redacted]"


class RecordedRequest(msgspec.Struct, kw_only=True):
    """One request as the server received it.

    Attributes:
        method: HTTP method.
        path: Request path (no query string).
        query: Query string ("" when none).
        headers: Lower-cased headers; secret ones (``authorization``, ``x-api-key``, ...) hold
            ``"[redacted]"``.
        body: The raw body.
        model: The model the body asked for, when the endpoint has one.
    """

    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = {}
    body: bytes = b""
    model: str | None = None

    def json(self) -> Any:
        """The body decoded as JSON.

        Raises:
            msgspec.DecodeError: The body is not JSON.
        """
        return msgspec.json.decode(self.body)


def redact(headers: dict[str, str]) -> dict[str, str]:
    """A copy of ``headers`` with secret values replaced."""
    return {k: (REDACTED if k in SECRET_HEADERS else v) for k, v in headers.items()}
