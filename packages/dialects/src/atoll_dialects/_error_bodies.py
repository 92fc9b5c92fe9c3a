"""Error responses into typed errors: status and provider error type → class, body → fields.

The generic parser here reads the envelopes OpenAI-compatible servers and Anthropic send
(``{"error": {"message", "type", "code"}}``, ``{"type": "error", "error": {...}}``, a bare
string, or a one-element list around either). A dialect whose provider uses another shape
overrides ``Dialect.parse_error`` and still builds its errors with ``error_for``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ._exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConflictError,
    ContentFilterError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamInterrupted,
    TimeoutError,
)

if TYPE_CHECKING:
    from atoll_wire import ChatResponse, StreamError

__all__ = [
    "ErrorFields",
    "error_class",
    "error_for",
    "error_from_response",
    "error_from_stream_error",
    "error_from_stream_event",
    "parse_error_fields",
    "parse_retry_after",
]

_log = logging.getLogger("atoll_dialects")

_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    408: TimeoutError,
    409: ConflictError,
    413: BadRequestError,
    422: BadRequestError,
    429: RateLimitError,
    529: OverloadedError,
}

# Error ``type`` values both dialects use (OpenAI and Anthropic share most of them).
_BY_TYPE: dict[str, type[APIError]] = {
    "invalid_request_error": BadRequestError,
    "request_too_large": BadRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "rate_limit_error": RateLimitError,
    "rate_limit_exceeded": RateLimitError,
    "overloaded_error": OverloadedError,
    "api_error": ServerError,
    "server_error": ServerError,
    "timeout_error": TimeoutError,
    "content_filter": ContentFilterError,
}


def error_class(status: int | None, error_type: str | None) -> type[APIError]:
    """Pick the exception class for an HTTP status and a provider error type.

    The status decides when it is specific; an ``overloaded_error`` type wins over a plain 5xx
    so a 503 that says "overloaded" is an OverloadedError. Any other 4xx is a ClientError (or
    the client-side class its type names), never a server error. Without a status, the type
    decides.

    Args:
        status: The HTTP status (or the status inside a mid-stream error), if any.
        error_type: The provider's error ``type``, if any.

    Returns:
        The most specific APIError subclass, or APIError itself.
    """
    by_type = _BY_TYPE.get(error_type) if error_type else None
    if status is not None:
        if status in _BY_STATUS:
            by_status = _BY_STATUS[status]
            # A type naming a narrower class of the same kind wins (a 400 content filter).
            if by_type is not None and issubclass(by_type, by_status):
                return by_type
            return by_status
        if status >= 500:
            return OverloadedError if by_type is OverloadedError else ServerError
        if 400 <= status < 500:
            return (
                by_type if by_type is not None and issubclass(by_type, ClientError) else ClientError
            )
        return APIError
    return by_type or APIError


class ErrorFields:
    """What an error body says: message, type, code, request id (each None when absent)."""

    __slots__ = ("code", "error_type", "message", "request_id")

    def __init__(
        self,
        message: str | None = None,
        error_type: str | None = None,
        code: str | int | None = None,
        request_id: str | None = None,
    ) -> None:
        self.message = message
        self.error_type = error_type
        self.code = code
        self.request_id = request_id


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_error_fields(body: bytes | str) -> ErrorFields:
    """Extract the fields of an OpenAI- or Anthropic-style error body (lenient).

    Args:
        body: The response body; anything that is not such an envelope gives empty fields.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        # The error path is cold and bodies are small: the stdlib parser accepts any shape a
        # provider or proxy sends.
        data: object = json.loads(text)
    except ValueError:
        return ErrorFields()
    if isinstance(data, list) and data:  # some proxies (and Vertex) wrap the error in a list
        data = data[0]  # pyright: ignore[reportUnknownVariableType]
    if not isinstance(data, dict):
        return ErrorFields()
    envelope: dict[str, object] = data  # pyright: ignore[reportUnknownVariableType]
    request_id = _as_str(envelope.get("request_id"))
    inner = envelope.get("error", envelope)
    if isinstance(inner, str):
        return ErrorFields(inner, request_id=request_id)
    if not isinstance(inner, dict):
        return ErrorFields()
    err: dict[str, object] = inner  # pyright: ignore[reportUnknownVariableType]
    code = err.get("code")
    # Azure OpenAI names a content-filter refusal only in ``code``.
    filtered = "content_filter" if code == "content_filter" else None
    return ErrorFields(
        _as_str(err.get("message")),
        _as_str(err.get("type")) or filtered or _as_str(err.get("status")),
        code if isinstance(code, str | int) and not isinstance(code, bool) else None,
        request_id,
    )


