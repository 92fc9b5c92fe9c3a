"""``ParsedResponse[T]``: a chat response that also carries its validated structured output."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Generic, TypeVar

import msgspec
from atoll_wire import Message, Usage

from ._result import ClientResponse

__all__ = ["ParsedResponse", "parsed_response"]

T = TypeVar("T")


class ParsedResponse(ClientResponse, Generic[T], kw_only=True, omit_defaults=True):
    """The reply to ``chat(..., output=T)``: the response, and ``parsed``, a validated ``T``.

    ``message``, ``usage`` and ``cost`` are those of the reply that passed; replies that failed
    validation and were repaired are in ``repairs`` (each with its own usage and cost), and
    ``total_usage``/``total_cost`` add them all up.

    Attributes:
        parsed: The validated output; None only when the model answered with calls to your
            own tools instead (send their results back and call again).
        repairs: Earlier replies that did not validate, oldest first.
    """

    parsed: T | None = None
    repairs: list[ClientResponse] = msgspec.field(default_factory=list[ClientResponse])

    @property
    def total_usage(self) -> Usage:
        """Usage of this reply and of every repaired one before it."""
        total = self.usage
        for reply in self.repairs:
            total = total + reply.usage
        return total

    @property
    def total_cost(self) -> Decimal | None:
        """USD of this reply and every repaired one, or None when any price is unknown."""
        total = Decimal(0)
        for reply in (*self.repairs, self):
            cost: Any = reply.cost
            if cost is None:
                return None
            total += cost.total
        return total


def parsed_response(
    response: ClientResponse,
    value: T | None,
    repairs: list[ClientResponse],
    message: Message | None = None,
) -> ParsedResponse[T]:
    """Copy ``response`` into a ``ParsedResponse`` holding ``value`` (and a rewritten message)."""
    fields = {name: getattr(response, name) for name in ClientResponse.__struct_fields__}
    if message is not None:
        fields["message"] = message
    return ParsedResponse(**fields, parsed=value, repairs=list(repairs))
