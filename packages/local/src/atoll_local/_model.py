"""``LocalModel``: one GGUF file, loaded explicitly, served by a worker thread of its own.

Loading checks the file before llama.cpp reads it (present, GGUF, a context no larger than the
model's) and reports what it did. Once loaded, every request on the model runs on its worker
thread, one at a time, in the order they arrived (a FIFO queue shared by every caller, async or
blocking): the event loop never waits on llama.cpp.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import anyio

from ._engine import Counters, Engine, ModelStats
from ._exceptions import ModelClosedError, ModelLoadError
from ._gguf import GGUFFormatError, context_length, read_metadata
from ._jobs import ChatJob, Job, RequestRejected
from ._tool_parsers import HermesToolParser, ToolCallParser

_log = logging.getLogger("atoll_local")

DEFAULT_N_CTX = 4096
"""The context used when none is given: the model's own if smaller. A model's full context (often
128K tokens) would reserve gigabytes of KV cache for a request that rarely needs it."""


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What loading a model did.

    Attributes:
        path: The file.
        file_bytes: Its size.
        architecture: ``general.architecture`` (``llama``, ``qwen2``, ...).
        name: ``general.name``, or the file name.
        n_ctx: The context length loaded.
        n_ctx_train: The context length the model was trained with (None if unrecorded).
        embedding: Loaded for embeddings.
        seconds: How long the load took.
    """

    path: str
    file_bytes: int
    architecture: str
    name: str
    n_ctx: int
    n_ctx_train: int | None
    embedding: bool
    seconds: float

    def __str__(self) -> str:
        size = (
            f"{self.file_bytes / 1e6:.1f} MB"
            if self.file_bytes >= 1e6
            else f"{self.file_bytes / 1e3:.0f} KB"
        )
        train = f" of {self.n_ctx_train}" if self.n_ctx_train else ""
        return (
            f"loaded {self.name} ({self.architecture}, {size}) in {self.seconds:.2f}s, "
            f"context {self.n_ctx}{train} tokens{' (embeddings)' if self.embedding else ''}"
        )


