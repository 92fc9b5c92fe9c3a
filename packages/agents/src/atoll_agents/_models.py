"""The models an agent calls, in fallback order, and what each may be sent.

A list of names becomes one single-model Client per name and the agent falls back between
them itself: it then knows, before each call, which model the request goes to, so signed
reasoning (and any provider's reasoning text) goes back only to the model that wrote it. A
Client given by the caller is used as it is (a Client with several models falls back inside
the call; reasoning is then kept for its first model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from atoll_dialects import APIError, Client, RetryPolicy, TimeoutError
from atoll_registry import ModelSpec
from atoll_wire import (
    ConnectError,
    Message,
    RedactedThinkingPart,
    RemoteProtocolError,
    ThinkingPart,
    TransportTimeout,
    Usage,
)

from ._output import OutputMode

_FALLBACK_STATUSES = RetryPolicy().retry_statuses
_REASONING = (ThinkingPart, RedactedThinkingPart)


@dataclass(slots=True)
class ModelSlot:
    """One Client in the fallback order.

    Attributes:
        client: The client.
        owned: Whether the agent made it (and closes it).
        label: ``provider/model`` of its first target: the model a request goes to first.
        specs: The registry entries of its targets (None for models the registry lacks).
        output_mode: How structured output is asked of this model.
    """

    client: Client
    owned: bool
    label: str
    specs: tuple[ModelSpec | None, ...]
    output_mode: OutputMode = "tool"

    @classmethod
    def of(cls, client: Client, *, owned: bool) -> ModelSlot:
        """Describe ``client``."""
        targets = client.targets
        return cls(
            client=client,
            owned=owned,
            label=targets[0].label,
            specs=tuple(
                t.model if t.model is not None and t.model.known else None for t in targets
            ),
        )

    @property
    def labels(self) -> list[str]:
        """``provider/model`` of every target of the client."""
        return [t.label for t in self.client.targets]

    def output_ceiling(self, max_tokens: int | None) -> int | None:
        """The most output one call can produce: ``max_tokens``, else the documented limit."""
        if max_tokens is not None:
            return max_tokens
        limits = [s.max_output_tokens for s in self.specs if s is not None]
        if not limits or None in limits or len(limits) < len(self.specs):
            return None
        return max(x for x in limits if x is not None)

    def unknown_price(self) -> str | None:
        """The label of a target whose price is unknown, or None when all are priced."""
        probe = Usage(input_tokens=1000, output_tokens=1000)
        registry = self.client.registry
        for target, spec in zip(self.client.targets, self.specs, strict=True):
            if spec is None or registry.cost(spec, probe) is None:
                return target.label
        return None

    def worst_cost(self, input_tokens: int, output_tokens: int) -> Decimal | None:
        """The highest price of a call of that size among the targets (None if unpriced)."""
        usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        registry = self.client.registry
        worst: Decimal | None = None
        for spec in self.specs:
            cost = None if spec is None else registry.cost(spec, usage)
            if cost is None:
                return None
            worst = cost.total if worst is None else max(worst, cost.total)
        return worst


def may_fall_back(error: BaseException) -> bool:
    """Whether a model's failure before its first event lets the next model try.

    The same rule as the Client's own fallbacks: retryable statuses and connection failures,
    never the overall deadline.
    """
    if isinstance(error, TimeoutError):
        return False
    if isinstance(error, APIError):
        return error.status in _FALLBACK_STATUSES
    return isinstance(error, ConnectError | TransportTimeout | RemoteProtocolError)


def messages_for(
    messages: Sequence[Message], producers: Sequence[str | None], label: str
) -> list[Message]:
    """The conversation as it may be sent to the model ``label``.

    Reasoning parts (signed thinking, redacted thinking, reasoning text) of assistant turns
    another model wrote are left out: signatures are only valid for their model, and reasoning
    is never passed off as plain text.
    """
    out: list[Message] = []
    for message, producer in zip(messages, producers, strict=True):
        if producer is not None and producer != label and message.role == "assistant":
            parts = message.parts
            if any(isinstance(p, _REASONING) for p in parts):
                message = Message(
                    role="assistant",
                    parts=[p for p in parts if not isinstance(p, _REASONING)],
                    name=message.name,
                )
        out.append(message)
    return out


def fresh_clients(names: Sequence[str]) -> list[Client]:
    """One Client per model name (each resolves and checks its key now)."""
    return [Client(name) for name in names]
