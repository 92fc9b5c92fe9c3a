"""``api_kwargs`` and ``http_kwargs`` as the legacy API took them, mapped onto the Client.

``api_kwargs``: ``temperature``, ``top_p``, ``max_tokens`` (or ``max_completion_tokens``),
``stop``, ``seed``, ``n`` (samples), ``tool_choice`` and ``url`` have their own meaning; any
other key goes into the request body unchanged (``reasoning_effort``, ``thinking``,
``logprobs``, ...). ``http_kwargs``: ``retries`` (retries after the first attempt),
``readtimeout``, ``connect_timeout`` and ``timeout`` (one overall deadline in seconds);
``retry_non_idempotent`` is accepted and has no effect (the Client's policy decides).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atoll_dialects import RetryPolicy
from atoll_wire import Timeout

_log = logging.getLogger("atoll")

_OWN_KEYS = frozenset({"n", "url", "tool_choice", "stream", "max_completion_tokens"})
_CALL_KEYS = frozenset(
    {"temperature", "top_p", "max_tokens", "stop", "seed", "parallel_tool_calls", "extra_headers"}
)
_HTTP_KEYS = frozenset(
    {"retries", "readtimeout", "connect_timeout", "timeout", "retry_non_idempotent"}
)


@dataclass
class CallOptions:
    """What one ai* call asks of the Client.

    Attributes:
        call: Keyword options for ``Client.chat``/``stream`` (temperature, extra, ...).
        samples: How many samples (``n``); each is one call.
        tool_choice: The legacy ``tool_choice`` value, interpreted by the function.
        client: Keyword options for the ``Client`` itself (retry, timeout).
    """

    call: dict[str, Any] = field(default_factory=dict[str, Any])
    samples: int = 1
    tool_choice: Any = None
    client: dict[str, Any] = field(default_factory=dict[str, Any])


def call_options(
    api_kwargs: Mapping[str, Any] | None, http_kwargs: Mapping[str, Any] | None
) -> CallOptions:
    """Split the legacy keyword mappings into Client and call options.

    Raises:
        ValueError: ``n`` is not a positive integer, or a timeout is not positive.
    """
    api = dict(api_kwargs or {})
    options = CallOptions()
    samples = api.get("n", 1)
    if not isinstance(samples, int) or isinstance(samples, bool) or samples < 1:
        raise ValueError(f"api_kwargs n must be a positive integer, got {samples!r}")
    options.samples = samples
    options.tool_choice = api.get("tool_choice")
    if "max_completion_tokens" in api and "max_tokens" not in api:
        api["max_tokens"] = api["max_completion_tokens"]
    extra: dict[str, Any] = {}
    for key, value in api.items():
        if key in _CALL_KEYS:
            if value is not None:
                options.call[key] = value
        elif key not in _OWN_KEYS:
            extra[key] = value
    if extra:
        options.call["extra"] = extra
    options.client = _client_options(http_kwargs or {})
    return options


def _client_options(http: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(http) - _HTTP_KEYS)
    if unknown:
        _log.warning(
            "http_kwargs %s have no meaning here and were ignored (known: %s)",
            ", ".join(unknown),
            ", ".join(sorted(_HTTP_KEYS)),
        )
    out: dict[str, Any] = {}
    if http.get("retries") is not None:
        retries = int(http["retries"])
        out["retry"] = RetryPolicy(attempts=max(retries, 0) + 1)
    phases = {
        "read": http.get("readtimeout"),
        "connect": http.get("connect_timeout"),
    }
    overall = http.get("timeout")
    if overall is not None:
        if float(overall) <= 0:
            raise ValueError(f"http_kwargs timeout must be positive, got {overall!r}")
        out["timeout"] = float(overall)
    elif any(v is not None for v in phases.values()):
        out["timeout"] = Timeout(**{k: float(v) for k, v in phases.items() if v is not None})
    return out
