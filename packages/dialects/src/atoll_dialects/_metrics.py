"""OpenTelemetry metrics of calls, after the GenAI semantic conventions.

Only ``opentelemetry-api`` is used, and nothing is measured unless the application configured
an SDK ``MeterProvider`` (globally, or ``Client(meter_provider=...)``): without one a call does
not even build attributes. Instruments, with the bucket boundaries the conventions advise:

- ``gen_ai.client.token.usage`` (histogram, ``{token}``), by ``gen_ai.token.type``
  (``input``, ``output``);
- ``gen_ai.client.operation.duration`` (histogram, ``s``), with ``error.type`` on failures;
- for streams, ``gen_ai.server.time_to_first_token`` and ``gen_ai.server.time_per_output_token``
  (histograms, ``s``), as the conventions up to v1.36 name them;
- ``atoll.client.cost`` (counter, ``{USD}``): the cost of priced calls, from the registry, and
  ``atoll.client.unpriced_calls`` (counter, ``{call}``): calls whose price is unknown, so a cost
  chart never silently under-counts.

``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` switches to the latest experimental
conventions, as the GenAI conventions ask of instrumentations: the provider attribute becomes
``gen_ai.provider.name`` (else ``gen_ai.system``), and streams record
``gen_ai.client.operation.time_to_first_chunk`` and
``gen_ai.client.operation.time_per_output_chunk`` (one value per chunk after the first) instead
of the two ``gen_ai.server.*`` histograms.
"""

from __future__ import annotations

import importlib
import os
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from atoll_wire import Usage
    from opentelemetry.metrics import Counter, Histogram, MeterProvider

    from ._target import Target

__all__ = ["Instruments", "Meters", "latest_semconv"]

OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"
LATEST = "gen_ai_latest_experimental"
_INSTRUMENTATION = "atoll_dialects"

TOKEN_BUCKETS = (1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
                 67108864)  # fmt: skip
DURATION_BUCKETS = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48,
                    40.96, 81.92)  # fmt: skip
FIRST_TOKEN_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                       5.0, 7.5, 10.0)  # fmt: skip
PER_TOKEN_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5)

# Registry provider names whose well-known semconv value differs (the rest are the same or
# custom values, which the conventions allow).
_SYSTEM_V136 = {"mistral": "mistral_ai", "gemini": "gcp.gemini"}
_PROVIDER_LATEST = {"mistral": "mistral_ai", "gemini": "gcp.gemini", "xai": "x_ai"}


class _PublicLookup:
    """Stands in for the API module if a release drops ``_METER_PROVIDER``: the public way."""

    @property
    def _METER_PROVIDER(self) -> object:  # the API module's own name
        from opentelemetry.metrics import get_meter_provider

        provider = get_meter_provider()
        return None if type(provider).__name__ == "_ProxyMeterProvider" else provider


class _NoClientYet:
    """``meter_api`` until the first Client is made (nothing reads it before then)."""

    _METER_PROVIDER = None


#: ``meter_api._METER_PROVIDER`` is None until an application sets a global meter provider.
#: It is the API's own module attribute: reading it costs ~30 ns where the public
#: ``get_meter_provider()`` costs over a microsecond (it looks up an environment variable on
#: every call), more than this whole feature may add to a call with no SDK configured. The
#: metrics API loads with the first Client, not with ``import atoll_dialects``.
meter_api: Any = _NoClientYet()


def _load_api() -> None:
    global meter_api
    if isinstance(meter_api, _NoClientYet):
        api = importlib.import_module("opentelemetry.metrics._internal")
        meter_api = api if hasattr(api, "_METER_PROVIDER") else _PublicLookup()


def latest_semconv() -> bool:
    """Whether ``OTEL_SEMCONV_STABILITY_OPT_IN`` asks for the latest GenAI conventions."""
    values = os.environ.get(OPT_IN, "")
    return LATEST in (value.strip() for value in values.split(","))


def _global_provider() -> MeterProvider | None:
    from opentelemetry.metrics import NoOpMeterProvider

    provider: Any = meter_api._METER_PROVIDER
    if provider is None or isinstance(provider, NoOpMeterProvider):
        return None
    return provider


