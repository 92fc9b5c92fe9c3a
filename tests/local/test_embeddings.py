"""Embeddings from an embedding GGUF through ``Client.embed``."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from atoll_dialects import BadRequestError, Client
from atoll_local import LocalModel, LocalTransport
from llama_cpp import Llama

pytestmark = pytest.mark.anyio


@pytest.fixture
async def transport(
    chat_model: LocalModel, embed_model: LocalModel
) -> AsyncIterator[LocalTransport]:
    async with LocalTransport({"emb": embed_model, "chat": chat_model}, own_models=False) as t:
        yield t


async def test_one_normalised_vector_per_input_with_exact_usage(
    transport: LocalTransport, embed_gguf: Path
) -> None:
    texts = ["the atoll", "a lagoon of blue water", "the atoll"]
    async with Client("local/emb", transport=transport) as client:
        result = await client.embed(texts)
        single = await client.embed("a lagoon of blue water")
    assert len(result.vectors) == 3 and {len(v) for v in result.vectors} == {64}
    for vector in result.vectors:
        assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-4)
    assert result.vectors[0] == pytest.approx(result.vectors[2], abs=1e-5)  # same text
    assert result.vectors[0] != pytest.approx(result.vectors[1], abs=1e-3)
    assert single.vectors[0] == pytest.approx(result.vectors[1], abs=1e-5)
    llm = Llama(str(embed_gguf), n_ctx=256, embedding=True, verbose=False)
    try:
        expected = sum(len(llm.tokenize(t.encode())) for t in texts)
    finally:
        llm.close()
    assert result.usage is not None and result.usage.input_tokens == expected


async def test_dimensions_other_than_the_model_s_are_refused(transport: LocalTransport) -> None:
    async with Client("local/emb", transport=transport) as client:
        assert len((await client.embed("x", dimensions=64)).vectors[0]) == 64
        with pytest.raises(BadRequestError, match="64 dimensions"):
            await client.embed("x", dimensions=32)


async def test_the_wrong_kind_of_model_is_a_bad_request(transport: LocalTransport) -> None:
    async with Client("local/chat", transport=transport) as client:
        with pytest.raises(BadRequestError, match="embedding=True"):
            await client.embed("x")
    async with Client("local/emb", transport=transport) as client:
        with pytest.raises(BadRequestError, match="for embeddings, not chat"):
            await client.chat("x")


async def test_an_input_longer_than_the_context_is_a_bad_request(transport: LocalTransport) -> None:
    async with Client("local/emb", transport=transport) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.embed("word " * 400)
    assert caught.value.code == "context_length_exceeded"
