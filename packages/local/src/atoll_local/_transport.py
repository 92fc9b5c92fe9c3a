"""``LocalTransport``: the OpenAI-chat dialect's requests served in process, no socket, no server.

The Client builds the same HTTP requests it would send to any OpenAI-compatible server; this
transport answers them from GGUF models on this machine. The dialect, retries, streams, the
accumulator, tools and structured output therefore work unchanged::

    transport = LocalTransport({"qwen": LocalModel("qwen2.5-0.5b-instruct-q4_k_m.gguf")})
    async with Client("local/qwen", transport=transport) as client:
        reply = await client.chat("Hello")

Generation runs on each model's worker thread; the event loop only moves bytes. Waiting for a
model that serves someone else is bounded by the request's ``pool`` timeout, waiting for the
next tokens by its ``read`` timeout.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Literal, TypeVar

import anyio
from atoll_wire import (
    AsyncTransport,
    HttpRequest,
    HttpResponse,
    PoolTimeout,
    ReadTimeout,
    SyncHttpResponse,
    SyncTransport,
    TransportError,
)

from ._jobs import ChatItem, Embedded, Ready, RequestRejected
from ._model import LoadReport, LocalModel
from ._outbox import Closed, Outbox
from ._requests import ChatPlan, chat_plan, decode_chat, embed_job
from ._respond import JSON_HEADERS, SSE_HEADERS, embeddings, error, models
from ._serve import Folded, StreamEncoder, find_model, route

T = TypeVar("T")


class _Registry:
    """The models a transport serves, by the name requests use."""

    def __init__(self, models: Mapping[str, LocalModel] | None, own_models: bool) -> None:
        self._models: dict[str, LocalModel] = dict(models or {})
        self._own = own_models
        self._closed = False

    @property
    def models(self) -> Mapping[str, LocalModel]:
        """The registered models by name (read-only)."""
        return MappingProxyType(self._models)

    def register(self, name: str, model: LocalModel) -> None:
        """Serve ``model`` as ``name`` (``Client("local/<name>")``); replaces an earlier one.

        Raises:
            ValueError: ``name`` is empty.
        """
        if not name:
            raise ValueError("a model needs a name")
        self._models[name] = model

    def _open(self, request: HttpRequest) -> None:
        if self._closed:
            raise TransportError("this LocalTransport is closed", request=request)

    def _owned(self) -> list[LocalModel]:
        self._closed = True
        return list(self._models.values()) if self._own else []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(models={sorted(self._models)!r})"


class LocalTransport(_Registry, AsyncTransport):
    """An ``AsyncTransport`` that answers OpenAI-chat requests from local GGUF models.

    Args:
        models: Models by the name requests use (``Client("local/<name>")``); more can be
            added with ``register``.
        own_models: Close the models when the transport closes (default True).

    A model not loaded yet is loaded when its first request arrives (raising
    ``ModelLoadError`` from ``send``); ``await transport.aload()`` loads them all up front and
    returns their reports.
    """

    def __init__(
        self, models: Mapping[str, LocalModel] | None = None, *, own_models: bool = True
    ) -> None:
        super().__init__(models, own_models)

    async def aload(self) -> dict[str, LoadReport]:
        """Load every registered model that is not loaded yet; their reports by name.

        Raises:
            ModelLoadError: A model could not be loaded.
        """
        return {name: await model.aload() for name, model in self._models.items()}

    async def send(self, request: HttpRequest) -> HttpResponse:
        """Serve one request; errors a server would answer come back as error responses.

        Raises:
            TransportError: Not a ``local://`` URL, or the transport is closed.
            PoolTimeout: The model stayed busy longer than the request's ``pool`` timeout.
            ReadTimeout: No tokens came within the request's ``read`` timeout.
            ModelLoadError: The model had to be loaded and could not be.
        """
        self._open(request)
        started = time.perf_counter()
        try:
            kind = route(request)
            if kind == "models":
                return HttpResponse(200, JSON_HEADERS, request, models(sorted(self._models)))
            if kind == "embeddings":
                return await self._embed(request, started)
            return await self._chat(request, started)
        except RequestRejected as rejected:
            elapsed = time.perf_counter() - started
            return HttpResponse(
                rejected.status, JSON_HEADERS, request, error(rejected), elapsed=elapsed
            )

    async def _embed(self, request: HttpRequest, started: float) -> HttpResponse:
        outbox: Outbox[Embedded] = Outbox(asynchronous=True)
        name, job, dimensions = embed_job(request.body, outbox)
        model = find_model(self._models, name, embedding=True)
        await model.aload()
        model.submit(job)
        try:
            with _timeout(request, "pool"):
                (result,) = await outbox.atake()
        finally:
            job.cancel()  # a no-op once served; drops it from the queue after a timeout
            outbox.release()
        _check_dimensions(dimensions, result)
        body = embeddings(name, result.vectors, result.prompt_tokens)
        return HttpResponse(200, JSON_HEADERS, request, body, elapsed=time.perf_counter() - started)

    async def _chat(self, request: HttpRequest, started: float) -> HttpResponse:
        chat, raw = decode_chat(request.body)
        model = find_model(self._models, chat.model, embedding=False)
        await model.aload()
        outbox: Outbox[ChatItem] = Outbox(asynchronous=True)
        plan = chat_plan(chat, raw, model.tool_parser, outbox)
        model.submit(plan.job)
        try:
            with _timeout(request, "pool"):
                first = await outbox.atake()
            ready, rest = _ready(first)
            if not plan.stream:
                folded = Folded(ready, [])
                folded.add(rest)
                await _fold(folded, outbox, request)
                body = folded.body(plan.model, plan.parser)
                elapsed = time.perf_counter() - started
                return HttpResponse(200, JSON_HEADERS, request, body, elapsed=elapsed)
        except BaseException:
            plan.job.cancel()
            outbox.release()
            raise
        finally:
            if not plan.stream:
                outbox.release()
        elapsed = time.perf_counter() - started

        async def close() -> None:
            plan.job.cancel()
            outbox.release()

        body = _stream(plan, ready, rest, outbox, request)
        return HttpResponse(200, SSE_HEADERS, request, body, elapsed=elapsed, on_close=close)

    async def aclose(self) -> None:
        """Close the transport (and the models it owns); later requests fail."""
        for model in self._owned():
            await model.aclose()


class SyncLocalTransport(_Registry, SyncTransport):
    """The blocking twin of ``LocalTransport`` (for ``SyncClient``); same arguments.

    A model may be registered with an async and a sync transport at once: both queue on the
    same worker, in arrival order.
    """

    def __init__(
        self, models: Mapping[str, LocalModel] | None = None, *, own_models: bool = True
    ) -> None:
        super().__init__(models, own_models)

    def load(self) -> dict[str, LoadReport]:
        """Load every registered model; their reports by name."""
        return {name: model.load() for name, model in self._models.items()}

    def send(self, request: HttpRequest) -> SyncHttpResponse:
        """Serve one request (see ``LocalTransport.send``)."""
        self._open(request)
        started = time.perf_counter()
        try:
            kind = route(request)
            if kind == "models":
                return SyncHttpResponse(200, JSON_HEADERS, request, models(sorted(self._models)))
            if kind == "embeddings":
                return self._embed(request, started)
            return self._chat(request, started)
        except RequestRejected as rejected:
            elapsed = time.perf_counter() - started
            return SyncHttpResponse(
                rejected.status, JSON_HEADERS, request, error(rejected), elapsed=elapsed
            )

    def _embed(self, request: HttpRequest, started: float) -> SyncHttpResponse:
        outbox: Outbox[Embedded] = Outbox(asynchronous=False)
        name, job, dimensions = embed_job(request.body, outbox)
        model = find_model(self._models, name, embedding=True)
        model.load()
        model.submit(job)
        try:
            (result,) = _take(outbox, request, "pool")
        finally:
            job.cancel()
        _check_dimensions(dimensions, result)
        body = embeddings(name, result.vectors, result.prompt_tokens)
        return SyncHttpResponse(
            200, JSON_HEADERS, request, body, elapsed=time.perf_counter() - started
        )

    def _chat(self, request: HttpRequest, started: float) -> SyncHttpResponse:
        chat, raw = decode_chat(request.body)
        model = find_model(self._models, chat.model, embedding=False)
        model.load()
        outbox: Outbox[ChatItem] = Outbox(asynchronous=False)
        plan = chat_plan(chat, raw, model.tool_parser, outbox)
        model.submit(plan.job)
        try:
            ready, rest = _ready(_take(outbox, request, "pool"))
            if not plan.stream:
                folded = Folded(ready, [])
                folded.add(rest)
                while True:
                    try:
                        folded.add(_take(outbox, request, "read"))
                    except Closed:
                        break
                body = folded.body(plan.model, plan.parser)
                elapsed = time.perf_counter() - started
                return SyncHttpResponse(200, JSON_HEADERS, request, body, elapsed=elapsed)
        except BaseException:
            plan.job.cancel()
            raise
        elapsed = time.perf_counter() - started
        body = _sync_stream(plan, ready, rest, outbox, request)
        return SyncHttpResponse(
            200, SSE_HEADERS, request, body, elapsed=elapsed, on_close=plan.job.cancel
        )

    def close(self) -> None:
        """Close the transport (and the models it owns); later requests fail."""
        for model in self._owned():
            model.close()


# -------------------------------------------------------------------- helpers


def _ready(items: list[ChatItem]) -> tuple[Ready, list[ChatItem]]:
    first = items[0]
    assert isinstance(first, Ready), "the worker sends Ready first"
    return first, items[1:]


def _check_dimensions(dimensions: int | None, result: Embedded) -> None:
    width = len(result.vectors[0]) if result.vectors else 0
    if dimensions is not None and dimensions != width:
        raise RequestRejected(
            400,
            "unsupported",
            f"this model embeds in {width} dimensions; it cannot shorten them to {dimensions}",
            "dimensions",
        )


@contextmanager
def _timeout(request: HttpRequest, phase: Literal["pool", "read"]) -> Generator[None]:
    """``anyio.fail_after`` on one phase of the request's timeout, raising our transport error."""
    seconds: float | None = getattr(request.timeout, phase)
    try:
        with anyio.fail_after(seconds):
            yield
    except TimeoutError:
        raise _timed_out(request, phase, seconds) from None