class Instruments:
    """The instruments of one meter provider, named by the conventions in force."""

    __slots__ = (
        "cost",
        "duration",
        "first_token",
        "latest",
        "per_output",
        "provider_key",
        "tokens",
        "unpriced",
    )

    def __init__(
        self,
        *,
        latest: bool,
        provider_key: str,
        tokens: Histogram,
        duration: Histogram,
        first_token: Histogram,
        per_output: Histogram,
        cost: Counter,
        unpriced: Counter,
    ) -> None:
        self.latest = latest
        self.provider_key = provider_key
        self.tokens = tokens
        self.duration = duration
        self.first_token = first_token
        self.per_output = per_output
        self.cost = cost
        self.unpriced = unpriced

    @classmethod
    def of(cls, provider: MeterProvider, latest: bool) -> Instruments:
        """Make the instruments on ``provider``."""
        meter = provider.get_meter(_INSTRUMENTATION, "0.1.0")
        if latest:
            first = meter.create_histogram(
                "gen_ai.client.operation.time_to_first_chunk",
                unit="s",
                description="Time to receive the first chunk of a streamed response.",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            )
            per_output = meter.create_histogram(
                "gen_ai.client.operation.time_per_output_chunk",
                unit="s",
                description="Time between chunks of a streamed response, after the first.",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            )
        else:
            first = meter.create_histogram(
                "gen_ai.server.time_to_first_token",
                unit="s",
                description="Time to generate first token for successful responses.",
                explicit_bucket_boundaries_advisory=FIRST_TOKEN_BUCKETS,
            )
            per_output = meter.create_histogram(
                "gen_ai.server.time_per_output_token",
                unit="s",
                description="Time per output token generated after the first token for "
                "successful responses.",
                explicit_bucket_boundaries_advisory=PER_TOKEN_BUCKETS,
            )
        return cls(
            latest=latest,
            provider_key="gen_ai.provider.name" if latest else "gen_ai.system",
            tokens=meter.create_histogram(
                "gen_ai.client.token.usage",
                unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
            ),
            duration=meter.create_histogram(
                "gen_ai.client.operation.duration",
                unit="s",
                description="GenAI operation duration.",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            ),
            first_token=first,
            per_output=per_output,
            cost=meter.create_counter(
                "atoll.client.cost",
                unit="{USD}",
                description="Cost of calls in US dollars, from the registry's prices.",
            ),
            unpriced=meter.create_counter(
                "atoll.client.unpriced_calls",
                unit="{call}",
                description="Calls whose cost is unknown (a price or a usage count is missing).",
            ),
        )

    def attributes(self, operation: str, target: Target) -> dict[str, Any]:
        """The attributes every measurement of a call to ``target`` carries."""
        name = target.provider.name
        system = (_PROVIDER_LATEST if self.latest else _SYSTEM_V136).get(name, name)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            self.provider_key: system,
            "gen_ai.request.model": target.request_model,
        }
        host, _, port = target.base_url.split("://", 1)[-1].split("/", 1)[0].partition(":")
        if host:
            attributes["server.address"] = host
            if port.isdigit():
                attributes["server.port"] = int(port)
        return attributes

    def record_success(
        self,
        attributes: dict[str, Any],
        *,
        duration: float,
        usage: Usage | None,
        cost: Decimal | None,
        unpriced: bool,
        first_token: float | None,
        after_first: float | None,
        gaps: list[float] | None,
    ) -> None:
        """Record a call that succeeded.

        ``unpriced`` marks a chat call whose cost is unknown (other operations are not priced).
        """
        self.duration.record(duration, attributes)
        output = None
        if usage is not None:
            output = usage.output_tokens
            if usage.input_tokens is not None:
                self.tokens.record(usage.input_tokens, {**attributes, "gen_ai.token.type": "input"})
            if output is not None:
                self.tokens.record(output, {**attributes, "gen_ai.token.type": "output"})
        if cost is not None:
            self.cost.add(float(cost), attributes)
        elif unpriced:
            self.unpriced.add(1, attributes)
        if first_token is None:
            return
        self.first_token.record(first_token, attributes)
        if self.latest:
            for gap in gaps or ():
                self.per_output.record(gap, attributes)
        elif after_first is not None and output is not None and output > 1:
            self.per_output.record(after_first / (output - 1), attributes)

    def record_failure(self, attributes: dict[str, Any], *, duration: float, error: str) -> None:
        """Record a call that failed: its duration, with ``error.type``."""
        self.duration.record(duration, {**attributes, "error.type": error})


class Meters:
    """Where a client's instruments come from: its own provider, or the global one when set.

    Args:
        provider: The Client's ``meter_provider``; None follows the global provider, which may
            be set after the Client was made.
    """

    __slots__ = ("_cached", "_explicit", "_latest", "_off")

    def __init__(self, provider: MeterProvider | None) -> None:
        _load_api()
        from opentelemetry.metrics import NoOpMeterProvider, get_meter_provider

        self._latest = latest_semconv()
        self._cached: tuple[MeterProvider, Instruments] | None = None
        self._off = isinstance(provider, NoOpMeterProvider)  # asked for no metrics at all
        self._explicit = None if self._off else provider
        if provider is None:
            # A provider named by OTEL_PYTHON_METER_PROVIDER loads on this first public call.
            get_meter_provider()

    def current(self) -> Instruments | None:
        """The instruments to record on, or None when no SDK is configured (nothing to do)."""
        if self._off:
            return None
        provider = self._explicit or _global_provider()
        if provider is None:
            return None
        cached = self._cached
        if cached is not None and cached[0] is provider:
            return cached[1]
        instruments = Instruments.of(provider, self._latest)
        self._cached = (provider, instruments)
        return instruments
