"""Fixtures for the batch tests: the local server with both batch APIs, clients, a crash."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from atoll_dialects import BatchClient, BatchJob, BatchProgress, BatchStatus, RetryPolicy
from atoll_testing import (
    BatchControl,
    ChatInput,
    FakeLLMServer,
    RequestError,
    Turn,
    registered_server_dialects,
)
from atoll_wire import AsyncTransport, HttpRequest, HttpResponse

KEY = "sk-batch-secret-0123456789"
# provider -> (registry name, the name the server answers to)
MODELS = {
    "openai": ("openai/gpt-4o-mini", "gpt-4o-mini"),
    "anthropic": ("anthropic/claude-haiku-4-5", "claude-haiku-4-5"),
}
FAST = RetryPolicy(attempts=3, initial_backoff=0.0, max_backoff=0.0)


async def wait(job: BatchJob, progress: BatchProgress | None = None) -> BatchStatus:
    """Wait for a job, polling the local server quickly."""
    return await job.wait(progress=progress, poll_interval=0.01, max_interval=0.05)


def answer(chat: ChatInput) -> Turn:
    """Echoes with a known usage; prompts starting with "bad" are refused (a 400 per item)."""
    text = chat.last_user_text
    if text.startswith("bad"):
        raise RequestError(400, f"refused: {text}", "invalid_request_error")
    words = len(text.split())
    return Turn(text=f"re: {text}", input_tokens=100 + words, output_tokens=20 + words)


class Crash(BaseException):
    """A simulated process death: nothing after it runs (it is not an Exception)."""


class CrashingTransport(AsyncTransport):
    """Forwards to a real transport and "dies" at the ``at``-th matching request: before
    sending it, or after its answer arrived (the provider acted; the caller never learns it)."""

    def __init__(
        self, inner: AsyncTransport, method: str, path_end: str, *, when: str, at: int = 1
    ) -> None:
        self.inner = inner
        self.method = method
        self.path_end = path_end
        self.when = when
        self.at = at
        self.seen = 0

    def _hit(self, request: HttpRequest) -> bool:
        path = urlsplit(request.url).path
        if request.method != self.method or not path.endswith(self.path_end):
            return False
        self.seen += 1
        return self.seen == self.at

    async def send(self, request: HttpRequest) -> HttpResponse:
        hit = self._hit(request)
        if hit and self.when == "before":
            raise Crash(f"died before {request.method} {request.url}")
        response = await self.inner.send(request)
        if hit and self.when == "after":
            await response.aread()
            raise Crash(f"died after {request.method} {request.url} was answered")
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class FaultyTransport(AsyncTransport):
    """Forwards to a real transport; just before a matching request goes out, tells the server
    to fail its answer (an injected fault). The server still acts on the request (a create
    makes its batch) and then answers with the error: an answer lost on the way back."""

    def __init__(
        self,
        inner: AsyncTransport,
        server: FakeLLMServer,
        method: str,
        path_end: str,
        fault: str,
        *,
        times: int = 1,
    ) -> None:
        self.inner = inner
        self.server = server
        self.method = method
        self.path_end = path_end
        self.fault = fault
        self.left = times

    async def send(self, request: HttpRequest) -> HttpResponse:
        path = urlsplit(request.url).path
        if request.method == self.method and path.endswith(self.path_end) and self.left > 0:
            self.left -= 1
            self.server.inject(self.fault, times=1)
        return await self.inner.send(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def control() -> BatchControl:
    return BatchControl()


@pytest.fixture
def server(control: BatchControl) -> Iterator[FakeLLMServer]:
    models = {served: answer for _, served in MODELS.values()}
    dialects = [*registered_server_dialects(), *control.dialects()]
    with FakeLLMServer(models=models, api_key=KEY, dialects=dialects).run_in_thread() as srv:
        yield srv


@pytest.fixture(params=sorted(MODELS))
def provider(request: pytest.FixtureRequest) -> str:
    return request.param


def base_url(server: FakeLLMServer, provider: str) -> str:
    return server.base_url if provider == "openai" else server.url + "/v1"


MakeClient = Callable[..., BatchClient]


@pytest.fixture
def make_client(server: FakeLLMServer, provider: str) -> MakeClient:
    def make(**options: Any) -> BatchClient:
        settings: dict[str, Any] = {"base_url": base_url(server, provider), "api_key": KEY}
        settings.setdefault("retry", FAST)
        return BatchClient(MODELS[provider][0], **(settings | options))

    return make


def create_path(provider: str) -> str:
    """The path of the call that creates a batch."""
    return "/batches" if provider == "openai" else "/messages/batches"
