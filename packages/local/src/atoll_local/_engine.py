"""Generation on one loaded model, run by its worker thread only (a ``Llama`` is not thread-safe).

The loop is Atoll's own rather than ``create_chat_completion``'s: it checks the caller's
cancellation before every token, counts prompt and completion tokens exactly (llama-cpp-python's
stream chunks carry no usage), decodes UTF-8 incrementally and matches stop sequences on the
new text only (llama-cpp-python re-detokenizes the whole completion at every token).
"""

from __future__ import annotations

import codecs
import random
import threading
from dataclasses import dataclass
from typing import Any, cast

import llama_cpp
from llama_cpp import Llama
from llama_cpp.llama_chat_format import ChatFormatterResponse, Jinja2ChatFormatter
from llama_cpp.llama_grammar import LlamaGrammar

from ._grammar import build_grammar
from ._jobs import ChatJob, Embedded, EmbedJob, Finished, Ready, RequestRejected
from ._stops import StopMatcher

_CHECKED_GRAMMARS = 256


@dataclass(frozen=True, slots=True)
class ModelStats:
    """What one model has done since it was loaded.

    Attributes:
        requests: Chat and embedding requests served (cancelled ones included).
        prompt_tokens: Prompt tokens evaluated (chat) or embedded.
        completion_tokens: Tokens generated.
        cancelled: Requests whose caller went away before the end.
        tokens_after_cancel: Tokens generated after a caller cancelled, summed over requests;
            each cancelled generation adds at most one.
        queued: Requests waiting for the model now.
        busy: A request is being served now.
    """

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cancelled: int = 0
    tokens_after_cancel: int = 0
    queued: int = 0
    busy: bool = False