class LocalModel:
    """A GGUF model on this machine, for ``LocalTransport``.

    Args:
        path: The ``.gguf`` file.
        n_ctx: Context length in tokens; default: the model's own, at most 4096. Larger than
            the model's own is refused at load.
        embedding: Load for embeddings (``Client.embed``) instead of chat.
        chat_template: A Jinja chat template replacing the file's ``tokenizer.chat_template``.
        tool_parser: Makes the parser that finds tool calls in the model's text (a fresh one
            per generation); default Hermes ``<tool_call>`` blocks.
        n_threads: CPU threads for generation (default: llama-cpp-python's, half the cores).
        n_gpu_layers: Layers to offload when llama.cpp was built with a GPU backend.
        options: Any other ``llama_cpp.Llama`` keyword arguments (``n_batch``, ``flash_attn``,
            ``rope_freq_base``, ...).

    Load it with ``await model.aload()`` (or ``model.load()``); a ``LocalTransport`` loads a
    model that is not loaded yet when its first request arrives.

    Raises:
        ValueError: ``n_ctx`` is not positive, or ``options`` repeats one of these arguments.

    Example:
        >>> model = LocalModel("qwen2.5-0.5b-instruct-q4_k_m.gguf", n_ctx=8192)  # doctest: +SKIP
        >>> print(await model.aload())  # doctest: +SKIP
        loaded Qwen2.5 0.5B Instruct (qwen2, 491.4 MB) in 0.41s, context 8192 of 32768 tokens
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        n_ctx: int | None = None,
        *,
        embedding: bool = False,
        chat_template: str | None = None,
        tool_parser: Callable[[], ToolCallParser] = HermesToolParser,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        if n_ctx is not None and (isinstance(n_ctx, bool) or n_ctx < 1):
            raise ValueError(f"n_ctx must be a positive number of tokens, got {n_ctx!r}")
        reserved = sorted(set(options or ()) & {"model_path", "n_ctx", "embedding", "verbose"})
        if reserved:
            raise ValueError(f"pass {', '.join(reserved)} as LocalModel arguments, not options")
        self._path = os.fspath(path)
        self._n_ctx = n_ctx
        self.embedding = embedding
        self.chat_template = chat_template
        self.tool_parser = tool_parser
        self._llama_options: dict[str, Any] = {
            **({"n_threads": n_threads} if n_threads is not None else {}),
            "n_gpu_layers": n_gpu_layers,
            **(options or {}),
        }
        self._load_lock = threading.Lock()  # held for a whole load
        self._state_lock = threading.Lock()  # held for an instant: submit against close
        self._engine: Engine | None = None
        self._report: LoadReport | None = None
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._busy = False
        self._current: Job | None = None
        self._closed = False
        self._counters = Counters()

    @property
    def path(self) -> str:
        """The model file."""
        return self._path

    @property
    def n_ctx(self) -> int | None:
        """The context length: as loaded once loaded, else as asked (None: the default)."""
        return self._report.n_ctx if self._report is not None else self._n_ctx

    @property
    def loaded(self) -> bool:
        """True once ``load`` succeeded (and until ``close``)."""
        return self._engine is not None

    @property
    def report(self) -> LoadReport | None:
        """The load report, once loaded."""
        return self._report

    @property
    def stats(self) -> ModelStats:
        """Counters since the load, with the queue length and whether a request runs now."""
        return self._counters.snapshot(queued=self._queue.qsize(), busy=self._busy)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "loaded" if self.loaded else "not loaded"
        return f"LocalModel({self._path!r}, n_ctx={self.n_ctx!r}, {state})"

    # ---------------------------------------------------------------- loading

    def load(self) -> LoadReport:
        """Load the model (blocking); a no-op returning the same report once loaded.

        Raises:
            ModelLoadError: The file is missing, not GGUF, asks for a context larger than the
                model's, or llama.cpp cannot load it.
            ModelClosedError: The model was closed.
        """
        with self._load_lock:
            if self._closed:
                raise ModelClosedError(self._path)
            if self._report is not None:
                return self._report
            started = time.perf_counter()
            metadata, n_ctx, trained = self._check_file()
            llm = self._open(n_ctx, trained)
            self._engine = Engine(llm, self.chat_template, self._counters)
            self._report = LoadReport(
                path=self._path,
                file_bytes=os.path.getsize(self._path),
                architecture=str(metadata.get("general.architecture", "unknown")),
                name=str(metadata.get("general.name") or os.path.basename(self._path)),
                n_ctx=llm.n_ctx(),
                n_ctx_train=trained,
                embedding=self.embedding,
                seconds=time.perf_counter() - started,
            )
            self._thread = threading.Thread(
                target=self._work, name=f"atoll-local:{os.path.basename(self._path)}", daemon=True
            )
            self._thread.start()
            _log.info("%s", self._report)
            return self._report

    async def aload(self) -> LoadReport:
        """Load the model in a worker thread; the event loop keeps running.

        Raises:
            ModelLoadError: As for ``load``.
        """
        if self._report is not None and not self._closed:
            return self._report
        return await anyio.to_thread.run_sync(self.load)

    def _check_file(self) -> tuple[dict[str, object], int, int | None]:
        path = self._path
        if not os.path.exists(path):
            raise ModelLoadError(path, "missing", "no such file")
        if not os.path.isfile(path):
            raise ModelLoadError(path, "not_a_file", "not a regular file")
        try:
            metadata = read_metadata(path)
        except GGUFFormatError as exc:
            reason = "not_gguf" if "magic" in str(exc) else "bad_metadata"
            raise ModelLoadError(path, reason, f"not a GGUF model file ({exc})") from exc
        except OSError as exc:
            raise ModelLoadError(path, "missing", f"cannot read it: {exc}") from exc
        trained = context_length(metadata)
        if self._n_ctx is not None and trained is not None and self._n_ctx > trained:
            raise ModelLoadError(
                path,
                "context_too_large",
                f"n_ctx={self._n_ctx} is larger than the model's context of {trained} tokens",
                n_ctx=self._n_ctx,
                n_ctx_train=trained,
            )
        n_ctx = self._n_ctx or min(trained or DEFAULT_N_CTX, DEFAULT_N_CTX)
        return metadata, n_ctx, trained

    def _open(self, n_ctx: int, trained: int | None) -> Any:
        from llama_cpp import Llama  # deferred: importing llama_cpp loads the shared library

        try:
            return Llama(
                model_path=self._path,
                n_ctx=n_ctx,
                embedding=self.embedding,
                verbose=False,
                **self._llama_options,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(
                self._path,
                "llama",
                f"llama.cpp could not load it: {exc}",
                n_ctx=n_ctx,
                n_ctx_train=trained,
            ) from exc

    # ---------------------------------------------------------------- the worker

    def submit(self, job: Job) -> None:
        """Queue a job for the worker (FIFO across every caller).

        Raises:
            ModelClosedError: The model was closed.
        """
        with self._state_lock:  # never behind the sentinel ``close`` queues
            if self._closed or self._engine is None:
                raise ModelClosedError(self._path)
            self._queue.put(job)

    def _work(self) -> None:
        engine = self._engine
        assert engine is not None
        while True:
            job = self._queue.get()
            if job is None:
                return
            if job.cancelled:
                job.outbox.close()
                continue
            self._busy, self._current = True, job
            try:
                if isinstance(job, ChatJob):
                    engine.run_chat(job)
                else:
                    engine.run_embed(job)
            except RequestRejected as exc:
                job.outbox.close(exc)
            except Exception as exc:  # a llama.cpp failure: the caller gets it, the worker lives
                _log.exception("generation failed on %s", self._path)
                job.outbox.close(
                    RequestRejected(500, "generation_failed", f"llama.cpp failed: {exc}")
                )
            else:
                job.outbox.close()
            finally:
                self._busy, self._current = False, None

    def check_kind(self, embedding: bool) -> None:
        """Refuse a chat on an embedding model or embeddings on a chat model.

        Raises:
            RequestRejected: The model was loaded for the other kind of work.
        """
        if embedding and not self.embedding:
            raise RequestRejected(
                400,
                "model_not_embedding",
                f"{os.path.basename(self._path)} was loaded for chat; load it with "
                "LocalModel(..., embedding=True) for embeddings",
                param="model",
            )
        if not embedding and self.embedding:
            raise RequestRejected(
                400,
                "model_is_embedding",
                f"{os.path.basename(self._path)} was loaded for embeddings, not chat",
                param="model",
            )

    # ---------------------------------------------------------------- closing

    def close(self) -> None:
        """Cancel the running request, fail queued ones, stop the worker, free the model."""
        with self._load_lock:
            if self._closed:
                return
            with self._state_lock:
                self._closed = True
                thread, engine = self._thread, self._engine
                self._engine = None
                running = self._current
        if running is not None:
            running.cancel()
        while True:  # fail what is still queued: nobody will serve it
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.cancel()
                job.outbox.close(ModelClosedError(self._path))
        if thread is not None:
            self._queue.put(None)
            thread.join()
        if engine is not None:
            engine.llm.close()

    async def aclose(self) -> None:
        """``close`` in a worker thread (it waits for the running request to stop)."""
        await anyio.to_thread.run_sync(self.close)

    def __enter__(self) -> Self:
        self.load()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        await self.aload()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
