"""GenAI metrics, read back with the OpenTelemetry SDK's in-memory reader: names, units,
attributes, bucket boundaries, the opt-in to the latest conventions, and nothing without an SDK.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from atoll_dialects import Client, RetryPolicy, ServerError, Target
from atoll_dialects._metrics import (
    DURATION_BUCKETS,
    FIRST_TOKEN_BUCKETS,
    PER_TOKEN_BUCKETS,
    TOKEN_BUCKETS,
    Instruments,
)
from atoll_registry import Registry
from atoll_testing import ChatInput, FakeLLMServer, Turn
from atoll_wire import AsyncTransport, Usage
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, Metric, Sum

pytestmark = pytest.mark.anyio


def priced_turn(request: ChatInput) -> Turn:
    return Turn(text=f"priced: {request.last_user_text}", input_tokens=1000, output_tokens=500)


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer(models={"gpt-4o-mini": priced_turn}) as srv:
        yield srv


@pytest.fixture
async def transport() -> AsyncIterator[AsyncTransport]:
    from atoll_curl import CurlTransport

    async with CurlTransport() as made:
        yield made


@pytest.fixture
def reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meters(reader: InMemoryMetricReader) -> MeterProvider:
    return MeterProvider(metric_readers=[reader])


def collect(reader: InMemoryMetricReader) -> dict[str, Metric]:
    data = reader.get_metrics_data()
    if data is None:
        return {}
    return {
        metric.name: metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
    }


def points(metric: Metric) -> list[Any]:
    return list(metric.data.data_points)


async def test_a_priced_chat_records_tokens_duration_and_cost(
    server: FakeLLMServer,
    transport: AsyncTransport,
    reader: InMemoryMetricReader,
    meters: MeterProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    client = Client(
        "openai/gpt-4o-mini",
        base_url=server.base_url,
        api_key="test-key",
        transport=transport,
        meter_provider=meters,
    )
    reply = await client.chat("what does it cost")
    metrics = collect(reader)
    assert set(metrics) == {
        "gen_ai.client.token.usage",
        "gen_ai.client.operation.duration",
        "atoll.client.cost",
    }
    tokens = metrics["gen_ai.client.token.usage"]
    assert tokens.unit == "{token}"
    by_type = {p.attributes["gen_ai.token.type"]: p for p in points(tokens)}
    assert {k: (p.count, p.sum) for k, p in by_type.items()} == {
        "input": (1, 1000),
        "output": (1, 500),
    }
    assert list(by_type["input"].explicit_bounds) == list(TOKEN_BUCKETS)
    port = int(server.base_url.split(":")[2].split("/")[0])
    assert dict(by_type["output"].attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini",
        "server.address": "127.0.0.1",
        "server.port": port,
        "gen_ai.token.type": "output",
    }
    (duration,) = points(metrics["gen_ai.client.operation.duration"])
    assert metrics["gen_ai.client.operation.duration"].unit == "s"
    assert duration.count == 1 and 0 < duration.sum < 5
    assert list(duration.explicit_bounds) == list(DURATION_BUCKETS)
    assert "error.type" not in duration.attributes
    cost = metrics["atoll.client.cost"]
    assert cost.unit == "{USD}"
    assert isinstance(cost.data, Sum) and cost.data.is_monotonic, "a counter"
    (spent,) = points(cost)
    assert reply.cost is not None
    assert Decimal(str(spent.value)) == reply.cost.total
    expected = Registry.default().cost(
        "openai/gpt-4o-mini", Usage(input_tokens=1000, output_tokens=500)
    )
    assert expected is not None and reply.cost.total == expected.total
    assert spent.attributes["gen_ai.request.model"] == "gpt-4o-mini"
    assert spent.attributes["gen_ai.system"] == "openai"


async def test_a_stream_records_time_to_first_token_and_per_output_token(
    server: FakeLLMServer,
    transport: AsyncTransport,
    reader: InMemoryMetricReader,
    meters: MeterProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    client = Client(
        "stream-40", base_url=server.base_url, transport=transport, meter_provider=meters
    )
    async with client.stream("go") as stream:
        async for _ in stream:
            pass
    metrics = collect(reader)
    first = metrics["gen_ai.server.time_to_first_token"]
    per_token = metrics["gen_ai.server.time_per_output_token"]
    assert first.unit == per_token.unit == "s"
    (first_point,) = points(first)
    (per_point,) = points(per_token)
    (duration,) = points(metrics["gen_ai.client.operation.duration"])
    assert 0 < first_point.sum <= duration.sum
    assert list(first_point.explicit_bounds) == list(FIRST_TOKEN_BUCKETS)
    assert list(per_point.explicit_bounds) == list(PER_TOKEN_BUCKETS)
    # What followed the first token, spread over the 39 tokens after it.
    assert 0 < per_point.sum <= (duration.sum - first_point.sum) / 39 * 1.01
    assert first_point.attributes["gen_ai.system"] == "custom"
    # A model the registry cannot price counts as an unpriced call, never as $0.
    assert "atoll.client.cost" not in metrics
    (unpriced,) = points(metrics["atoll.client.unpriced_calls"])
    assert unpriced.value == 1


async def test_a_failed_call_records_its_duration_with_the_error_type(
    server: FakeLLMServer,
    transport: AsyncTransport,
    reader: InMemoryMetricReader,
    meters: MeterProvider,
) -> None:
    server.inject("status=503", times=2)
    client = Client(
        "echo",
        base_url=server.base_url,
        transport=transport,
        meter_provider=meters,
        retry=RetryPolicy(attempts=2, initial_backoff=0.0),
    )
    with pytest.raises(ServerError):
        await client.chat("fail")
    metrics = collect(reader)
    assert set(metrics) == {"gen_ai.client.operation.duration"}
    (duration,) = points(metrics["gen_ai.client.operation.duration"])
    assert duration.attributes["error.type"] == "ServerError" and duration.count == 1


async def test_the_opt_in_switches_to_the_latest_conventions(
    server: FakeLLMServer,
    transport: AsyncTransport,
    reader: InMemoryMetricReader,
    meters: MeterProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http, gen_ai_latest_experimental")
    client = Client(
        "stream-20", base_url=server.base_url, transport=transport, meter_provider=meters
    )
    chunks = 0
    async with client.stream("go") as stream:
        async for _ in stream:
            pass
        chunks = stream.response.usage.output_tokens or 0
    metrics = collect(reader)
    assert "gen_ai.server.time_to_first_token" not in metrics
    assert "gen_ai.server.time_per_output_token" not in metrics
    first = metrics["gen_ai.client.operation.time_to_first_chunk"]
    per_chunk = metrics["gen_ai.client.operation.time_per_output_chunk"]
    (first_point,) = points(first)
    (per_point,) = points(per_chunk)
    assert first_point.count == 1 and chunks == 20
    assert per_point.count >= 1, "one value per body chunk after the first"
    assert list(per_point.explicit_bounds) == list(DURATION_BUCKETS)
    (duration,) = points(metrics["gen_ai.client.operation.duration"])
    assert duration.attributes["gen_ai.provider.name"] == "custom"
    assert "gen_ai.system" not in duration.attributes


def test_semconv_provider_values_follow_each_version(monkeypatch: pytest.MonkeyPatch) -> None:
    provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    registry = Registry.default()
    for name, old, latest in (
        ("mistral", "mistral_ai", "mistral_ai"),
        ("xai", "xai", "x_ai"),
        ("gemini", "gcp.gemini", "gcp.gemini"),
        ("groq", "groq", "groq"),
    ):
        target = Target.of(
            registry.provider(name),
            name="m",
            base_url="https://api.example.com/v1",
            api_key="k" * 12,
        )
        v136 = Instruments.of(provider, latest=False).attributes("chat", target)
        new = Instruments.of(provider, latest=True).attributes("chat", target)
        assert v136["gen_ai.system"] == old and new["gen_ai.provider.name"] == latest
        assert "server.port" not in v136 and v136["server.address"] == "api.example.com"


async def test_nothing_is_measured_without_an_sdk(
    server: FakeLLMServer, transport: AsyncTransport
) -> None:
    client = Client("echo", base_url=server.base_url, transport=transport)
    assert client.stream("x")._loop.observer is None  # pyright: ignore[reportPrivateUsage]
    off = Client(
        "echo", base_url=server.base_url, transport=transport, meter_provider=NoOpMeterProvider()
    )
    assert off.stream("x")._loop.observer is None  # pyright: ignore[reportPrivateUsage]
    assert (await off.chat("fine")).text == "fine"


def test_a_global_sdk_set_after_the_client_was_made_is_followed() -> None:
    # A process of its own: the global meter provider can be set only once per process.
    code = textwrap.dedent(
        """
        import anyio
        from atoll_dialects import Client
        from atoll_testing import FakeLLMServer
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader

        async def main():
            async with FakeLLMServer() as server:
                async with Client("echo", base_url=server.base_url) as client:
                    await client.chat("before")
                    reader = InMemoryMetricReader()
                    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
                    await client.chat("after")
            data = reader.get_metrics_data()
            names = {m.name for r in data.resource_metrics for s in r.scope_metrics
                     for m in s.metrics}
            duration = [m for r in data.resource_metrics for s in r.scope_metrics
                        for m in s.metrics if m.name == "gen_ai.client.operation.duration"]
            print(sorted(names), duration[0].data.data_points[0].count)

        anyio.run(main)
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.strip() == (
        "['atoll.client.unpriced_calls', 'gen_ai.client.operation.duration', "
        "'gen_ai.client.token.usage'] 1"
    )
