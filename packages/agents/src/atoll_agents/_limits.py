"""``UsageLimits``: budgets a run checks before each step, never after.

Before each model call the run reserves that call's worst case: an input estimate that cannot
be low (the previous call's reported input and output, plus one token per UTF-8 byte of what
was added since; one token per byte of everything on the first call) plus the output ceiling
(``max_tokens``), priced by the registry. A call whose worst case would pass a limit is not
made.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ._exceptions import AgentDefinitionError
from ._result import Tally

# When no max_tokens and no registry ceiling are known, a budget still needs a finite worst
# case: the run then sends this ceiling itself so the reservation holds.
FALLBACK_OUTPUT_CEILING = 4096


@dataclass(frozen=True, slots=True)
class UsageLimits:
    """Budgets for one run; None means no limit.

    Attributes:
        max_turns: Model calls.
        max_tool_calls: Tool calls (checked before a turn's calls run).
        max_input_tokens: Input tokens summed over model calls.
        max_output_tokens: Output tokens summed over model calls.
        max_total_tokens: Input plus output tokens.
        max_cost: USD; refused at ``Agent(...)`` for a model whose price is unknown.

    Raises:
        AgentDefinitionError: A limit below zero.
    """

    max_turns: int | None = None
    max_tool_calls: int | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    max_total_tokens: int | None = None
    max_cost: Decimal | float | str | None = None

    def __post_init__(self) -> None:
        for name in ("max_turns", "max_tool_calls", "max_input_tokens", "max_output_tokens"):
            _check_count(name, getattr(self, name))
        _check_count("max_total_tokens", self.max_total_tokens)
        if self.max_cost is not None:
            try:
                cost = Decimal(str(self.max_cost))
            except ArithmeticError:
                raise AgentDefinitionError(
                    f"max_cost must be a number, got {self.max_cost!r}"
                ) from None
            if not cost.is_finite() or cost < 0:
                raise AgentDefinitionError(f"max_cost must be >= 0, got {self.max_cost!r}")
            object.__setattr__(self, "max_cost", cost)

    @property
    def cost_limit(self) -> Decimal | None:
        """``max_cost`` as a Decimal."""
        return None if self.max_cost is None else Decimal(str(self.max_cost))

    @property
    def bounds_output(self) -> bool:
        """Whether a limit depends on each call's output ceiling."""
        return (
            self.max_output_tokens is not None
            or self.max_total_tokens is not None
            or self.max_cost is not None
        )

    @property
    def bounds_input(self) -> bool:
        """Whether a limit depends on each call's input size."""
        return (
            self.max_input_tokens is not None
            or self.max_total_tokens is not None
            or self.max_cost is not None
        )


def _check_count(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise AgentDefinitionError(f"{name} must be an int or None, got {value!r}")
    if value < 0:
        raise AgentDefinitionError(f"{name} must be >= 0, got {value}")


@dataclass(frozen=True, slots=True)
class Overrun:
    """The first limit a step would pass: what ``UsageLimitExceeded`` reports."""

    limit: str
    value: object
    used: object
    requested: object


def check_model_call(
    limits: UsageLimits,
    tally: Tally,
    *,
    input_estimate: int,
    output_ceiling: int,
    worst_cost: Decimal | None,
) -> Overrun | None:
    """The limit the next model call could overrun at worst, or None when it fits."""
    if limits.max_turns is not None and tally.turns + 1 > limits.max_turns:
        return Overrun("max_turns", limits.max_turns, tally.turns, 1)
    used_in = tally.usage.input_tokens or 0
    used_out = tally.usage.output_tokens or 0
    checks = (
        ("max_input_tokens", limits.max_input_tokens, used_in, input_estimate),
        ("max_output_tokens", limits.max_output_tokens, used_out, output_ceiling),
        (
            "max_total_tokens",
            limits.max_total_tokens,
            used_in + used_out,
            input_estimate + output_ceiling,
        ),
    )
    for name, value, used, requested in checks:
        if value is not None and used + requested > value:
            return Overrun(name, value, used, requested)
    budget = limits.cost_limit
    if budget is not None and worst_cost is not None:
        spent = tally.cost if tally.cost is not None else Decimal(0)
        if spent + worst_cost > budget:
            return Overrun("max_cost", budget, spent, worst_cost)
    return None


def check_tool_calls(limits: UsageLimits, tally: Tally, count: int) -> Overrun | None:
    """The ``max_tool_calls`` overrun a turn's ``count`` calls would cause, or None."""
    cap = limits.max_tool_calls
    if cap is not None and tally.tool_calls + count > cap:
        return Overrun("max_tool_calls", cap, tally.tool_calls, count)
    return None
