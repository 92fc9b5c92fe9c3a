"""Anthropic's calls beside Messages: the paged model list and ``/messages/count_tokens``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec
from atoll_wire import ChatRequest, HttpRequest

from ._anthropic_quirks import AnthropicQuirks
from ._anthropic_request import build_body
from ._encode import dumps
from ._exceptions import InvalidResponseError

if TYPE_CHECKING:
    from ._target import Target

__all__ = ["MODELS_PAGE_SIZE", "count_tokens_request", "models_request", "parse_token_count"]

#: Models per page asked of ``GET /models`` (the API's maximum).
MODELS_PAGE_SIZE = 1000

# The fields /messages/count_tokens takes; the rest of a Messages body (max_tokens, sampling,
# stream, metadata) is refused there.
_COUNTED = ("model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers")


class _Count(msgspec.Struct):
    input_tokens: int


_count_decoder = msgspec.json.Decoder(_Count)
_json = msgspec.json.Decoder(dict[str, Any])


def _headers(target: Target, version: str) -> dict[str, str]:
    headers = dict(target.provider.headers)
    headers.setdefault("anthropic-version", version)
    headers["accept"] = "application/json"
    return headers


def models_request(target: Target, cursor: str | None, version: str) -> HttpRequest:
    """``GET {base_url}/models?limit=...&after_id=...`` (one page)."""
    url = f"{target.base_url.rstrip('/')}/models?limit={MODELS_PAGE_SIZE}"
    if cursor is not None:
        from urllib.parse import quote  # only when paging on: import time matters

        url += f"&after_id={quote(cursor, safe='')}"
    return HttpRequest(method="GET", url=url, headers=_headers(target, version))


def count_tokens_request(
    request: ChatRequest, target: Target, quirks: AnthropicQuirks, version: str
) -> HttpRequest:
    """``POST {base_url}/messages/count_tokens`` with the request's countable fields."""
    counted = msgspec.structs.replace(request, stream=False, max_tokens=None)
    body: dict[str, Any] = _json.decode(
        build_body(counted, quirks, target.facts, schema_as_tool=False)
    )
    kept = {key: body[key] for key in _COUNTED if key in body}
    headers = _headers(target, version)
    headers["content-type"] = "application/json"
    return HttpRequest(
        method="POST",
        url=target.base_url.rstrip("/") + "/messages/count_tokens",
        headers=headers,
        body=dumps(kept),
    )


def parse_token_count(body: bytes, target: Target) -> int:
    """``{"input_tokens": N}`` → N.

    Raises:
        InvalidResponseError: The body holds no count.
    """
    try:
        return _count_decoder.decode(body).input_tokens
    except msgspec.DecodeError as exc:
        raise InvalidResponseError(
            f"the response is not a token count: {exc}",
            status=200,
            provider=target.provider.name,
            model=target.request_model,
            body=body.decode("utf-8", "replace"),
        ) from exc
