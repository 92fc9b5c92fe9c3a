"""Redaction: the Redactor's rules, and a planted key that reaches no span, event, DEBUG log
record or exception message, on both transports (async and sync clients).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from atoll_dialects import (
    APIError,
    AuthenticationError,
    Client,
    JsonlSink,
    Redactor,
    RetryPolicy,
    SyncClient,
)
from atoll_testing import FakeLLMServer
from atoll_wire import AsyncTransport, Message, SyncTransport, redact_text
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

FAST_RETRY = RetryPolicy(attempts=2, initial_backoff=0.0, max_backoff=0.0)

# One key of each registry provider's format (made up, never real).
PROVIDER_KEYS = {
    "openai": "sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s",
    "openai-legacy": "sk-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7sUvWx",
    "anthropic": "sk-ant-api03-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s-uW9yA1cE",
    "openrouter": "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",
    "deepseek": "sk-0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "groq": "gsk_Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7sUvWxYz01",
    "xai": "xai-Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7sUvWxYz01Ab3dE5gH7jK9mN1pQ3sT5vX7zA9c",
    "nvidia": "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",
    "cerebras": "csk-ab3de5gh7jk9mn1pq3st5vx7za9ce1gi3km5oq7suvwx",
    "fireworks": "fw_3ZAb3dE5gH7jK9mN1pQ3sT5v",
    "together": "tgp_v1_Ab3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7sUv",
    "gemini": "AIzaSyAb3dE5gH7jK9mN1pQ3sT5vX7zA9cE1g",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9Pl",
    "aws": "AKIAIOSFODNN7EXAMPLE",
}


# ---------------------------------------------------------------------- the policy itself


@pytest.mark.parametrize("provider", sorted(PROVIDER_KEYS))
def test_every_registry_providers_key_format_is_masked(provider: str) -> None:
    key = PROVIDER_KEYS[provider]
    text = f"upstream said: invalid key {key}, try again"
    assert key not in Redactor().text(text)
    assert key not in redact_text(text)
    assert "Bearer [redacted]" in Redactor().text(f"Authorization: Bearer {key}")


def test_emails_are_masked_only_when_asked() -> None:
    text = "contact ana.maria+llm@mail.example.co.uk about it"
    assert Redactor().text(text) == text
    assert Redactor(emails=True).text(text) == "contact [redacted] about it"


def test_user_rules_and_known_secrets() -> None:
    def no_digits(text: str) -> str:
        return re.sub(r"\d", "#", text)

    redactor = Redactor(
        rules=[r"ACCT-\w+", re.compile(r"(?i)project\s+\w+"), no_digits],
        secrets=["Qm3xT9vLp2RkW8nZc4HjY6bFd1GsA7eU", "short"],
    )
    text = "ACCT-aa Project Falcon 42 Qm3xT9vLp2RkW8nZc4HjY6bFd1GsA7eU short"
    assert redactor.text(text) == "[redacted] [redacted] ## [redacted] short"
    assert "Qm3x" not in repr(redactor) and "secrets=2" in repr(redactor)
    assert redactor.strict and not Redactor().strict
    with pytest.raises(TypeError):
        Redactor(rules=[42])  # type: ignore[list-item]


def test_content_is_none_unless_captured_and_masked_when_it_is() -> None:
    message = Message.user("my key is sk-proj-Ab3dE5gH7jK9mN1pQ3sT5v, mail me at a@b.io")
    assert Redactor().content(message) is None
    captured = Redactor(capture_content=True, emails=True).content(message, Message)
    assert captured is not None and captured.text == "my key is [redacted], mail me at [redacted]"
    untouched = Message.user("nothing secret")
    assert Redactor(capture_content=True).content(untouched) is untouched
    # A user rule that breaks the JSON drops the content rather than showing it.
    breaking = Redactor(capture_content=True, rules=[lambda text: text.replace('"', "")])
    assert breaking.content(message, Message) is None


def test_policies_join_and_headers_are_masked() -> None:
    base = Redactor(capture_content=True)
    other = Redactor(emails=True, rules=[r"ACCT-\d+"], secrets=["Qm3xT9vLp2RkW8nZc4HjY6bFd1GsA7eU"])
    joined = base.join(other)
    assert joined.capture_content and joined.emails and joined.strict
    assert (
        joined.text("a@b.io ACCT-12 Qm3xT9vLp2RkW8nZc4HjY6bFd1GsA7eU")
        == "[redacted] " * 2 + "[redacted]"
    )
    assert base.join(Redactor()) is base and joined.join(other) is joined
    headers = other.headers({"Authorization": "Bearer x", "X-Trace": "for a@b.io"})
    assert headers == {"Authorization": "[redacted]", "X-Trace": "for [redacted]"}


def test_errors_are_masked_in_place_by_the_extra_rules() -> None:
    error = APIError("denied for bob@example.com", status=403, body="bob@example.com")
    error.add_note("seen by bob@example.com")
    Redactor(emails=True).error(error)
    assert "bob@" not in str(error) + repr(error) + error.body + "".join(error.__notes__)
    assert error.status == 403


def test_the_log_filter_masks_other_libraries_records(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("some.library")
    handler_filter = Redactor(secrets=["Qm3xT9vLp2RkW8nZc4HjY6bFd1GsA7eU"]).log_filter()
    logger.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.DEBUG, logger="some.library"):
            logger.debug(
                "sending %s with %s",
                "sk-proj-Ab3dE5gH7jK9mN1pQ3sT5v",
                "Qm3xT9vLp2RkW8nZc4HjY6bFd1GsA7eU",
            )
    finally:
        logger.removeFilter(handler_filter)
    assert caplog.records[0].getMessage() == "sending [redacted] with [redacted]"


@given(
    before=st.text(max_size=40),
    secret=st.text(
        alphabet="ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz0123456789",
        min_size=8,
        max_size=40,
    ),
    after=st.text(max_size=40),
)
def test_a_known_secret_never_survives_whatever_surrounds_it(
    before: str, secret: str, after: str
) -> None:
    redactor = Redactor(secrets=[secret], emails=True)
    assert secret not in redactor.text(f"{before}{secret}{after}{secret}")


# ---------------------------------------------------------------------- a key planted everywhere

# Two keys the client is given: one with a provider prefix, one with none (Mistral's format,
# masked only because the client knows its own key). CONTROL is a look-alike the client does not
# hold: it must come through, proving the planted text really reaches every place checked.
PLANTED = {
    "prefixed": "sk-proj-PLANTEDAb3dE5gH7jK9mN1pQ3sT5vX7z",
    "bare": "Qm3xT9vLp2RkW8nZc4HjY6bFd1GsA7eU",
}
CONTROL = "Zx9Wv8Ut7Sr6Qp5On4Ml3Kj2Ih1Gf0Ed"
MODELS = ["echo", "stream-3"]
EMAIL = "planted.person@example.org"


class Sinks:
    """Everything a key could leak into: spans, events (memory and JSONL), logs, exceptions."""

    def __init__(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.events: list[Any] = []
        self.path = tmp_path / "events.jsonl"
        self.sink = JsonlSink(self.path)
        self.errors: list[BaseException] = []
        self.caplog = caplog

    def options(self) -> dict[str, Any]:
        return {
            "tracer_provider": self.tracer_provider,
            "callbacks": [self.events.append, self.sink],
            "redactor": Redactor(capture_content=True, emails=True),
            "retry": FAST_RETRY,
        }

    def texts(self) -> dict[str, str]:
        self.sink.close()
        spans: list[ReadableSpan] = list(self.exporter.get_finished_spans())
        span_text = repr(
            [
                (s.name, dict(s.attributes or {}), s.status.description,
                 [(e.name, dict(e.attributes or {})) for e in s.events])
                for s in spans
            ]
        )  # fmt: skip
        logs = "\n".join(
            f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in self.caplog.records
        )
        errors = "\n".join(
            f"{e!s} {e!r} {e.args!r} {vars(e)!r} {getattr(e, '__notes__', '')!r}"
            for e in self.errors
        )
        return {
            "spans": span_text,
            "events": repr(self.events) + msgspec.json.encode(self.events).decode(),
            "jsonl": self.path.read_text(),
            "logs": logs + self.caplog.text,
            "errors": errors,
        }

    def check(self, key: str) -> None:
        texts = self.texts()
        assert len(self.exporter.get_finished_spans()) >= 5
        assert len(self.events) >= 12 and len(self.errors) == 3
        assert any(r.levelno == logging.DEBUG for r in self.caplog.records)
        for sink, text in texts.items():
            assert key not in text, f"the planted key reached the {sink}"
            assert EMAIL not in text, f"the planted email reached the {sink}"
        assert (
            CONTROL in texts["errors"] and CONTROL in texts["events"] and CONTROL in texts["logs"]
        )


def _scenario_faults(key: str) -> dict[str, str]:
    said = f"upstream saw {key} ({CONTROL}) from {EMAIL}"
    return {
        "retry": f"status=503; message={said}",
        "denied": f"status=401; message={said}",
        "stream": f"error-event=2; error-type=server_error; message={said}",
    }


@pytest.fixture
async def server() -> AsyncIterator[FakeLLMServer]:
    async with FakeLLMServer() as srv:
        yield srv


def _async_transports() -> dict[str, Callable[[], AsyncTransport]]:
    from atoll_curl import CurlTransport
    from atoll_httpx import HttpxTransport

    return {"curl": CurlTransport, "httpx": HttpxTransport}


@pytest.mark.anyio
@pytest.mark.parametrize("backend", ["curl", "httpx"])
@pytest.mark.parametrize("kind", sorted(PLANTED))
async def test_a_planted_key_reaches_no_sink_async(
    server: FakeLLMServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    backend: str,
    kind: str,
) -> None:
    key = PLANTED[kind]
    faults = _scenario_faults(key)
    sinks = Sinks(tmp_path, caplog)
    caplog.set_level(logging.DEBUG)  # every logger, the transports' libraries included
    async with (
        _async_transports()[backend]() as transport,
        Client(
            MODELS, base_url=server.base_url, api_key=key, transport=transport, **sinks.options()
        ) as client,
    ):  # fmt: skip
        # Both attempts of both models fail, each error message quoting the key.
        server.inject(faults["retry"], times=4)
        with pytest.raises(APIError) as failed:
            await client.chat("first")
        # The prompt carries the key and the email; the echo model sends them back.
        reply = await client.chat(f"remember {key} and {EMAIL}")
        assert key in reply.text, "the reply is the caller's own data: it is not masked"
        server.inject(faults["denied"])
        with pytest.raises(AuthenticationError) as denied:
            await client.chat("again")
        server.inject(faults["stream"])
        with pytest.raises(APIError) as broken:
            async with client.stream("a b c d e f") as stream:
                async for _ in stream:
                    pass
    sinks.errors = [failed.value, denied.value, broken.value]
    sinks.check(key)


@pytest.fixture
def sync_server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer().run_in_thread() as srv:
        yield srv


def _sync_transports() -> dict[str, Callable[[], SyncTransport]]:
    from atoll_curl import SyncCurlTransport
    from atoll_httpx import SyncHttpxTransport

    return {"curl": SyncCurlTransport, "httpx": SyncHttpxTransport}


@pytest.mark.parametrize("backend", ["curl", "httpx"])
@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_a_planted_key_reaches_no_sink_sync(
    sync_server: FakeLLMServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    backend: str,
    kind: str,
) -> None:
    key = PLANTED[kind]
    faults = _scenario_faults(key)
    sinks = Sinks(tmp_path, caplog)
    caplog.set_level(logging.DEBUG)
    with (
        _sync_transports()[backend]() as transport,
        SyncClient(
            MODELS, base_url=sync_server.base_url, api_key=key, transport=transport,
            **sinks.options(),
        ) as client,
    ):  # fmt: skip
        sync_server.inject(faults["retry"], times=4)
        with pytest.raises(APIError) as failed:
            client.chat("first")
        reply = client.chat(f"remember {key} and {EMAIL}")
        assert key in reply.text
        sync_server.inject(faults["denied"])
        with pytest.raises(AuthenticationError) as denied:
            client.chat("again")
        sync_server.inject(faults["stream"])
        with pytest.raises(APIError) as broken, client.stream("a b c d e f") as stream:
            for _ in stream:
                pass
    sinks.errors = [failed.value, denied.value, broken.value]
    sinks.check(key)
