"""The request log: what clients sent, with secrets redacted at the moment of recording."""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from atoll_wire import redact_headers, redact_url


class RecordedRequest(msgspec.Struct, kw_only=True):
    """One request as the server received it.

    Attributes:
        method: HTTP method.
        path: Request path (no query string).
        query: Query string ("" when none); secret parameters (``key=``...) hold ``[redacted]``.
        headers: Lower-cased headers; secret ones (``authorization``, ``x-api-key``, ...) hold
            ``"[redacted]"`` (atoll_wire's redaction policy, shared by the whole project).
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


_REDACTED = "[redacted]"


@functools.lru_cache(maxsize=512)
def _secret_names(names: tuple[str, ...]) -> frozenset[str]:
    # atoll_wire decides which names are secret; clients send the same header names on every
    # request, so asking once per set of names keeps redaction off the hot path.
    probe = redact_headers(dict.fromkeys(names, ""))
    return frozenset(name for name, value in probe.items() if value == _REDACTED)


def record(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> RecordedRequest:
    """A log entry with secrets already replaced (nothing secret is ever stored)."""
    if query:
        query = redact_url("?" + query)[1:]
    secret = _secret_names(tuple(headers))
    if secret:
        kept = {k: (_REDACTED if k in secret else v) for k, v in headers.items()}
    else:
        kept = dict(headers)
    return RecordedRequest(method=method, path=path, query=query, headers=kept, body=body)