def error_for(
    status: int,
    headers: Mapping[str, str] | None,
    body: bytes | str,
    fields: ErrorFields,
    *,
    provider: str | None = None,
    model: str | None = None,
    partial: ChatResponse | None = None,
    retry_after: float | None = None,
) -> APIError:
    """Build the typed error for an HTTP error response from fields a dialect parsed.

    Args:
        status: The HTTP status.
        headers: The response headers (any case; credentials are masked).
        body: The response body, for the redacted excerpt.
        fields: What the dialect read from the body.
        provider: The provider name.
        model: The model name.
        partial: What a stream delivered before failing, if this happened mid-stream.
        retry_after: A wait the body asked for (Gemini's RetryInfo); the headers' wins.

    Returns:
        An instance of the most specific APIError subclass.
    """
    clean = {k.lower(): v for k, v in (headers or {}).items()}
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    cls = error_class(status, fields.error_type)
    request_id = clean.get("x-request-id") or clean.get("request-id") or fields.request_id
    wait = parse_retry_after(clean)
    return cls(
        fields.message or (text.strip()[:200] if text.strip() else f"HTTP {status}"),
        status=status,
        provider=provider,
        model=model,
        request_id=request_id,
        error_type=fields.error_type,
        code=fields.code,
        retry_after=wait if wait is not None else retry_after,
        body=text,
        headers=clean,
        partial=partial,
    )


def error_from_response(
    status: int,
    headers: Mapping[str, str] | None,
    body: bytes | str,
    *,
    provider: str | None = None,
    model: str | None = None,
    partial: ChatResponse | None = None,
) -> APIError:
    """Turn an HTTP error response into the typed error (not raised; the caller raises it).

    Args:
        status: The HTTP status code.
        headers: The response headers (any case; credentials are masked).
        body: The response body, bytes or text; OpenAI and Anthropic envelopes are understood,
            anything else is kept as the excerpt.
        provider: The provider name, for the error's fields.
        model: The model name, for the error's fields.
        partial: What a stream delivered before failing, if this happened mid-stream.

    Returns:
        An instance of the most specific APIError subclass.
    """
    fields = parse_error_fields(body)
    return error_for(status, headers, body, fields, provider=provider, model=model, partial=partial)


def error_from_stream_error(
    *,
    error_type: str,
    message: str,
    status: int | None,
    code: str | int | None,
    body: str = "",
    provider: str | None = None,
    model: str | None = None,
    request_id: str | None = None,
    partial: ChatResponse | None = None,
) -> APIError:
    """Turn an error reported inside a stream into the typed error carrying ``partial``.

    A status or type that names a specific class (rate limit, overload, bad request ...) picks
    it; an error that names nothing specific is a StreamInterrupted.

    Args:
        error_type: The error type the stream reported (``""`` when it had none).
        message: The error message from the stream.
        status: The status inside the error object (Groq, OpenRouter send one), if any.
        code: The error code, as sent.
        body: The raw event text, for the excerpt.
        provider: The provider name.
        model: The model name.
        request_id: The request id from the response headers, if known.
        partial: What arrived before the error.

    Returns:
        An instance of the most specific APIError subclass, StreamInterrupted by default.
    """
    cls = error_class(status, error_type or None)
    if cls is APIError:
        cls = StreamInterrupted
    return cls(
        message or "the provider reported an error in the stream",
        status=status,
        provider=provider,
        model=model,
        request_id=request_id,
        error_type=error_type or None,
        code=code,
        body=body,
        partial=partial,
    )


def error_from_stream_event(
    event: StreamError,
    partial: ChatResponse,
    *,
    provider: str | None = None,
    model: str | None = None,
    request_id: str | None = None,
) -> APIError:
    """Turn a ``StreamError`` event into the typed error to raise, carrying ``partial``.

    Args:
        event: The StreamError a stream decoder produced.
        partial: What the stream delivered so far (usually ``StreamAccumulator.response()``).
        provider: The provider name.
        model: The model name.
        request_id: The request id from the response headers, if known.

    Returns:
        The most specific APIError subclass (StreamInterrupted when nothing more specific).
    """
    raw = event.raw
    return error_from_stream_error(
        error_type=event.type,
        message=event.message,
        status=event.status,
        code=event.code,
        body=raw if isinstance(raw, str) else "",
        provider=provider,
        model=model,
        request_id=request_id,
        partial=partial,
    )


def _seconds(raw: str, scale: float, name: str) -> float | None:
    try:
        value = float(raw) / scale
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0:
        # nan, inf or a negative wait cannot be honoured; the policy's backoff applies.
        _log.info("ignoring unusable %s header value %r", name, raw[:40])
        return None
    return value


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Read how long the server asks us to wait, in seconds, from lower-cased headers.

    ``retry-after-ms`` (OpenAI, Anthropic) wins over ``retry-after``, which may be a number of
    seconds or an HTTP date. Unusable values (``nan``, ``inf``, negative, garbage) are ignored
    and logged at INFO. The value is not capped here; the RetryPolicy caps it.

    Args:
        headers: Response headers with lower-case names.
        now: The current Unix time, for HTTP dates; defaults to ``time.time()``.

    Returns:
        Seconds to wait, or ``None`` when no usable header is present.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        wait = _seconds(raw_ms.strip(), 1000.0, "retry-after-ms")
        if wait is not None:
            return wait
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    if raw[:1].isdigit() or raw[:1] in "-+.niNI":
        return _seconds(raw, 1.0, "retry-after")
    import email.utils  # only HTTP dates need it; keeps the package import light

    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)
