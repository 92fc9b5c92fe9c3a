"""Deterministic embeddings for ``POST /v1/embeddings``, in atoll_wire's OpenAI structs."""

from __future__ import annotations

import base64
import hashlib
import math
import struct

import msgspec
from atoll_wire import openai

_DECODER = msgspec.json.Decoder(openai.EmbeddingRequest)
_ENC = msgspec.json.Encoder()


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A unit vector that depends only on the text and the dimension count."""
    raw = bytearray()
    counter = 0
    while len(raw) < dimensions * 4:
        raw += hashlib.sha256(counter.to_bytes(4, "little") + text.encode()).digest()
        counter += 1
    values = [
        (int.from_bytes(raw[i * 4 : i * 4 + 4], "little") / 0xFFFFFFFF) * 2 - 1
        for i in range(dimensions)
    ]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 7) for v in values]


def decode_embedding_request(body: bytes) -> openai.EmbeddingRequest:
    """The request (raises msgspec errors on bad shapes)."""
    return _DECODER.decode(body)


def embedding_texts(request: openai.EmbeddingRequest) -> list[str]:
    """The texts to embed; token-id inputs become their text form."""
    data = request.input
    if isinstance(data, str):
        return [data]
    if not data:
        return []
    if all(isinstance(t, int) for t in data):
        return [" ".join(str(t) for t in data)]  # one input given as token ids
    texts = [t for t in data if not isinstance(t, int)]
    return [t if isinstance(t, str) else " ".join(map(str, t)) for t in texts]


def embeddings_body(model: str, texts: list[str], dimensions: int, encoding: str) -> bytes:
    """An OpenAI ``/v1/embeddings`` list response."""
    data: list[openai.Embedding] = []
    for index, text in enumerate(texts):
        vector = embedding_vector(text, dimensions)
        value: list[float] | str = vector
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append(openai.Embedding(embedding=value, index=index))
    tokens = sum(len(t.split()) for t in texts)
    usage = openai.EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens)
    return _ENC.encode(openai.EmbeddingResponse(data=data, model=model, usage=usage))
