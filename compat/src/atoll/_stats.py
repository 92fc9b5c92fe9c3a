"""The stats line after each call: ``Tokens: 1234 @ Cost: $0.0012 in 2.1 seconds``.

It goes to the ``atoll`` logger at INFO, once per call (all samples of a call together);
``verbose=False`` silences it. When logging is not configured at all (no handler on ``atoll``
nor on the root logger) a plain stderr handler is attached to ``atoll`` so the line shows, as it
did in the legacy API; configure logging and that handler is never added.

Fixed: an unknown price shows as ``Cost: unknown`` with the reason, never as $0 (or nothing).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

_log = logging.getLogger("atoll")
_visible = False


def _ensure_visible() -> None:
    global _visible
    if _visible:
        return
    _visible = True
    if _log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("[ Info: %(message)s"))
    _log.addHandler(handler)
    if _log.level == logging.NOTSET:
        _log.setLevel(logging.INFO)


def format_cost(cost: Decimal | None) -> str:
    """``$0.0012`` (four decimals, more for tiny amounts so they never read as zero)."""
    if cost is None:
        return "unknown"
    if cost == 0 or abs(cost) >= Decimal("0.0001"):
        return f"${cost:.4f}"
    return f"${cost.normalize():f}"


def stats_line(messages: Sequence[Any]) -> str:
    """The line for one call's reply messages (several when sampled)."""
    tokens = 0
    known_tokens = True
    cost: Decimal | None = Decimal(0)
    note = ""
    elapsed = 0.0
    for message in messages:
        pair = getattr(message, "tokens", (-1, -1))
        if min(pair) < 0:
            known_tokens = False
        tokens += sum(t for t in pair if t > 0)
        extras: dict[str, Any] = getattr(message, "extras", None) or {}
        exact = extras.get("cost_usd")
        if exact is None:
            cost = None
            note = note or str(extras.get("cost_note") or "")
        elif cost is not None:
            cost += Decimal(str(exact))
        elapsed = max(elapsed, float(getattr(message, "elapsed", 0.0)))
    shown = str(tokens) if known_tokens else f"{tokens} (some not reported)"
    price = format_cost(cost) + (f" ({note})" if cost is None and note else "")
    return f"Tokens: {shown} @ Cost: {price} in {elapsed:.1f} seconds"


def report(messages: Sequence[Any], verbose: bool) -> None:
    """Log the stats line for one call unless ``verbose`` is False."""
    if not verbose:
        return
    _ensure_visible()
    _log.info(stats_line(messages))


def info(message: str, verbose: bool | int = True) -> None:
    """Log an INFO line on the ``atoll`` logger (shown like the stats line) unless silenced."""
    if not verbose:
        return
    _ensure_visible()
    _log.info(message)
