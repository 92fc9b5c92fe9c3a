"""What the Client adds to a neutral response: which model served it and what failed first."""

from __future__ import annotations

import msgspec
from atoll_wire import ChatResponse

from ._ratelimit import RateLimits


class Attempt(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """One try at one model that did not produce the response.

    Attributes:
        model: ``provider/model`` that was tried.
        number: 1-based attempt number for that model.
        status: The HTTP status, when the provider answered.
        error: The error's class name.
        message: The error's message (already redacted).
        waited: Seconds waited before the next attempt (0 when it was the last for the model).
    """

    model: str
    number: int
    error: str
    message: str = ""
    status: int | None = None
    waited: float = 0.0


class ClientResponse(ChatResponse, kw_only=True, omit_defaults=True):
    """A ``ChatResponse`` with the Client's record of how it was obtained.

    Attributes:
        served_by: ``provider/model`` that produced this response (after any fallbacks).
        attempts: Failed attempts before it, oldest first (retries and fallbacks).
        cost_note: Why ``cost`` is None, when it is.
        rate_limits: The provider's rate-limit headers on this response, when it sent any.
    """

    served_by: str = ""
    attempts: list[Attempt] = msgspec.field(default_factory=list[Attempt])
    cost_note: str | None = None
    rate_limits: RateLimits | None = None


def with_record(
    response: ChatResponse,
    *,
    served_by: str,
    attempts: list[Attempt],
    cost: object,
    cost_note: str | None,
    rate_limits: RateLimits | None = None,
) -> ClientResponse:
    """Copy a neutral response into a ``ClientResponse`` carrying the Client's record."""
    fields = {name: getattr(response, name) for name in ChatResponse.__struct_fields__}
    fields["cost"] = cost
    return ClientResponse(
        **fields,
        served_by=served_by,
        attempts=list(attempts),
        cost_note=cost_note,
        rate_limits=rate_limits,
    )
