"""The body size limit: the transport's default, a request's override, checked once."""

from __future__ import annotations

from atoll_wire import HttpRequest

DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024
"""Responses larger than this raise ``ResponseTooLarge`` unless the caller says otherwise."""

MAX_BODY_EXTENSION = "max_body_bytes"
"""``HttpRequest.extensions`` key overriding the transport's body limit for one request."""


def check_limit(value: object, what: str) -> int:
    """``value`` as a body limit, or ``ValueError`` naming ``what``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what} must be a positive int or None, got {value!r}")
    return value


def body_limit(request: HttpRequest, default: int | None) -> int | None:
    """The body limit for ``request``: its ``max_body_bytes`` extension, else ``default``.

    Raises:
        ValueError: The extension is not a positive int or None.
    """
    if MAX_BODY_EXTENSION not in request.extensions:
        return default
    value: object = request.extensions[MAX_BODY_EXTENSION]
    if value is None:
        return None
    return check_limit(value, f"extensions[{MAX_BODY_EXTENSION!r}]")
