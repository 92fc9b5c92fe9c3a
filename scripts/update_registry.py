"""Regenerate atoll_registry's price table from the genai-prices package (a dev-only dependency).

Usage::

    uv run --no-sync python scripts/update_registry.py            # rewrite prices.json
    uv run --no-sync python scripts/update_registry.py --check    # exit 1 if it would change

It reads the hand-maintained ``providers.json`` and ``models.json`` of atoll_registry, finds each
model in genai-prices (by an explicit reference below, else by its api name, id or snapshots, with
genai-prices' own matching rules), converts the prices to our rows and writes ``prices.json``
with provenance on every row: the package and version, the provider's pricing page, and the
date the figures were taken (``--as-of``, default today UTC).

What is converted: input, output, cache read, cache write (5-minute), 1-hour cache write,
separately priced reasoning and audio input, cached audio input and audio output, per million
tokens; start-date constraints become
``effective_from``; long-context tiers become extra rows with ``above_input_tokens``. The
``processing: batch`` price variant becomes the model's ``batch_prices`` rows, resolved as
genai-prices resolves a variant (each figure it gives overrides the standard one in force on
that day; figures it does not give stay the standard ones). What is not converted (image
tokens, web searches, off-peak hours, flex, priority and fast service tiers) is named in the
row's ``note`` so nobody mistakes it for complete.
"""

from __future__ import annotations

import argparse
import copy
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any

import msgspec
from atoll_registry import Price, PriceTable, RegistryDocument
from atoll_registry._document import decode_document, merge_documents
from genai_prices.data import providers as genai_providers
from genai_prices.types import (
    ConditionalPrice,
    ModelInfo,
    ModelPrice,
    PriceVariant,
    Provider,
    StartDateConstraint,
    TieredPrices,
    TimeOfDateConstraint,
)

DATA = Path(__file__).resolve().parent.parent / "packages/model-registry/src/atoll_registry/data"

# Our provider name -> genai-prices provider id. Providers absent here have no price source.
PROVIDER_MAP = {
    "openai": "openai",
    "anthropic": "anthropic",
    "groq": "groq",
    "deepseek": "deepseek",
    "mistral": "mistral",
    "xai": "x-ai",
    "gemini": "google",
    # Vertex AI bills Gemini and Claude at the rates genai-prices lists for Google and Anthropic
    # (standard tier, global endpoint); regional endpoints' premiums are not modelled.
    "vertex": "google",
    "gemini-openai": "google",
    "vertex-anthropic": "anthropic",
    "together": "together",
    "fireworks": "fireworks",
    "cerebras": "cerebras",
    "openrouter": "openrouter",
}

# (provider, model id) -> genai-prices model id, where name matching would pick the wrong entry.
EXPLICIT = {
    ("mistral", "mistral-large-2512"): "mistral-large-2512",
    ("vertex-anthropic", "claude-sonnet-4-5"): "claude-sonnet-4-5",
    ("vertex-anthropic", "claude-haiku-4-5"): "claude-haiku-4-5",
    ("vertex-anthropic", "claude-opus-4-5"): "claude-opus-4-5",
}

# genai-prices price keys -> our Price fields.
FIELD_MAP = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
    "cache_write_1h_mtok": "cache_write_1h",
    "output_reasoning_mtok": "reasoning",
    "input_audio_mtok": "input_audio",
    "cache_audio_read_mtok": "cache_read_audio",
    "output_audio_mtok": "output_audio",
}


# The genai-prices variant that is the batch API's price (OpenAI Batch, Anthropic Message
# Batches, Gemini batch mode, ...).
BATCH_VARIANT = {"processing": "batch"}


# Batch rates read from a provider's own page for models whose genai-prices entry has no batch
# variant: (provider, model id) -> (input, output) in USD per million tokens. The page lists
# input and output only, so cache figures stay unknown (a batch cost with cache tokens is None).
ANTHROPIC_BATCH_PAGE = "https://docs.anthropic.com/en/docs/build-with-claude/batch-processing"
PAGE_BATCH_AS_OF = date(2026, 12, 7)
PAGE_BATCH_PRICES: dict[tuple[str, str], tuple[str, str, str]] = {
    ("anthropic", "claude-opus-4-1"): ("7.50", "37.50", ANTHROPIC_BATCH_PAGE),
    ("anthropic", "claude-opus-4-0"): ("7.50", "37.50", ANTHROPIC_BATCH_PAGE),
    ("anthropic", "claude-sonnet-4-0"): ("1.50", "7.50", ANTHROPIC_BATCH_PAGE),
    ("anthropic", "claude-3-7-sonnet"): ("1.50", "7.50", ANTHROPIC_BATCH_PAGE),
    ("anthropic", "claude-3-5-haiku"): ("0.40", "2", ANTHROPIC_BATCH_PAGE),
    ("anthropic", "claude-3-haiku"): ("0.125", "0.625", ANTHROPIC_BATCH_PAGE),
}


