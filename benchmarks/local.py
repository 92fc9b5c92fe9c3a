"""atoll_local: tokens/s through the Client (stream) against llama_cpp called directly.

The same tiny GGUF model (written here with the test suite's generator: random weights, two
layers, a byte-level vocabulary), the same prompts, seeds and sampler settings on both sides, in
one run with the rounds interleaved. Baselines: ``Llama.create_chat_completion`` streamed (the
like-for-like call) and not streamed, and a bare ``Llama.generate`` token loop on the same
prompt tokens (no stop strings, no chat chunks: the floor llama-cpp-python's Python layer sets,
which shows what Atoll's own path costs beyond the engine). Atoll's side
is ``Client("local/tiny", transport=LocalTransport(...)).stream(...)`` read to the end, so every
token crosses the worker thread, the SSE bytes, the dialect and the accumulator.

Target (issue 18): at least 0.95x the baseline's tokens/s.
"""

from __future__ import annotations

import gc
import importlib.util
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from _common import ratio, write_result
from atoll_dialects import Client
from atoll_local import LocalModel, LocalTransport
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

TINY_GGUF = Path(__file__).resolve().parent.parent / "tests" / "local" / "_tiny_gguf.py"


def write_chat_model(path: Path) -> Path:
    """The test suite's tiny model generator, loaded from its file (tests are not a package)."""
    spec = importlib.util.spec_from_file_location("_tiny_gguf", TINY_GGUF)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    written: Path = module.write_chat_model(path)
    return written


PROMPTS = [
    "Name three atolls and the ocean each lies in.",
    "Write a short story about a lighthouse keeper.",
    "Explain how coral reefs form, step by step.",
    "List ten words that rhyme with sea.",
]
MAX_TOKENS = 256
ROUNDS = 5
SAMPLING: dict[str, Any] = {"temperature": 0.8, "top_p": 0.95, "seed": 1234}
N_CTX = 1024


def _messages(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def _direct(llm: Llama, stream: bool) -> tuple[int, float]:
    tokens = 0
    started = time.perf_counter()
    for prompt in PROMPTS:
        if stream:
            for _ in llm.create_chat_completion(
                _messages(prompt),  # type: ignore[arg-type]
                max_tokens=MAX_TOKENS,
                stream=True,
                **SAMPLING,
            ):
                pass
            tokens += MAX_TOKENS  # the model never samples its end token; checked below
        else:
            answer: Any = llm.create_chat_completion(
                _messages(prompt),  # type: ignore[arg-type]
                max_tokens=MAX_TOKENS,
                **SAMPLING,
            )
            tokens += answer["usage"]["completion_tokens"]
    return tokens, time.perf_counter() - started


def _prompts(llm: Llama) -> list[list[int]]:
    template = llm.metadata["tokenizer.chat_template"]
    formatter = Jinja2ChatFormatter(template, eos_token="<|im_end|>", bos_token="<|endoftext|>")
    return [
        llm.tokenize(formatter(messages=_messages(p)).prompt.encode(), add_bos=False, special=True)  # type: ignore[arg-type]
        for p in PROMPTS
    ]


def _generate(llm: Llama, prompts: list[list[int]]) -> tuple[int, float]:
    tokens = 0
    started = time.perf_counter()
    for prompt in prompts:
        llm.set_seed(SAMPLING["seed"])
        pieces: list[bytes] = []
        for count, token in enumerate(
            llm.generate(prompt, temp=SAMPLING["temperature"], top_p=SAMPLING["top_p"]), 1
        ):
            pieces.append(llm.detokenize([token]))
            if count == MAX_TOKENS:
                break
        tokens += len(pieces)
    return tokens, time.perf_counter() - started


async def _atoll(client: Client) -> tuple[int, float]:
    tokens = 0
    started = time.perf_counter()
    for prompt in PROMPTS:
        async with client.stream(prompt, max_tokens=MAX_TOKENS, **SAMPLING) as stream:
            async for _ in stream:
                pass
        usage = stream.response.usage
        assert usage is not None and usage.output_tokens is not None
        tokens += usage.output_tokens
    return tokens, time.perf_counter() - started


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_chat_model(Path(folder) / "tiny-chat.gguf")
        llm = Llama(str(path), n_ctx=N_CTX, verbose=False)
        model = LocalModel(path, n_ctx=N_CTX)
        report = await model.aload()
        transport = LocalTransport({"tiny": model})
        samples: dict[str, list[float]] = {
            "atoll_stream": [],
            "llama_stream": [],
            "llama_call": [],
            "llama_generate": [],
        }
        prompts = _prompts(llm)
        counts: dict[str, int] = {}
        async with transport, Client("local/tiny", transport=transport) as client:
            await _atoll(client)  # warm-up: both sides load pages and caches once
            _direct(llm, stream=False)
            for _ in range(ROUNDS):
                gc.collect()
                for name in samples:
                    if name == "atoll_stream":
                        tokens, seconds = await _atoll(client)
                    elif name == "llama_generate":
                        tokens, seconds = _generate(llm, prompts)
                    else:
                        tokens, seconds = _direct(llm, stream=name == "llama_stream")
                    counts[name] = tokens
                    samples[name].append(tokens / seconds)
        llm.close()
    assert len(set(counts.values())) == 1, f"the sides generated different token counts: {counts}"
    best = {name: max(values) for name, values in samples.items()}
    median = {name: statistics.median(values) for name, values in samples.items()}
    write_result(
        "local",
        {
            "model": str(report),
            "prompts": len(PROMPTS),
            "max_tokens": MAX_TOKENS,
            "rounds": ROUNDS,
            "tokens_per_round": counts["atoll_stream"],
            "tokens_per_second_best": {k: round(v) for k, v in best.items()},
            "tokens_per_second_median": {k: round(v) for k, v in median.items()},
            "ratio_vs_create_chat_completion_stream": ratio(
                median["atoll_stream"], median["llama_stream"]
            ),
            "ratio_vs_create_chat_completion_call": ratio(
                median["atoll_stream"], median["llama_call"]
            ),
            "ratio_vs_bare_generate_loop": ratio(median["atoll_stream"], median["llama_generate"]),
            "target": ">= 0.95x llama_cpp create_chat_completion (both modes reported)",
        },
    )


if __name__ == "__main__":
    anyio.run(main)
