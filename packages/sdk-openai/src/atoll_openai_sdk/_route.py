"""Turn one ``HttpRequest`` into one call of the SDK client's ``get``/``post``/... verbs.

These verbs are the SDK's documented way to reach any endpoint with the client's settings; with
``cast_to`` set to its HTTP library's ``Response`` they return the raw response, unread. Two
ways to route, chosen per transport:

* ``use_client_endpoint=True`` (the default): the request goes to the client's API. Its endpoint
  path (``/chat/completions``) is taken from the request's URL and re-rooted on the client's
  base URL, so an Azure client's deployment path and ``api-version``, a proxy's prefix and the
  like apply. The request's own credentials (``Authorization``, ``api-key``,
  ``OpenAI-Organization``, ``OpenAI-Project``) stay out; the client's go instead.
* ``use_client_endpoint=False``: the request's URL and headers go out as they are; the client
  lends its HTTP stack (pool, proxies, TLS, hooks) and its other default headers.

Either way the SDK's own retries are off (``max_retries=0``), so the Client's retry policy is
the only one and records every attempt, and redirects are not followed, as on every transport.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import openai
from atoll_wire import HttpRequest, Timeout, TransportError, checked_header_value

CLIENT_CREDENTIALS = frozenset(
    {"authorization", "api-key", "openai-organization", "openai-project"}
)
"""Headers the SDK client supplies from its own settings (key, Azure key or token, identity)."""

_VERBS = {"GET": "get", "POST": "post", "PUT": "put", "PATCH": "patch", "DELETE": "delete"}
_STREAMING_VERBS = frozenset({"get", "post"})  # the SDK's other verbs read the body whole


@dataclass(frozen=True, slots=True)
class Call:
    """One SDK call: the verb, where, what, and the per-request options.

    Attributes:
        verb: ``get``, ``post``, ``put``, ``patch`` or ``delete``.
        path: An endpoint path relative to the client's base URL, or an absolute URL.
        json_body: The JSON body, decoded (the SDK encodes it; Azure reads its ``model``).
        content: The body as raw bytes, when it is not sent as JSON.
        options: The SDK's ``RequestOptions`` (headers, params, timeout, retries, redirects).
        timeouts: The per-phase timeouts in force, for error messages.
        streams: The SDK returns this verb's response unread (``get``, ``post``).
    """

    verb: str
    path: str
    json_body: object | None
    content: bytes | None
    options: dict[str, Any]
    timeouts: Mapping[str, float | None]
    streams: bool


class Planner:
    """Plans :class:`Call` s for one SDK client.

    Args:
        client: The SDK client (sync or async): its base URL, default headers and timeout.
        use_client_endpoint: Route to the client's API (see the module docstring).
    """

    __slots__ = ("_base_url", "_casing", "_client_timeouts", "_use_client_endpoint")

    def __init__(self, client: openai.OpenAI | openai.AsyncOpenAI, use_client_endpoint: bool):
        self._base_url = str(client.base_url).rstrip("/")
        self._use_client_endpoint = use_client_endpoint
        # The SDK merges its default headers and ours as plain dicts: a name cased differently
        # would go out twice ("Accept" and "accept"), so ours take the SDK's casing.
        self._casing = {name.lower(): name for name in client.default_headers}
        self._client_timeouts = _phases(client.timeout)

    def plan(self, request: HttpRequest) -> Call:
        """The SDK call that sends ``request``.

        Raises:
            TransportError: The request cannot be sent (not http(s), a method the SDK has no
                verb for, an invalid header, an endpoint that cannot be placed on the client's
                base URL). Nothing has gone out.
        """
        url = request.url
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in ("http", "https"):
            raise TransportError(
                f"unsupported URL scheme {scheme!r}: only http:// and https:// URLs are sent",
                request=request,
            )
        verb = _VERBS.get(request.method.upper())
        if verb is None or (verb == "get" and request.body):
            what = "a GET with a body" if verb else f"{request.method} requests"
            raise TransportError(f"the openai SDK cannot send {what}", request=request)
        options: dict[str, Any] = {
            "headers": self._headers(request),
            "max_retries": 0,
            "follow_redirects": False,
        }
        timeouts = self._timeouts(request, options)
        path = self._endpoint(request) if self._use_client_endpoint else url
        json_body, content = self._body(request)
        return Call(verb, path, json_body, content, options, timeouts, verb in _STREAMING_VERBS)

    def _headers(self, request: HttpRequest) -> dict[str, str]:
        headers: dict[str, str] = {}
        casing = self._casing
        drop = CLIENT_CREDENTIALS if self._use_client_endpoint else frozenset[str]()
        for name, raw in request.headers.items():
            value = checked_header_value(name, raw, request)  # names the header, never its value
            lower = name.lower()
            if lower not in drop:
                headers[casing.get(lower, name)] = value
        return headers

    def _timeouts(
        self, request: HttpRequest, options: dict[str, Any]
    ) -> Mapping[str, float | None]:
        own = request.timeout
        base = self._client_timeouts
        if own.connect is None and own.read is None and own.write is None and own.pool is None:
            return base  # the client's own timeout applies
        merged = {
            "connect": base["connect"] if own.connect is None else own.connect,
            "read": base["read"] if own.read is None else own.read,
            "write": base["write"] if own.write is None else own.write,
            "pool": base["pool"] if own.pool is None else own.pool,
        }
        options["timeout"] = openai.Timeout(**merged)
        return merged

    def _endpoint(self, request: HttpRequest) -> str:
        # The endpoint is what follows the API root: the client's base URL when the request was
        # built on it, else OpenAI's "/v1" (the registry's OpenAI URL, and most compatible ones).
        # The query stays on the path as it is: the SDK would write a repeated key as "key[]".
        parts = urlsplit(request.url)
        bare = request.url.split("?", 1)[0].split("#", 1)[0]
        base = self._base_url
        if bare == base or bare.startswith(base + "/"):
            path = bare[len(base) :] or "/"
        elif "/v1/" in parts.path + "/":
            path = parts.path[(parts.path + "/").index("/v1/") + 3 :] or "/"
        else:
            raise TransportError(
                f"cannot tell which endpoint of the openai client's API ({base}) this URL "
                "names: give the Client the same base_url as the openai client, or build the "
                "transport with use_client_endpoint=False to send it where it says",
                request=request,
            )
        return f"{path}?{parts.query}" if parts.query else path

    def _body(self, request: HttpRequest) -> tuple[object | None, bytes | None]:
        body = request.body
        if not body:
            return None, None
        if self._use_client_endpoint and _is_json(request.headers):
            try:
                return json.loads(body), None
            except ValueError:
                pass  # not JSON after all: the bytes go as they are
        return None, body


def _is_json(headers: Mapping[str, str]) -> bool:
    for name, value in headers.items():
        if name.lower() == "content-type":
            media = value.split(";", 1)[0].strip().lower()
            return media == "application/json" or media.endswith("+json")
    return False


def _phases(timeout: object) -> dict[str, float | None]:
    """The per-phase seconds of the SDK client's ``timeout`` (a number, a Timeout or None)."""
    if timeout is None or isinstance(timeout, int | float):
        seconds = None if timeout is None else float(timeout)
        return {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}
    phases = Timeout.of(
        {phase: getattr(timeout, phase, None) for phase in ("connect", "read", "write", "pool")}
    )
    return {
        "connect": phases.connect,
        "read": phases.read,
        "write": phases.write,
        "pool": phases.pool,
    }