def _page_batch_rows(provider: str, model: str) -> list[Price]:
    found = PAGE_BATCH_PRICES.get((provider, model))
    if found is None:
        return []
    batch_input, batch_output, page = found
    return [
        Price(
            source=page,
            as_of=PAGE_BATCH_AS_OF,
            input=Decimal(batch_input),
            output=Decimal(batch_output),
            note="batch API rate from the provider's batch-processing page (input and output "
            "only: cache rates are not listed there)",
        )
    ]


@dataclass
class Conversion:
    rows: list[Price]
    upstream: str
    batch_rows: list[Price]


def _find(provider: Provider, spec_names: list[str]) -> ModelInfo | None:
    for name in spec_names:
        by_id = next((m for m in provider.models if m.id == name), None)
        if by_id is not None:
            return by_id
    for name in spec_names:
        found = provider.find_model(name)
        if found is not None:
            return found
    return None


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M")


def _rows_for(
    prices: ModelPrice, start: date | None, source: str, as_of: date, note: str | None
) -> list[Price]:
    values: dict[str, Decimal | TieredPrices] = {}
    unmodelled: list[str] = []
    for key, value in vars(prices).items():
        if key.startswith("_") or value is None:
            continue
        if key in FIELD_MAP:
            values[FIELD_MAP[key]] = value
        else:
            unmodelled.append(key)
    notes = [note] if note else []
    if unmodelled:
        notes.append("not modelled: " + ", ".join(sorted(unmodelled)))
    starts = sorted(
        {0, *(t.start for v in values.values() if isinstance(v, TieredPrices) for t in v.tiers)}
    )
    rows: list[Price] = []
    for threshold in starts:
        fields: dict[str, Any] = {}
        for name, value in values.items():
            if isinstance(value, TieredPrices):
                chosen = value.base
                for tier in value.tiers:
                    if tier.start <= threshold and threshold:
                        chosen = tier.price
                fields[name] = chosen
            else:
                fields[name] = value
        rows.append(
            Price(
                source=source,
                as_of=as_of,
                effective_from=start,
                above_input_tokens=threshold,
                note="; ".join(notes) or None,
                **fields,
            )
        )
    return rows


def _variants_note(model: ModelInfo) -> str | None:
    """The price variants other than batch (flex, priority, ...) that are not converted."""
    skipped = sorted(
        {
            f"{key}={value}"
            for variant in model.price_variants or ()
            if variant.when != BATCH_VARIANT and any(vars(variant.prices).values())
            for key, value in variant.when.items()
        }
    )
    return f"price variants not modelled: {', '.join(skipped)}" if skipped else None


def _standard_at(conditionals: list[ConditionalPrice], day: date) -> ModelPrice | None:
    """The standard prices genai-prices uses on ``day`` (the last conditional in force)."""
    moment = datetime.combine(day, time(), tzinfo=UTC)
    for conditional in reversed(conditionals):
        constraint = conditional.constraint
        if isinstance(constraint, TimeOfDateConstraint):
            continue
        if constraint is None or constraint.active(moment):
            return conditional.prices
    return None


def _batch_prices(
    conditionals: list[ConditionalPrice], variants: list[PriceVariant], day: date
) -> ModelPrice | None:
    """Standard prices on ``day`` with the batch variants' figures over them, or None."""
    standard = _standard_at(conditionals, day)
    moment = datetime.combine(day, time(), tzinfo=UTC)
    overrides: dict[str, object] = {}
    for variant in variants:
        constraint = variant.constraint
        if constraint is not None and not constraint.active(moment):
            continue
        for key, value in vars(variant.prices).items():
            if value is not None:
                overrides.setdefault(key, value)  # the first variant listed wins, per figure
    if standard is None or not overrides:
        return None
    merged = copy.copy(standard)
    merged.__dict__.update(overrides)
    return merged


def _start(constraint: object) -> date | None:
    return constraint.start_date if isinstance(constraint, StartDateConstraint) else None


def _batch_rows(
    model: ModelInfo,
    conditionals: list[ConditionalPrice],
    source: str,
    as_of: date,
    note: str | None,
) -> list[Price]:
    variants = [v for v in model.price_variants or () if v.when == BATCH_VARIANT]
    if not variants or any(isinstance(v.constraint, TimeOfDateConstraint) for v in variants):
        return []
    # The batch price changes only where a standard row or a batch variant starts.
    starts = {_start(c.constraint) for c in conditionals} | {_start(v.constraint) for v in variants}
    rows: list[Price] = []
    for start in sorted(starts, key=lambda d: d or date.min):
        merged = _batch_prices(conditionals, variants, start or date.min)
        if merged is not None:
            rows.extend(_rows_for(merged, start, source, as_of, note))
    return rows


