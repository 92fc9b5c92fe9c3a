"""``atoll models`` and ``atoll cost``: the registry's facts and prices, from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from typing import Any

from atoll_registry import Capabilities, Cost, ModelSpec, Price, Registry
from atoll_wire import Usage

from . import _cli_errors as errors

_SHORT = {
    "tools": "tools",
    "parallel_tool_calls": "parallel",
    "json_schema": "json",
    "vision": "vision",
    "audio": "audio",
    "reasoning": "reasoning",
    "prompt_caching": "caching",
    "streaming": "stream",
    "streaming_usage": "stream-usage",
}
_ALIASES = {short: field for field, short in _SHORT.items()} | {"json-schema": "json_schema"}


def _capability(name: str) -> str | None:
    key = name.strip().lower().replace("-", "_")
    if key in Capabilities.__struct_fields__:
        return key
    return _ALIASES.get(name.strip().lower())


def _money(value: Decimal | None) -> str:
    if value is None:
        return "?"
    text = f"{value.normalize():f}"
    whole, _, frac = text.partition(".")
    return f"{whole}.{frac.ljust(2, '0')}"


def _capabilities(spec: ModelSpec) -> list[str]:
    caps = spec.capabilities
    return [f for f in Capabilities.__struct_fields__ if getattr(caps, f) is True]


def _row(spec: ModelSpec, price: Price | None) -> dict[str, Any]:
    return {
        "model": spec.qualified_name,
        "context_window": spec.context_window,
        "max_output_tokens": spec.max_output_tokens,
        "capabilities": _capabilities(spec),
        "input_per_million": None if price is None or price.input is None else str(price.input),
        "output_per_million": None if price is None or price.output is None else str(price.output),
        "cached_input_per_million": (
            None if price is None or price.cache_read is None else str(price.cache_read)
        ),
        "price_source": None if price is None else price.source,
        "price_as_of": None if price is None else price.as_of.isoformat(),
        "deprecated": spec.deprecated,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    header = ["MODEL", "CONTEXT", "CAPABILITIES", "IN $/M", "OUT $/M", "CACHED $/M", "PRICE SOURCE"]
    lines = [header]
    for r in rows:
        context = r["context_window"]
        source = r["price_source"]
        lines.append(
            [
                r["model"] + (" (deprecated)" if r["deprecated"] else ""),
                f"{context:,}" if context else "?",
                ",".join(_SHORT[c] for c in r["capabilities"]) or "-",
                _money(None if r["input_per_million"] is None else Decimal(r["input_per_million"])),
                _money(
                    None if r["output_per_million"] is None else Decimal(r["output_per_million"])
                ),
                _money(
                    None
                    if r["cached_input_per_million"] is None
                    else Decimal(r["cached_input_per_million"])
                ),
                "no price known"
                if source is None
                else f"{source.split(' (')[0]}, {r['price_as_of']}",
            ]
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {1, 3, 4, 5}
    out = [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ).rstrip()
        for line in lines
    ]
    return "\n".join(out)


def run_models(args: argparse.Namespace) -> int:
    """List models, filtered by provider and capabilities."""
    registry = Registry.default()
    wanted: list[str] = []
    for name in args.capability:
        field = _capability(name)
        if field is None:
            known = ", ".join(sorted(set(_SHORT.values())))
            print(
                f"atoll models: error: unknown capability {name!r} (known: {known})",
                file=sys.stderr,
            )
            return errors.USAGE
        wanted.append(field)
    if args.provider:
        registry.provider(args.provider)  # an unknown provider raises, with suggestions
    from datetime import UTC, datetime

    today = datetime.now(UTC).date()
    rows = [
        _row(spec, spec.price_at(today))
        for spec in registry.models(args.provider)
        if all(getattr(spec.capabilities, f) is True for f in wanted)
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
    elif rows:
        print(_table(rows))
        print(f"\n{len(rows)} models; prices in USD per million tokens; '?' means unknown.")
    else:
        print("no model matches", file=sys.stderr)
    return errors.OK


def _usage(args: argparse.Namespace) -> Usage:
    cached = args.cached or 0
    written = args.cache_write or 0
    if cached + written > args.input:
        raise ValueError(
            f"--cached and --cache-write ({cached + written}) exceed --input ({args.input}): "
            "input counts all input tokens, cached ones included"
        )
    if (args.reasoning or 0) > args.output:
        raise ValueError(
            f"--reasoning ({args.reasoning}) exceeds --output ({args.output}): output counts "
            "all output tokens, reasoning included"
        )
    return Usage(
        input_tokens=args.input,
        output_tokens=args.output,
        cache_read_tokens=args.cached,
        cache_write_tokens=args.cache_write,
        reasoning_tokens=args.reasoning,
    )


def _breakdown(cost: Cost, usage: Usage) -> list[tuple[str, int, Decimal | None, Decimal]]:
    price = cost.price
    read = usage.cache_read_tokens or 0
    written = usage.cache_write_tokens or 0
    reasoning = usage.reasoning_tokens or 0
    return [
        ("input", (usage.input_tokens or 0) - read - written, price.input, cost.input),
        ("cached input", read, price.cache_read, cost.cached_input),
        ("cache write", written, price.cache_write, cost.cache_write),
        ("output", (usage.output_tokens or 0) - reasoning, price.output, cost.output),
        ("reasoning", reasoning, price.reasoning or price.output, cost.reasoning),
    ]


def run_cost(args: argparse.Namespace) -> int:
    """Print the exact cost breakdown of one call."""
    try:
        usage = _usage(args)
    except ValueError as exc:
        print(f"atoll cost: error: {exc}", file=sys.stderr)
        return errors.USAGE
    registry = Registry.default()
    spec = registry.resolve(args.model)
    result = registry.explain_cost(spec, usage)
    if not isinstance(result, Cost):
        print(
            f"atoll cost: cost of {spec.qualified_name} unknown: {result.reason}", file=sys.stderr
        )
        return errors.FAILED
    rows = _breakdown(result, usage)
    if args.json:
        data: dict[str, Any] = {name.replace(" ", "_"): str(amount) for name, _, _, amount in rows}
        data |= {
            "model": result.model,
            "total": str(result.total),
            "price_source": result.price.source,
            "price_as_of": result.price.as_of.isoformat(),
        }
        print(json.dumps(data, indent=2))
        return errors.OK
    print(f"{result.model}  (prices: {result.price.source}, as of {result.price.as_of})")
    for name, tokens, rate, amount in rows:
        if tokens:
            print(f"  {name:<13}{tokens:>12,} tokens x {'$' + _money(rate):>8}/M = ${amount:.8f}")
    print(f"  {'total':<13}{'':>36}${result.total:.8f}")
    return errors.OK
