"""Typed errors raised by dialects and the Client.

Every error carries structured fields, never only a string, and never a secret: response
headers are kept minus credentials and the body excerpt is shortened and scrubbed of key-like
text. The hierarchy::

    AtollError                              base of everything atoll_dialects raises
    ├── MissingAPIKeyError                  no key given and the provider's variable is unset
    ├── UnsupportedRequestError             the request cannot be served (raised before sending)
    │   └── CapabilityError                 a capability the registry says the model lacks
    └── APIError                            the provider answered with an error (HTTP or mid-stream)
        ├── BadRequestError                 400, 413, 422, invalid_request_error
        ├── AuthenticationError             401
        ├── PermissionDeniedError           403
        ├── NotFoundError                   404
        ├── ConflictError                   409 (retryable)
        ├── RateLimitError                  429, carries ``retry_after`` seconds
        ├── OverloadedError                 529 or an ``overloaded_error`` body
        ├── ServerError                     other 5xx
        ├── TimeoutError (builtins.TimeoutError)  408, read timeouts, the overall deadline
        ├── InvalidResponseError            a success status with a body that is not the API's
        └── StreamInterrupted               a stream broke off; ``partial`` is what arrived

An error raised in the middle of a stream exposes what arrived before it as ``exc.partial``
(a ChatResponse marked incomplete); before the first byte ``partial`` is ``None``.
"""

from __future__ import annotations

import builtins
import json
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from atoll_wire import AtollError

if TYPE_CHECKING:
    from atoll_wire import ChatResponse, StreamError

__all__ = [
    "APIError",
    "AtollError",
    "AuthenticationError",
    "BadRequestError",
    "CapabilityError",
    "ConflictError",
    "MissingAPIKeyError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "StreamInterrupted",
    "TimeoutError",
    "UnsupportedRequestError",
    "InvalidResponseError",
    "error_from_response",
    "error_from_stream_error",
    "error_from_stream_event",
    "parse_retry_after",
    "redact_headers",
    "redact_text",
]

#: Header names whose values are credentials; dropped from every error and repr.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "openai-organization",
        "openai-project",
    }
)

#: Key-like text scrubbed from body excerpts (a provider may echo a bad key back).
_SECRET_TEXT = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}"
    r"|\b(sk|pk|rk|gsk|xai|nvapi|sk-ant|sk-or)-[A-Za-z0-9_\-]{8,}"
    r"|\bAIza[0-9A-Za-z_\-]{20,}"
)

#: How much of an error body an exception keeps.
BODY_EXCERPT_CHARS = 2000

HeadersLike = Mapping[str, str]


def redact_text(text: str, limit: int = BODY_EXCERPT_CHARS) -> str:
    """Shorten ``text`` to ``limit`` characters and replace key-like substrings.

    Args:
        text: Any text that may be shown to a user (an error body, a message).
        limit: The maximum number of characters kept; longer text ends with an ellipsis.

    Returns:
        The scrubbed excerpt.
    """

    def _mask(match: re.Match[str]) -> str:
        prefix = match.group(1) or ""
        return f"{prefix}[REDACTED]"

    cleaned = _SECRET_TEXT.sub(_mask, text)
    if len(cleaned) > limit:
        cleaned = cleaned[:limit] + "…"
    return cleaned


def redact_headers(headers: HeadersLike | None) -> dict[str, str]:
    """Lower-case header names and drop credentials.

    Args:
        headers: Header names to values, in any case; ``None`` gives ``{}``.

    Returns:
        A new dict without any header named in ``SECRET_HEADERS``.
    """
    result: dict[str, str] = {}
    if headers is None:
        return result
    for name, value in headers.items():
        key = name.lower()
        if key in SECRET_HEADERS:
            continue
        result[key] = value
    return result


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Read how long the server asks us to wait, in seconds, from lower-cased headers.

    ``retry-after-ms`` (OpenAI, Anthropic) wins over ``retry-after``, which may be a number of
    seconds or an HTTP date. The value is not capped here; the RetryPolicy caps it.

    Args:
        headers: Response headers with lower-case names (see ``redact_headers``).
        now: The current Unix time, for HTTP dates; defaults to ``time.time()``.

    Returns:
        Seconds to wait (never negative), or ``None`` when no usable header is present.
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    import email.utils  # only HTTP dates need it; keeps the package import light

    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(when.timestamp() - current, 0.0)


