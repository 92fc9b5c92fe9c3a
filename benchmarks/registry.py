"""atoll_registry: import time, first load, resolve and cost per call.

Budgets (issue 7): ``import atoll_registry`` under 50 ms with no data parsed; ``resolve`` and
``cost`` under 20 us each after warm-up. Baselines in the same run: ``import msgspec`` (our
only heavy dependency, paid by any atoll user anyway), a bare ``dict`` lookup for resolve, and
genai-prices' own ``calc_price`` for cost.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from _common import ratio, write_result

IMPORT_RUNS = 7


def _import_ms(module: str) -> tuple[float, float]:
    """Median cumulative import time of ``module`` in a fresh interpreter (python -X importtime),
    and the median self time of the package's own modules (what it adds on top of its deps)."""
    totals: list[float] = []
    own: list[float] = []
    for _ in range(IMPORT_RUNS):
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        own_us = 0
        for line in out.splitlines():
            parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
            if len(parts) != 3 or not parts[0].isdigit():
                continue
            if parts[2] == module:
                totals.append(int(parts[1]) / 1000)
            if parts[2] == module or parts[2].startswith(module + "."):
                own_us += int(parts[0])
        own.append(own_us / 1000)
    return round(statistics.median(totals), 2), round(statistics.median(own), 2)


def _first_load_ms() -> float:
    code = (
        "import time, atoll_registry; t = time.perf_counter(); "
        "atoll_registry.Registry.default(); print((time.perf_counter() - t) * 1000)"
    )
    samples = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    return round(statistics.median(samples), 2)


def _per_call_us(fn: Callable[[], Any], calls: int = 20_000, repeats: int = 5) -> float:
    for _ in range(1000):  # warm-up
        fn()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return round(best * 1e6, 3)


def main() -> None:
    from atoll_registry import Registry
    from atoll_wire import Usage

    import_ms, own_ms = _import_ms("atoll_registry")
    msgspec_ms, _ = _import_ms("msgspec")
    first_load = _first_load_ms()

    registry = Registry.default()
    names = ["gpt4om", "openai/gpt-4o", "claude-sonnet-4-5-20250929", "ollama/llama3.2"]
    resolve = {n: _per_call_us(lambda n=n: registry.resolve(n)) for n in names}
    table = {n: registry.resolve(n) for n in names}
    dict_us = _per_call_us(lambda: table.get("gpt4om"))

    spec = registry.resolve("claude-sonnet-4-5")
    usage = Usage(
        input_tokens=13000, cache_read_tokens=10000, cache_write_tokens=2000, output_tokens=500
    )
    cost_spec_us = _per_call_us(lambda: registry.cost(spec, usage))
    cost_name_us = _per_call_us(lambda: registry.cost("claude-sonnet-4-5", usage))

    baseline_cost_us: float | None = None
    try:
        import genai_prices

        gp_usage = genai_prices.Usage(
            input_tokens=13000, cache_read_tokens=10000, cache_write_tokens=2000, output_tokens=500
        )
        genai_prices.calc_price(gp_usage, "claude-sonnet-4-5", provider_id="anthropic")
        baseline_cost_us = _per_call_us(
            lambda: genai_prices.calc_price(gp_usage, "claude-sonnet-4-5", provider_id="anthropic"),
            calls=2000,
        )
    except ImportError:  # bench run without the dev group
        pass

    write_result(
        "registry",
        {
            "import_ms": import_ms,
            "import_own_modules_ms": own_ms,
            "import_msgspec_ms": msgspec_ms,
            "import_ratio_vs_msgspec": ratio(import_ms, msgspec_ms),
            "import_budget_ms": 50,
            "first_default_load_ms": first_load,
            "resolve_us": resolve,
            "resolve_budget_us": 20,
            "dict_lookup_us": dict_us,
            "resolve_ratio_vs_dict": ratio(resolve["gpt4om"], dict_us),
            "cost_us_spec": cost_spec_us,
            "cost_us_name": cost_name_us,
            "cost_budget_us": 20,
            "genai_prices_calc_price_us": baseline_cost_us,
            "cost_ratio_vs_genai_prices": ratio(cost_spec_us, baseline_cost_us or 0),
            # Import figures swing with machine load; the own-modules figure is the stable one.
            "load_average_1m": round(os.getloadavg()[0], 2),
            "models": len(registry),
            "providers": len(registry.providers()),
        },
    )


if __name__ == "__main__":
    main()