def convert(model: ModelInfo, provider: Provider, as_of: date) -> Conversion | None:
    pkg = f"genai-prices {version('genai-prices')}"
    page = (provider.pricing_urls or [""])[0]
    source = f"{pkg}: {provider.id}/{model.id}" + (f" ({page})" if page else "")
    base_note = _variants_note(model)
    conditionals: list[ConditionalPrice] = (
        [ConditionalPrice(prices=model.prices)]
        if isinstance(model.prices, ModelPrice)
        else model.prices
    )
    rows: list[Price] = []
    off_peak: list[str] = []
    for conditional in conditionals:
        constraint = conditional.constraint
        if isinstance(constraint, TimeOfDateConstraint):
            off_peak.append(f"{_hhmm(constraint.start_time)}-{_hhmm(constraint.end_time)} UTC")
            continue
        start = constraint.start_date if isinstance(constraint, StartDateConstraint) else None
        rows.extend(_rows_for(conditional.prices, start, source, as_of, base_note))
    batch_note = "; ".join(
        filter(None, ["batch API rate (genai-prices variant processing=batch)", base_note])
    )
    batch_rows = _batch_rows(model, conditionals, source, as_of, batch_note)
    if off_peak:
        extra = "off-peak discount " + ", ".join(off_peak) + " not modelled"
        rows = [
            msgspec.structs.replace(r, note="; ".join(filter(None, [r.note, extra]))) for r in rows
        ]
    rows = [r for r in rows if r.input is not None or r.output is not None]
    batch_rows = [r for r in batch_rows if r.input is not None or r.output is not None]
    if not rows:
        return None
    return Conversion(rows=rows, upstream=f"{provider.id}/{model.id}", batch_rows=batch_rows)


def build(as_of: date) -> tuple[RegistryDocument, list[str]]:
    docs = [
        (decode_document((DATA / name).read_bytes(), name), name)
        for name in ("providers.json", "models.json")
    ]
    _, models = merge_documents(docs)
    by_id = {p.id: p for p in genai_providers}
    tables: list[PriceTable] = []
    missing: list[str] = []
    for (provider_name, model_id), spec in sorted(models.items()):
        upstream_id = PROVIDER_MAP.get(provider_name)
        if upstream_id is None:
            missing.append(f"{provider_name}/{model_id} (no price source for provider)")
            continue
        upstream = by_id[upstream_id]
        explicit = EXPLICIT.get((provider_name, model_id))
        names = [explicit] if explicit else [spec.api_name, spec.id, *spec.snapshots]
        found = _find(upstream, [n for n in names if n])
        converted = convert(found, upstream, as_of) if found else None
        if converted is None:
            missing.append(f"{provider_name}/{model_id}")
            continue
        tables.append(
            PriceTable(
                provider=provider_name,
                model=model_id,
                prices=tuple(converted.rows),
                batch_prices=tuple(
                    converted.batch_rows or _page_batch_rows(provider_name, model_id)
                ),
                upstream=converted.upstream,
            )
        )
    doc = RegistryDocument(
        description=(
            "GENERATED by scripts/update_registry.py from the genai-prices package; do not edit. "
            "USD per million tokens. Override prices in your own file (ATOLL_REGISTRY)."
        ),
        generated_by="scripts/update_registry.py",
        prices=tuple(tables),
    )
    return doc, missing


def render(doc: RegistryDocument) -> bytes:
    return msgspec.json.format(msgspec.json.encode(doc), indent=1) + b"\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Regenerate atoll_registry prices.json from genai-prices."
    )
    parser.add_argument("--as-of", type=date.fromisoformat, default=datetime.now(UTC).date())
    parser.add_argument("--check", action="store_true", help="exit 1 if prices.json would change")
    args = parser.parse_args(argv)
    doc, missing = build(args.as_of)
    target = DATA / "prices.json"
    data = render(doc)
    for line in missing:
        print(f"no price: {line}", file=sys.stderr)
    print(
        f"{len(doc.prices)} models priced, {len(missing)} without a price source", file=sys.stderr
    )
    if args.check:
        current = target.read_bytes() if target.exists() else b""
        # Compare without the as-of dates so a check on another day passes.
        old = decode_document(current, "prices.json") if current else RegistryDocument()

        def strip(d: RegistryDocument) -> bytes:
            tables = [
                msgspec.structs.replace(
                    t,
                    prices=tuple(msgspec.structs.replace(r, as_of=date.min) for r in t.prices),
                    batch_prices=tuple(
                        msgspec.structs.replace(r, as_of=date.min) for r in t.batch_prices
                    ),
                )
                for t in d.prices
            ]
            return render(msgspec.structs.replace(d, prices=tuple(tables)))

        return 0 if strip(old) == strip(doc) else 1
    target.write_bytes(data)
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