class MissingAPIKeyError(AtollError):
    """No API key was given and the provider's environment variable is not set.

    Attributes:
        provider: The provider that needs a key.
        env_var: The environment variable that was read, or ``None`` if the provider has none.
    """

    def __init__(self, provider: str, env_var: str | None) -> None:
        self.provider = provider
        self.env_var = env_var
        where = f"set the environment variable {env_var} or " if env_var else ""
        super().__init__(f"no API key for provider {provider!r}: {where}pass api_key=...")


class UnsupportedRequestError(AtollError, ValueError):
    """The request cannot be sent as asked; raised before anything goes on the wire.

    Attributes:
        provider: The provider the request was meant for.
        model: The model the request was meant for.
        reason: What is wrong, in words.
    """

    def __init__(
        self, reason: str, *, provider: str | None = None, model: str | None = None
    ) -> None:
        self.reason = reason
        self.provider = provider
        self.model = model
        target = f" (provider {provider!r}, model {model!r})" if provider or model else ""
        super().__init__(f"{reason}{target}")


class CapabilityError(UnsupportedRequestError):
    """The registry says the model lacks a capability the request needs.

    Attributes:
        capability: The missing capability, for example ``"tools"`` or ``"vision"``.
    """

    def __init__(
        self, capability: str, reason: str, *, provider: str | None = None, model: str | None = None
    ) -> None:
        self.capability = capability
        super().__init__(reason, provider=provider, model=model)


