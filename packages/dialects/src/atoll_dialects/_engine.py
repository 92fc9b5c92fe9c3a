"""A client's shared, immutable call settings, and what turns a parsed reply into its result.

``Client`` and ``SyncClient`` hold one ``Engine`` each; every call makes an ``AttemptLoop``
(``_attempts.py``) from it. Nothing here waits or does I/O.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec
from atoll_registry import Cost, Registry
from atoll_wire import ChatResponse, Timeout

from ._deadline import Deadline
from ._ratelimit import RateLimits, parse_rate_limits
from ._result import Attempt, ClientResponse, with_record
from ._retry import RetryPolicy
from ._target import Target

if TYPE_CHECKING:
    from ._feedback import LimiterFeedback

#: Largest non-streamed success body accepted.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: Most of an error body read (the rest is never downloaded): enough for any provider's
#: error envelope, small enough that a 50 MB HTML error page costs nothing.
MAX_ERROR_BODY_BYTES = 64 * 1024


@dataclass(slots=True)
class Engine:
    """Shared, immutable call settings of one client.

    Attributes:
        targets: The models to try, in fallback order.
        registry: Where prices come from.
        retry: The retry policy for each model.
        transport_timeout: Per-phase transport limits the caller set on the Client (phases
            left None take the transport's own values).
        deadline_seconds: Default overall budget of a call, or None.
        max_response_bytes: Largest non-streamed body accepted.
        default_headers: Headers sent on every request (checked when the Client was made).
        feedback: The limiters told about rate-limit headers and 429s (``limiters=``).
        relaxed: Targets a server made the dialect relax (``Dialect.relaxed_target``), by the
            id of the original target; shared with the engines made from this one.
    """

    targets: Sequence[Target]
    registry: Registry
    retry: RetryPolicy
    transport_timeout: Timeout
    deadline_seconds: float | None
    max_response_bytes: int = MAX_RESPONSE_BYTES
    default_headers: Mapping[str, str] = field(default_factory=dict[str, str])
    feedback: LimiterFeedback | None = None
    relaxed: dict[int, Target] = field(default_factory=dict[int, Target])

    def target_at(self, position: int) -> Target:
        """The target to try at ``position`` (relaxed, if a server made it so)."""
        target = self.targets[position]
        relaxed = self.relaxed
        return relaxed.get(id(target), target) if relaxed else target

    def relax(self, position: int, target: Target) -> None:
        """Use ``target`` at ``position`` from now on (for every later call of this client)."""
        self.relaxed[id(self.targets[position])] = target

    def deadline(self, override: float | None) -> Deadline:
        """A fresh deadline for one call (``override`` seconds, else the client's default)."""
        return Deadline(override if override is not None else self.deadline_seconds)

    def finish(
        self,
        target: Target,
        response: ChatResponse,
        history: list[Attempt],
        headers: Mapping[str, str] | None = None,
    ) -> ClientResponse:
        """Attach provider, cost (or why it is unknown), rate limits and the attempt record."""
        if response.provider is None:
            response = msgspec.structs.replace(response, provider=target.provider.name)
        cost: Cost | None = None
        if target.model is None:
            note: str | None = f"model {target.name!r} is not in the registry; its price is unknown"
        else:
            outcome = self.registry.explain_cost(target.model, response.usage)
            cost = outcome if isinstance(outcome, Cost) else None
            note = None if cost is not None else getattr(outcome, "reason", "price unknown")
        limits: RateLimits | None = parse_rate_limits(headers, time.time()) if headers else None
        return with_record(
            response,
            served_by=target.label,
            attempts=history,
            cost=cost,
            cost_note=note,
            rate_limits=limits,
        )
