"""``OpenAISDKTransport``: atoll_wire's ``AsyncTransport`` through an ``openai.AsyncOpenAI``."""

from __future__ import annotations

import time
from typing import Any, cast

import openai
from atoll_wire import AsyncTransport, HttpRequest, HttpResponse, TransportError, redact_url

from ._body import AsyncBody, declared_size
from ._errors import HTTP_VERSIONS, bad_version, is_native, too_large, translate
from ._limits import DEFAULT_MAX_BODY_BYTES, body_limit, check_limit
from ._loop import LoopBinding, other_loop_error
from ._native import RESPONSE_CLASS, NativeResponse
from ._route import Call, Planner


class OpenAISDKTransport(AsyncTransport):
    """Send Atoll's requests through an ``openai.AsyncOpenAI`` client you configured.

    For teams that must go through the official SDK: its base URL, organization and project,
    default headers, custom HTTP client (proxies, mTLS, event hooks, aiohttp) and Azure settings
    (``AsyncAzureOpenAI``: deployment paths, ``api-version``, keys or Azure AD tokens) all apply.
    Everything above the transport is unchanged: the same dialects, events, errors and costs.
    The SDK's own retries are off for every request (``max_retries=0``), so the Client's retry
    policy is the only one; redirects are not followed. Chosen explicitly, never by default::

        Client("gpt-4o-mini", transport=OpenAISDKTransport(openai.AsyncOpenAI()))

    By default a request goes to the client's API: the endpoint path of its URL
    (``/chat/completions``, after the Client's base URL or OpenAI's ``/v1``) is re-rooted on
    the client's base URL, and the client's credentials replace the request's
    (``Authorization``, ``api-key``, ``OpenAI-Organization``, ``OpenAI-Project``). With
    ``use_client_endpoint=False`` the request's URL and headers go out unchanged through the
    client's HTTP stack.

    POST and GET bodies stream as they arrive; the SDK reads PUT, PATCH and DELETE responses,
    and every error status (4xx, 5xx), whole before ``send`` returns. An error status is a
    response here, not an exception: the Client parses it as it does on every transport. Every
    failure is an atoll_wire ``TransportError``, chained to the SDK's.

    The openai client stays yours: ``aclose`` does not close it. Like its connection pool, the
    transport belongs to the event loop that first used it.

    Args:
        client: The configured ``openai.AsyncOpenAI`` (or ``AsyncAzureOpenAI``).
        use_client_endpoint: Send to the client's API with its credentials (see above); False
            sends each request to its own URL with its own headers.
        max_body_bytes: Larger responses raise ``ResponseTooLarge`` (None: no limit); the
            ``max_body_bytes`` request extension overrides it per request.

    Raises:
        TypeError: ``client`` is not an ``openai.AsyncOpenAI``.
        ValueError: ``max_body_bytes`` is not a positive int or None.
    """

    def __init__(
        self,
        client: openai.AsyncOpenAI,
        *,
        use_client_endpoint: bool = True,
        max_body_bytes: int | None = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if not isinstance(client, openai.AsyncOpenAI):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(
                f"OpenAISDKTransport needs an openai.AsyncOpenAI, got {type(client).__name__} "
                "(SyncOpenAISDKTransport takes an openai.OpenAI)"
            )
        self._client = client
        self._planner = Planner(client, use_client_endpoint)
        self._use_client_endpoint = use_client_endpoint
        self._max_body_bytes = (
            None if max_body_bytes is None else check_limit(max_body_bytes, "max_body_bytes")
        )
        self._loop = LoopBinding()
        self._closed = False

    @property
    def authenticates(self) -> bool:
        """True when requests go through the SDK client's endpoint with its credentials."""
        return self._use_client_endpoint

    @property
    def client(self) -> openai.AsyncOpenAI:
        """The openai client the requests go through."""
        return self._client

    @property
    def closed(self) -> bool:
        """True once ``aclose`` ran."""
        return self._closed

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Send ``request`` through the openai client; return once the headers arrived.

        Args:
            request: The request.

        Raises:
            ConnectError: The connection could not be opened (refused, DNS, TLS).
            ConnectTimeout: Connecting took longer than the connect timeout.
            PoolTimeout: No connection became free within the pool timeout.
            WriteTimeout: Sending the body took longer than the write timeout.
            ReadTimeout: The response did not start within the read timeout.
            RemoteProtocolError: The server broke HTTP or hung up.
            ResponseTooLarge: The body is (or is announced) larger than the limit.
            TransportError: The request cannot be sent (not http(s), a method the SDK has no
                verb for, an invalid header, an endpoint outside the client's API), the
                transport is closed or belongs to another event loop, or the SDK failed.
            ValueError: The request's ``max_body_bytes`` extension is invalid.
        """
        if self._closed:
            raise TransportError(
                "this OpenAISDKTransport is closed; create a new one", request=request
            )
        if self._loop.foreign():
            raise other_loop_error(request)
        call = self._planner.plan(request)
        limit = body_limit(request, self._max_body_bytes)
        started = time.perf_counter()
        try:
            native = await _call(self._client, call)
        except openai.APIStatusError as exc:
            native = cast(NativeResponse, exc.response)  # read whole by the SDK
        except Exception as exc:
            if not is_native(exc):
                raise
            raise translate(exc, request, call.timeouts) from exc
        elapsed = time.perf_counter() - started
        body: AsyncBody | bytes
        if native.http_version not in HTTP_VERSIONS:
            await native.aclose()
            raise bad_version(native.http_version, request)
        if native.is_stream_consumed:
            body = native.content
            if limit is not None and len(body) > limit:
                raise too_large(request, limit, len(body), declared=False)
        else:
            size = declared_size(native, request.method)
            if limit is not None and size is not None and size > limit:
                await native.aclose()
                raise too_large(request, limit, size, declared=True)
            body = AsyncBody(native, request, limit, call.timeouts)
        return HttpResponse(
            native.status_code, native.headers.multi_items(), request, body, elapsed=elapsed
        )

    async def aclose(self) -> None:
        """Refuse further requests; the openai client stays open (it is yours)."""
        self._closed = True

    def __repr__(self) -> str:
        return (
            f"OpenAISDKTransport(base_url={redact_url(str(self._client.base_url))!r}, "
            f"use_client_endpoint={self._use_client_endpoint!r}, "
            f"max_body_bytes={self._max_body_bytes!r})"
        )


async def _call(client: openai.AsyncOpenAI, call: Call) -> NativeResponse:
    kwargs: dict[str, Any] = {"cast_to": RESPONSE_CLASS, "options": call.options}
    if call.json_body is not None:
        kwargs["body"] = call.json_body
    if call.content is not None:
        kwargs["content"] = call.content
    if call.streams:
        kwargs["stream"] = True  # the raw response comes back unread
    verb = getattr(client, call.verb)
    return cast(NativeResponse, await verb(call.path, **kwargs))