class APIError(AtollError):
    """The provider answered with an error, over HTTP or inside a stream.

    Attributes:
        message: The provider's message (redacted), or a description of what happened.
        status: The HTTP status, or the status inside a mid-stream error; ``None`` if unknown.
        provider: The provider name, when known.
        model: The model name, when known.
        request_id: The provider's request id (``x-request-id``, ``request-id`` or the body).
        error_type: The provider's error type (``invalid_request_error`` ...), when given.
        code: The provider's error code (a string or a number, as sent), when given.
        retry_after: Seconds the provider asked us to wait, when it said so.
        body: A redacted excerpt of the response body.
        headers: The response headers with lower-case names, credentials removed.
        partial: What a stream delivered before the error, or ``None`` outside streams.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        error_type: str | None = None,
        code: str | int | None = None,
        retry_after: float | None = None,
        body: str = "",
        headers: HeadersLike | None = None,
        partial: ChatResponse | None = None,
    ) -> None:
        self.message = redact_text(message, 500)
        self.status = status
        self.provider = provider
        self.model = model
        self.request_id = request_id
        self.error_type = error_type
        self.code = code
        self.retry_after = retry_after
        self.body = redact_text(body)
        self.headers = redact_headers(headers)
        self.partial = partial
        super().__init__(self.message)

    def __str__(self) -> str:
        details = [
            f"{label}={value!r}"
            for label, value in (
                ("status", self.status),
                ("provider", self.provider),
                ("model", self.model),
                ("type", self.error_type),
                ("code", self.code),
                ("request_id", self.request_id),
            )
            if value is not None
        ]
        return f"{self.message} ({', '.join(details)})" if details else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class BadRequestError(APIError):
    """The provider rejected the request as malformed or invalid (400, 413, 422)."""


class AuthenticationError(APIError):
    """The API key is missing, wrong or expired (401)."""


class PermissionDeniedError(APIError):
    """The key is valid but may not use this resource (403)."""


class NotFoundError(APIError):
    """The model or endpoint does not exist, or the key cannot see it (404)."""


class ConflictError(APIError):
    """The provider reported a conflicting concurrent request (409); retryable."""


class RateLimitError(APIError):
    """Too many requests or tokens (429); ``retry_after`` says how long to wait when known."""


class OverloadedError(APIError):
    """The provider is overloaded (Anthropic 529 or an ``overloaded_error`` body); retryable."""


class ServerError(APIError):
    """The provider failed (5xx other than overload); usually retryable."""


class TimeoutError(APIError, builtins.TimeoutError):
    """A request timed out (HTTP 408, a transport timeout or the Client's deadline).

    It is also a ``builtins.TimeoutError``, so ``except TimeoutError`` written for the builtin
    catches it too.
    """


class InvalidResponseError(APIError):
    """The provider answered with a success status but the body is not what the API defines."""


class StreamInterrupted(APIError):
    """A stream ended early: the connection broke, or the provider sent an error event.

    ``partial`` always holds what arrived before the interruption (marked incomplete).
    """


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
}


def error_class(status: int | None, error_type: str | None) -> type[APIError]:
    """Pick the exception class for an HTTP status and a provider error type.

    The status decides when it is specific; an ``overloaded_error`` type wins over a plain 5xx
    so a 503 that says "overloaded" is an OverloadedError. Without a status, the type decides.

    Args:
        status: The HTTP status (or the status inside a mid-stream error), if any.
        error_type: The provider's error ``type``, if any.

    Returns:
        The most specific APIError subclass, or APIError itself.
    """
    by_type = _BY_TYPE.get(error_type) if error_type else None
    if status is not None:
        if status in _BY_STATUS:
            return _BY_STATUS[status]
        if status >= 500:
            return OverloadedError if by_type is OverloadedError else ServerError
        if by_type is not None and status >= 400:
            return by_type
        return APIError
    return by_type or APIError


def _error_fields(body: bytes | str) -> tuple[str | None, str | None, str | int | None, str | None]:
    """Extract (message, type, code, request_id) from an OpenAI- or Anthropic-style error body."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        # The error path is cold and bodies are tiny: the stdlib parser keeps this module free of
        # wire-struct coupling and accepts any shape a provider or proxy sends.
        data: object = json.loads(text)
    except ValueError:
        return None, None, None, None
    if isinstance(data, list) and data:  # some proxies wrap the error in a list
        data = data[0]  # pyright: ignore[reportUnknownVariableType]
    if not isinstance(data, dict):
        return None, None, None, None
    envelope: dict[str, object] = data  # pyright: ignore[reportUnknownVariableType]
    request_id = envelope.get("request_id")
    inner = envelope.get("error", envelope)
    if isinstance(inner, str):
        return inner, None, None, request_id if isinstance(request_id, str) else None
    if not isinstance(inner, dict):
        return None, None, None, None
    err: dict[str, object] = inner  # pyright: ignore[reportUnknownVariableType]
    message = err.get("message")
    etype = err.get("type")
    code = err.get("code")
    return (
        message if isinstance(message, str) else None,
        etype if isinstance(etype, str) else None,
        code if isinstance(code, (str, int)) and not isinstance(code, bool) else None,
        request_id if isinstance(request_id, str) else None,
    )


def error_from_response(
    status: int,
    headers: HeadersLike | None,
    body: bytes | str,
    *,
    provider: str | None = None,
    model: str | None = None,
    partial: ChatResponse | None = None,
) -> APIError:
    """Turn an HTTP error response into the typed error (not raised; the caller raises it).

    Args:
        status: The HTTP status code.
        headers: The response headers (any case; credentials are dropped).
        body: The response body, bytes or text; OpenAI and Anthropic envelopes are understood,
            anything else is kept as the excerpt.
        provider: The provider name, for the error's fields.
        model: The model name, for the error's fields.
        partial: What a stream delivered before failing, if this happened mid-stream.

    Returns:
        An instance of the most specific APIError subclass.
    """
    clean = redact_headers(headers)
    message, etype, code, body_request_id = _error_fields(body)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    cls = error_class(status, etype)
    request_id = clean.get("x-request-id") or clean.get("request-id") or body_request_id
    return cls(
        message or (text.strip()[:200] if text.strip() else f"HTTP {status}"),
        status=status,
        provider=provider,
        model=model,
        request_id=request_id,
        error_type=etype,
        code=code,
        retry_after=parse_retry_after(clean),
        body=text,
        headers=clean,
        partial=partial,
    )


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
