"""``SyncOpenAISDKTransport``: atoll_wire's ``SyncTransport`` through an ``openai.OpenAI``."""

from __future__ import annotations

import time
from typing import Any, cast

import openai
from atoll_wire import HttpRequest, SyncHttpResponse, SyncTransport, TransportError, redact_url

from ._body import SyncBody, declared_size
from ._errors import HTTP_VERSIONS, bad_version, is_native, too_large, translate
from ._limits import DEFAULT_MAX_BODY_BYTES, body_limit, check_limit
from ._native import RESPONSE_CLASS, NativeResponse
from ._route import Call, Planner


class SyncOpenAISDKTransport(SyncTransport):
    """Send Atoll's requests through an ``openai.OpenAI`` client you configured (blocking).

    The blocking twin of ``OpenAISDKTransport``, with the same routing, options and errors:
    the client's base URL, credentials, default headers, HTTP client and Azure settings apply,
    its retries are off for every request, redirects are not followed, POST and GET bodies
    stream, error statuses are responses. Thread-safe as far as the openai client is (it is).
    The openai client stays yours: ``close`` does not close it.

    Args:
        client: The configured ``openai.OpenAI`` (or ``AzureOpenAI``).
        use_client_endpoint: Send to the client's API with its credentials; False sends each
            request to its own URL with its own headers.
        max_body_bytes: Larger responses raise ``ResponseTooLarge`` (None: no limit).

    Raises:
        TypeError: ``client`` is not an ``openai.OpenAI``.
        ValueError: ``max_body_bytes`` is not a positive int or None.
    """

    def __init__(
        self,
        client: openai.OpenAI,
        *,
        use_client_endpoint: bool = True,
        max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if not isinstance(client, openai.OpenAI):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(
                f"SyncOpenAISDKTransport needs an openai.OpenAI, got {type(client).__name__} "
                "(OpenAISDKTransport takes an openai.AsyncOpenAI)"
            )
        self._client = client
        self._planner = Planner(client, use_client_endpoint)
        self._use_client_endpoint = use_client_endpoint
        self._max_body_bytes = (
            None if max_body_bytes is None else check_limit(max_body_bytes, "max_body_bytes")
        )
        self._closed = False

    @property
    def authenticates(self) -> bool:
        """True when requests go through the SDK client's endpoint with its credentials."""
        return self._use_client_endpoint

    @property
    def client(self) -> openai.OpenAI:
        """The openai client the requests go through."""
        return self._client

    @property
    def closed(self) -> bool:
        """True once ``close`` ran."""
        return self._closed

    def send(self, request: HttpRequest) -> SyncHttpResponse:
        """Send ``request`` through the openai client; return once the headers arrived.

        Args:
            request: The request.

        Raises:
            TransportError: A subclass says what failed, as for ``OpenAISDKTransport.send``;
                a plain one when the request cannot be sent or the transport is closed.
            ValueError: The request's ``max_body_bytes`` extension is invalid.
        """
        if self._closed:
            raise TransportError(
                "this SyncOpenAISDKTransport is closed; create a new one", request=request
            )
        call = self._planner.plan(request)
        limit = body_limit(request, self._max_body_bytes)
        started = time.perf_counter()
        try:
            native = _call(self._client, call)
        except openai.APIStatusError as exc:
            native = cast(NativeResponse, exc.response)  # read whole by the SDK
        except Exception as exc:
            if not is_native(exc):
                raise
            raise translate(exc, request, call.timeouts) from exc
        elapsed = time.perf_counter() - started
        body: SyncBody | bytes
        if native.http_version not in HTTP_VERSIONS:
            native.close()
            raise bad_version(native.http_version, request)
        if native.is_stream_consumed:
            body = native.content
            if limit is not None and len(body) > limit:
                raise too_large(request, limit, len(body), declared=False)
        else:
            size = declared_size(native, request.method)
            if limit is not None and size is not None and size > limit:
                native.close()
                raise too_large(request, limit, size, declared=True)
            body = SyncBody(native, request, limit, call.timeouts)
        return SyncHttpResponse(
            native.status_code, native.headers.multi_items(), request, body, elapsed=elapsed
        )

    def close(self) -> None:
        """Refuse further requests; the openai client stays open (it is yours)."""
        self._closed = True

    def __repr__(self) -> str:
        return (
            f"SyncOpenAISDKTransport(base_url={redact_url(str(self._client.base_url))!r}, "
            f"use_client_endpoint={self._use_client_endpoint!r}, "
            f"max_body_bytes={self._max_body_bytes!r})"
        )


def _call(client: openai.OpenAI, call: Call) -> NativeResponse:
    kwargs: dict[str, Any] = {"cast_to": RESPONSE_CLASS, "options": call.options}
    if call.json_body is not None:
        kwargs["body"] = call.json_body
    if call.content is not None:
        kwargs["content"] = call.content
    if call.streams:
        kwargs["stream"] = True  # the raw response comes back unread
    verb = getattr(client, call.verb)
    return cast(NativeResponse, verb(call.path, **kwargs))