class Counters:
    """Mutable counters behind ``ModelStats`` (updated by the worker, read by anyone)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cancelled = 0
        self.tokens_after_cancel = 0

    def snapshot(self, *, queued: int, busy: bool) -> ModelStats:
        """A frozen copy."""
        with self.lock:
            return ModelStats(
                requests=self.requests,
                prompt_tokens=self.prompt_tokens,
                completion_tokens=self.completion_tokens,
                cancelled=self.cancelled,
                tokens_after_cancel=self.tokens_after_cancel,
                queued=queued,
                busy=busy,
            )


class Engine:
    """A loaded ``Llama`` plus what every request on it reuses.

    Args:
        llm: The loaded model.
        chat_template: A Jinja chat template overriding the GGUF's ``tokenizer.chat_template``.
    """

    def __init__(self, llm: Llama, chat_template: str | None, counters: Counters) -> None:
        self.llm = llm
        self.counters = counters
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        assert vocab is not None, "a loaded model has a vocabulary"
        self._vocab = vocab
        template = chat_template or llm.metadata.get("tokenizer.chat_template")
        self._formatter: Jinja2ChatFormatter | None = None
        if template:
            eos, bos = llm.token_eos(), llm.token_bos()
            self._formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=self._token_text(eos),
                bos_token=self._token_text(bos),
                stop_token_ids=[eos],
            )
        self._checked_grammars: set[str] = set()

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        raw: bytes = llama_cpp.llama_vocab_get_text(self._vocab, token)
        return raw.decode("utf-8", errors="replace")

    # ---------------------------------------------------------------- chat

    def prompt_tokens(self, job: ChatJob) -> tuple[list[int], list[str]]:
        """Format the messages with the chat template and tokenize them.

        Returns:
            The prompt tokens and the template's own stop strings.

        Raises:
            RequestRejected: No chat template, or the template refused the messages.
        """
        if self._formatter is None:
            raise RequestRejected(
                400,
                "no_chat_template",
                "this model has no chat template (tokenizer.chat_template); "
                "load it with LocalModel(chat_template=...)",
            )
        try:
            result: ChatFormatterResponse = self._formatter(
                messages=job.messages,  # pyright: ignore[reportArgumentType]
                tools=job.tools,  # pyright: ignore[reportArgumentType]
                tool_choice=job.tool_choice,  # pyright: ignore[reportArgumentType]
            )
        except Exception as exc:  # jinja2 errors and the template's raise_exception
            raise RequestRejected(
                400, "invalid_messages", f"the chat template refused the messages: {exc}"
            ) from exc
        tokens = self.llm.tokenize(
            result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True
        )
        stops = (
            result.stop if isinstance(result.stop, list) else [result.stop] if result.stop else []
        )
        return tokens, stops

    def check_grammar(self, grammar: LlamaGrammar) -> None:
        """Parse a grammar once per model: llama.cpp would otherwise fail mid-generation.

        Raises:
            RequestRejected: llama.cpp cannot parse it.
        """
        text: str = grammar._grammar  # pyright: ignore[reportPrivateUsage]
        if text in self._checked_grammars:
            return
        sampler = llama_cpp.llama_sampler_init_grammar(self._vocab, text.encode(), b"root")
        if not sampler:
            raise RequestRejected(
                400, "invalid_schema", "llama.cpp could not parse the grammar built from the schema"
            )
        llama_cpp.llama_sampler_free(sampler)
        if len(self._checked_grammars) >= _CHECKED_GRAMMARS:
            self._checked_grammars.clear()  # a bound, not an LRU: re-checking costs a parse
        self._checked_grammars.add(text)

    def run_chat(self, job: ChatJob) -> None:
        """Serve one chat job, putting ``Ready``, text pieces and ``Finished`` in its outbox.

        Raises:
            RequestRejected: The request does not fit this model (before ``Ready``).
        """
        llm = self.llm
        prompt, template_stops = self.prompt_tokens(job)
        n_ctx = llm.n_ctx()
        if len(prompt) >= n_ctx:
            raise RequestRejected(
                400,
                "context_length_exceeded",
                f"the prompt is {len(prompt)} tokens; this model was loaded with a context of "
                f"{n_ctx} tokens",
                param="messages",
            )
        room = n_ctx - len(prompt)
        budget = room if job.max_tokens is None else min(job.max_tokens, room)
        grammar = build_grammar(job.grammar) if job.grammar is not None else None
        if grammar is not None:
            self.check_grammar(grammar)
        with self.counters.lock:
            self.counters.requests += 1
            self.counters.prompt_tokens += len(prompt)
        job.outbox.put(Ready(len(prompt)))
        reason = self._generate(job, prompt, budget, [*job.stop, *template_stops], grammar)
        generated = job.generated
        with self.counters.lock:
            self.counters.completion_tokens += generated
            if reason == "cancelled":
                self.counters.cancelled += 1
                self.counters.tokens_after_cancel += generated - (job.generated_at_cancel or 0)
        job.outbox.put(Finished(reason, generated))

    def _generate(
        self,
        job: ChatJob,
        prompt: list[int],
        budget: int,
        stops: list[str],
        grammar: LlamaGrammar | None,
    ) -> str:
        llm, vocab, s = self.llm, self._vocab, job.sampling
        is_eog = llama_cpp.llama_vocab_is_eog
        detokenize = llm.detokenize
        decoder = codecs.getincrementaldecoder("utf-8")(errors="ignore")
        matcher = StopMatcher(stops)
        put = job.outbox.put
        llm.set_seed(s.seed if s.seed is not None else random.getrandbits(32))
        tokens = llm.generate(
            prompt,
            top_k=s.top_k,
            top_p=s.top_p,
            min_p=s.min_p,
            typical_p=s.typical_p,
            temp=s.temperature,
            repeat_penalty=s.repeat_penalty,
            frequency_penalty=s.frequency_penalty,
            presence_penalty=s.presence_penalty,
            grammar=grammar,
        )
        reason = "length"
        try:
            if job.cancelled:
                return "cancelled"
            for token in tokens:
                if job.cancelled:
                    reason = "cancelled"
                    break
                if is_eog(vocab, token):
                    reason = "stop"
                    break
                job.generated += 1
                text = decoder.decode(detokenize([token]))
                if text:
                    text, stopped = matcher.feed(text)
                    if text:
                        put(text)
                    if stopped:
                        return "stop"
                if job.generated >= budget:
                    break
        finally:
            tokens.close()
        if reason != "cancelled":
            tail = decoder.decode(b"", final=True)
            text, stopped = matcher.feed(tail) if tail else ("", False)
            text += "" if stopped else matcher.flush()
            if text:
                put(text)
            if matcher.stopped:
                reason = "stop"
        return reason

    # ---------------------------------------------------------------- embeddings

    def run_embed(self, job: EmbedJob) -> None:
        """Embed the job's texts (pooled and normalised, one vector each).

        Raises:
            RequestRejected: An input is longer than the context, or the model cannot embed.
        """
        try:
            raw, count = cast(
                "tuple[list[Any], int]",
                self.llm.embed(job.texts, normalize=True, truncate=False, return_count=True),
            )
        except ValueError as exc:  # llama-cpp-python: "Requested tokens (N) exceed batch size"
            raise RequestRejected(
                400,
                "context_length_exceeded",
                f"an input is too long for this model: {exc}",
                "input",
            ) from exc
        vectors = [_pooled(v) for v in raw]
        with self.counters.lock:
            self.counters.requests += 1
            self.counters.prompt_tokens += count
        job.outbox.put(Embedded(vectors, count))


def _pooled(vector: Any) -> list[float]:
    """One vector per input: a model without pooling returns one per token, mean them."""
    if vector and isinstance(vector[0], list):
        rows: list[list[float]] = vector
        width = len(rows[0])
        mean = [sum(row[i] for row in rows) / len(rows) for i in range(width)]
        norm = sum(x * x for x in mean) ** 0.5 or 1.0
        return [x / norm for x in mean]
    return [float(x) for x in vector]