def _timed_out(request: HttpRequest, phase: str, seconds: float | None) -> TransportError:
    if phase == "pool":
        return PoolTimeout(f"the model stayed busy for more than {seconds}s", request=request)
    return ReadTimeout(f"no tokens came for {seconds}s", request=request)


async def _fold(folded: Folded, outbox: Outbox[ChatItem], request: HttpRequest) -> None:
    # Like an HTTP server's non-stream answer, nothing arrives before the end: the read
    # timeout bounds the whole generation, and the loop wakes once, not once per token.
    while True:
        try:
            with _timeout(request, "read"):
                items = await outbox.atake(all_at_end=True)
        except Closed:
            return
        folded.add(items)


async def _stream(
    plan: ChatPlan,
    ready: Ready,
    rest: list[ChatItem],
    outbox: Outbox[ChatItem],
    request: HttpRequest,
) -> AsyncIterator[bytes]:
    encoder = StreamEncoder(plan.model, ready, plan.parser, plan.include_usage)
    try:
        chunk = encoder.start() + encoder.encode(rest)
        while True:
            yield chunk
            if encoder.finished is not None:
                return
            try:
                with _timeout(request, "read"):
                    items = await outbox.atake()
            except Closed:
                return
            except RequestRejected as rejected:
                yield encoder.writer.error(rejected)
                return
            chunk = encoder.encode(items)
    finally:
        plan.job.cancel()
        outbox.release()


def _take(outbox: Outbox[T], request: HttpRequest, phase: Literal["pool", "read"]) -> list[T]:
    seconds: float | None = getattr(request.timeout, phase)
    items = outbox.take(seconds)
    if not items:
        raise _timed_out(request, phase, seconds)
    return items


def _sync_stream(
    plan: ChatPlan,
    ready: Ready,
    rest: list[ChatItem],
    outbox: Outbox[ChatItem],
    request: HttpRequest,
) -> Iterator[bytes]:
    encoder = StreamEncoder(plan.model, ready, plan.parser, plan.include_usage)
    try:
        chunk = encoder.start() + encoder.encode(rest)
        while True:
            yield chunk
            if encoder.finished is not None:
                return
            try:
                items = _take(outbox, request, "read")
            except Closed:
                return
            except RequestRejected as rejected:
                yield encoder.writer.error(rejected)
                return
            chunk = encoder.encode(items)
    finally:
        plan.job.cancel()
