"""Fault specifications: parse the compact ``x-atoll-fault`` syntax into a :class:`Fault`.

Syntax: items separated by ``;``, each ``name`` or ``name=value`` (spaces ignored), e.g.
``status=429; retry-after=2`` or ``chunk-delay=0.01; disconnect-events=3``. A bare number is a
status (``503``). The full list is in docs/testing.md and in :class:`Fault`'s attributes.
"""

from __future__ import annotations

import math
import re
from typing import TypeVar

import msgspec

from ._exceptions import FaultSyntaxError

_N = TypeVar("_N", int, float)
_TOKEN = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_RL_KINDS = ("requests", "tokens", "input-tokens", "output-tokens")
_RL_FIELDS = ("limit", "remaining", "reset")
_FLOATS = {"retry-after", "retry-after-date", "delay", "chunk-delay"}
_INTS = {"retry-after-ms", "disconnect-bytes", "disconnect-events", "malformed", "error-event"}


class Fault(msgspec.Struct, kw_only=True, frozen=True):
    """One request's injected misbehaviour. Every field is optional; combine freely.

    Attributes:
        status: Answer with this HTTP error status and a provider-shaped error body.
        error_type: Override the error ``type`` (default follows the status and dialect).
        message: Override the error message.
        retry_after: ``retry-after`` header in seconds.
        retry_after_date: ``retry-after`` header as an HTTP date this many seconds ahead.
        retry_after_ms: ``retry-after-ms`` header.
        should_retry: ``x-should-retry`` header (``true``/``false``).
        delay: Seconds to wait before sending the response headers.
        chunk_delay: Seconds to wait between stream events (or body chunks).
        disconnect_bytes: Close the connection after this many body bytes.
        disconnect_events: Close the connection after this many stream events.
        malformed: Insert a malformed JSON event after this many events (non-stream: a
            truncated JSON body).
        no_done: End the stream cleanly but without ``[DONE]`` / ``message_stop``.
        close: Answer normally, then close the connection (``connection: close``).
        drop: Close the connection without sending any response.
        error_event: Send a dialect-shaped error event after this many events, then end.
        headers: Extra response headers, as ``(name, value)`` pairs.
        ratelimit: Rate-limit headers as ``(kind, field, value)``; each dialect names them
            (``x-ratelimit-<field>-<kind>`` for OpenAI, ``anthropic-ratelimit-<kind>-<field>``).
    """

    status: int | None = None
    error_type: str | None = None
    message: str | None = None
    retry_after: float | None = None
    retry_after_date: float | None = None
    retry_after_ms: int | None = None
    should_retry: bool | None = None
    delay: float = 0.0
    chunk_delay: float = 0.0
    disconnect_bytes: int | None = None
    disconnect_events: int | None = None
    malformed: int | None = None
    no_done: bool = False
    close: bool = False
    drop: bool = False
    error_event: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    ratelimit: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """Parse the compact syntax, e.g. ``"status=429; retry-after=2"``.

        Args:
            spec: The specification text.

        Returns:
            The fault it describes.

        Raises:
            FaultSyntaxError: An item is unknown or its value is out of range.
        """
        fields: dict[str, object] = {}
        headers: list[tuple[str, str]] = []
        ratelimit: list[tuple[str, str, str]] = []
        for raw in spec.split(";"):
            item = raw.strip()
            if not item:
                continue
            name, eq, value = item.partition("=")
            name, value = name.strip().lower(), value.strip()
            if not eq and name.isdigit():
                name, value, eq = "status", name, "="
            if name.startswith("header."):
                headers.append(
                    (_header_name(spec, item, name[7:]), _header_value(spec, item, value))
                )
            elif name.startswith("rl."):
                ratelimit.append(_ratelimit(spec, item, name[3:], value))
            else:
                key, parsed = _scalar(spec, item, name, value, bool(eq))
                fields[key] = parsed
        fields["headers"] = tuple(headers)
        fields["ratelimit"] = tuple(ratelimit)
        return msgspec.convert(fields, cls)

    @property
    def is_error(self) -> bool:
        """True when the fault replaces the response with an HTTP error."""
        return self.status is not None and self.status >= 400

    @property
    def shapes_stream(self) -> bool:
        """True when the fault changes how the body is sent (timing, cuts, bad events)."""
        return bool(
            self.chunk_delay
            or self.disconnect_bytes is not None
            or self.disconnect_events is not None
            or self.malformed is not None
            or self.no_done
            or self.error_event is not None
        )


def _scalar(spec: str, item: str, name: str, value: str, has_value: bool) -> tuple[str, object]:
    key = name.replace("-", "_")
    if name in ("no-done", "close", "drop"):
        return key, _boolean(spec, item, value) if has_value else True
    if not has_value:
        raise FaultSyntaxError(spec, item, "needs a value (name=value)")
    if name == "status":
        status = _number(spec, item, value, int)
        if not 100 <= status <= 599:
            raise FaultSyntaxError(spec, item, "status must be between 100 and 599")
        return key, status
    if name in _FLOATS:
        return key, _number(spec, item, value, float)
    if name in _INTS:
        return key, _number(spec, item, value, int)
    if name == "should-retry":
        return key, _boolean(spec, item, value)
    if name in ("error-type", "message"):
        return key, value
    raise FaultSyntaxError(spec, item, f"unknown fault {name!r}")


def _number(spec: str, item: str, value: str, kind: type[_N]) -> _N:
    try:
        number = kind(value)
    except ValueError:
        raise FaultSyntaxError(spec, item, f"{value!r} is not a {kind.__name__}") from None
    if not math.isfinite(number):
        raise FaultSyntaxError(spec, item, "must be finite")
    if number < 0:
        raise FaultSyntaxError(spec, item, "must not be negative")
    return number


def _boolean(spec: str, item: str, value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise FaultSyntaxError(spec, item, f"{value!r} is not true/false")


def _header_name(spec: str, item: str, name: str) -> str:
    if not _TOKEN.match(name):
        raise FaultSyntaxError(spec, item, "header name must be an HTTP token")
    return name


def _header_value(spec: str, item: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise FaultSyntaxError(spec, item, "header value must not contain CR or LF")
    return value


def _ratelimit(spec: str, item: str, name: str, value: str) -> tuple[str, str, str]:
    kind, _, field = name.rpartition(".")
    if kind not in _RL_KINDS or field not in _RL_FIELDS:
        raise FaultSyntaxError(
            spec, item, f"expected rl.<{'|'.join(_RL_KINDS)}>.<{'|'.join(_RL_FIELDS)}>=value"
        )
    return kind, field, _header_value(spec, item, value)
