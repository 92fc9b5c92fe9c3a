"""Chat through the unchanged Client on a local model: seeds, stops, limits, usage, errors.

A random-weight model says nothing meaningful, so these tests assert what does not depend on
meaning: the same seed gives the same text, a stop or max_tokens ends generation where it must,
usage equals llama.cpp's own count, and bad requests come back as the Client's typed errors.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from atoll_dialects import BadRequestError, Client, ClientResponse, NotFoundError
from atoll_local import LocalModel, LocalTransport
from atoll_wire import ImagePart, Message, TextDelta, ToolCallPart, ToolResultPart
from llama_cpp import Llama

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(chat_model: LocalModel) -> AsyncIterator[Client]:
    transport = LocalTransport({"tiny": chat_model}, own_models=False)
    async with transport, Client("local/tiny", transport=transport) as client:
        yield client


async def _stream_text(client: Client, prompt: str, **options: Any) -> tuple[str, ClientResponse]:
    async with client.stream(prompt, **options) as stream:
        deltas = [e.text async for e in stream if isinstance(e, TextDelta)]
    assert "".join(deltas) == stream.response.text
    return stream.response.text, stream.response


async def test_the_same_seed_gives_the_same_text(client: Client) -> None:
    first = await client.chat("Tell me a story.", max_tokens=40, seed=1234, temperature=0.9)
    await client.chat("Something else entirely", max_tokens=17, seed=5)  # other cache state
    second = await client.chat("Tell me a story.", max_tokens=40, seed=1234, temperature=0.9)
    streamed, _ = await _stream_text(
        client, "Tell me a story.", max_tokens=40, seed=1234, temperature=0.9
    )
    assert len(first.text) > 10
    assert first.text == second.text == streamed
    other = await client.chat("Tell me a story.", max_tokens=40, seed=99, temperature=0.9)
    assert other.text != first.text


async def test_greedy_decoding_is_deterministic_without_a_seed(client: Client) -> None:
    a = await client.chat("greedy", max_tokens=20, temperature=0)
    b = await client.chat("greedy", max_tokens=20, temperature=0)
    assert a.text == b.text and a.text


async def test_max_tokens_ends_with_length_and_exact_usage(client: Client) -> None:
    reply = await client.chat("count", max_tokens=25, seed=3)
    assert reply.finish_reason == "length"
    assert reply.usage is not None and reply.usage.output_tokens == 25
    text, response = await _stream_text(client, "count", max_tokens=25, seed=3)
    assert text == reply.text
    assert response.finish_reason == "length"
    assert response.usage == reply.usage


async def test_a_stop_sequence_cuts_the_text_before_it(client: Client) -> None:
    full = await client.chat("stop test", max_tokens=60, seed=21)
    stop = full.text[30:33]
    expected = full.text[: full.text.index(stop)]
    for stops in (stop, [stop, "never-there"]):
        reply = await client.chat("stop test", max_tokens=60, seed=21, stop=stops)
        assert (reply.text, reply.finish_reason) == (expected, "stop")
        assert reply.usage is not None and (reply.usage.output_tokens or 0) < 60
        text, response = await _stream_text(client, "stop test", max_tokens=60, seed=21, stop=stops)
        assert text == expected and response.finish_reason == "stop"


async def test_usage_and_text_match_llama_cpp_python_itself(
    client: Client, chat_gguf: Path
) -> None:
    llm = Llama(str(chat_gguf), n_ctx=1024, verbose=False)
    try:
        messages = [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Name three atolls."},
        ]
        theirs = llm.create_chat_completion(messages, max_tokens=30, seed=77, temperature=0.7)  # type: ignore[arg-type]
        prompt = llm.tokenize(
            b"<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nName three atolls."
            b"<|im_end|>\n<|im_start|>assistant\n",
            add_bos=False,
            special=True,
        )
    finally:
        llm.close()
    ours = await client.chat(
        [Message.system("You are terse."), Message.user("Name three atolls.")],
        max_tokens=30,
        seed=77,
        temperature=0.7,
    )
    assert ours.usage is not None
    assert ours.usage.input_tokens == theirs["usage"]["prompt_tokens"] == len(prompt)  # type: ignore[index]
    assert ours.usage.output_tokens == theirs["usage"]["completion_tokens"] == 30  # type: ignore[index]
    assert ours.text == theirs["choices"][0]["message"]["content"]  # type: ignore[index]


async def test_sampler_extras_reach_llama_cpp(client: Client) -> None:
    plain = await client.chat("extras", max_tokens=20, seed=8, temperature=1.5)
    narrowed = await client.chat(
        "extras", max_tokens=20, seed=8, temperature=1.5, extra={"top_k": 1}
    )
    greedy = await client.chat("extras", max_tokens=20, temperature=0)
    assert narrowed.text == greedy.text  # top_k=1 is greedy whatever the temperature
    assert plain.text != greedy.text


async def test_a_conversation_with_tool_results_renders(client: Client) -> None:
    call = ToolCallPart(id="call_1", name="lookup", arguments={"q": "atolls"})
    messages = [
        Message.user("look it up"),
        Message(role="assistant", parts=[call]),
        Message(role="tool", parts=[ToolResultPart.from_text("call_1", "Bikini, Aldabra")]),
    ]
    reply = await client.chat(messages, max_tokens=5, seed=2)
    assert reply.usage is not None and reply.usage.input_tokens is not None
    assert reply.usage.input_tokens > 40  # the call and its result were in the prompt


async def test_cost_is_zero_with_its_source(client: Client) -> None:
    reply = await client.chat("free", max_tokens=2, seed=1)
    assert reply.cost is not None and reply.cost.total == 0
    assert reply.served_by == "local/tiny"


async def test_unknown_model_is_not_found(chat_model: LocalModel) -> None:
    transport = LocalTransport({"tiny": chat_model}, own_models=False)
    async with Client("local/nope", transport=transport) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.chat("hi")
    assert "registered: tiny" in caught.value.message
    assert caught.value.code == "model_not_found"


async def test_a_prompt_longer_than_the_context_is_a_bad_request(client: Client) -> None:
    with pytest.raises(BadRequestError) as caught:
        await client.chat("word " * 400, max_tokens=5)
    assert caught.value.code == "context_length_exceeded"
    assert "context of 1024 tokens" in caught.value.message


async def test_unsupported_options_are_bad_requests(client: Client) -> None:
    with pytest.raises(BadRequestError, match="n=1"):
        await client.chat("hi", extra={"n": 2})
    with pytest.raises(BadRequestError, match="text models"):
        await client.chat(Message(role="user", parts=[ImagePart(url="https://x.test/a.png")]))
    with pytest.raises(BadRequestError, match="top_k"):
        await client.chat("hi", extra={"top_k": -1})
