"""The non-chat endpoints: deterministic embeddings and model lists."""

from __future__ import annotations

import base64
import hashlib
import math
import struct

import msgspec

from ._reply import JSON, Reply

_ENC = msgspec.json.Encoder()


class _EmbeddingRequest(msgspec.Struct):
    model: str
    input: str | list[str | int | list[int]]
    dimensions: int | None = None
    encoding_format: str = "float"


_EMB_DECODER = msgspec.json.Decoder(_EmbeddingRequest)


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


def decode_embedding_request(body: bytes) -> tuple[str, list[str], int | None, str]:
    """``(model, texts, dimensions, encoding_format)``; token-id inputs become their text form."""
    req = _EMB_DECODER.decode(body)
    data = req.input
    if isinstance(data, str):
        texts = [data]
    elif not data:
        texts = []
    elif all(isinstance(t, int) for t in data):
        texts = [" ".join(str(t) for t in data)]  # one input given as token ids
    else:
        texts = [
            t if isinstance(t, str) else " ".join(map(str, t))
            for t in data
            if not isinstance(t, int)
        ]
    return req.model, texts, req.dimensions, req.encoding_format


def embeddings(model: str, texts: list[str], dimensions: int, encoding: str) -> Reply:
    """An OpenAI ``/v1/embeddings`` list response."""
    data: list[dict[str, object]] = []
    for index, text in enumerate(texts):
        vector = embedding_vector(text, dimensions)
        value: object = vector
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": value})
    tokens = sum(len(t.split()) for t in texts)
    body = {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return Reply(200, JSON, _ENC.encode(body))


def model_list(names: list[str], anthropic: bool) -> Reply:
    """``GET /v1/models`` in the OpenAI or (with ``anthropic-version``) the Anthropic shape."""
    if anthropic:
        data = [
            {"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"}
            for n in names
        ]
        body: dict[str, object] = {
            "data": data,
            "has_more": False,
            "first_id": names[0] if names else None,
            "last_id": names[-1] if names else None,
        }
    else:
        data = [
            {"id": n, "object": "model", "created": 1735689600, "owned_by": "atoll"} for n in names
        ]
        body = {"object": "list", "data": data}
    return Reply(200, JSON, _ENC.encode(body))


def model_entry(name: str, anthropic: bool) -> Reply:
    """``GET /v1/models/{id}``."""
    if anthropic:
        body: dict[str, object] = {
            "type": "model",
            "id": name,
            "display_name": name,
            "created_at": "2025-01-01T00:00:00Z",
        }
    else:
        body = {"id": name, "object": "model", "created": 1735689600, "owned_by": "atoll"}
    return Reply(200, JSON, _ENC.encode(body))
