"""atoll_wire.gemini: every recorded Gemini case decodes into the structs; codecs and splitters.

SSE bodies are fed to ``SSEDecoder`` in random-sized chunks and must give the number of events
``../shared/corpus/check_corpus.py`` counts; each event is one ``GenerateContentResponse``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec
import pytest
from atoll_wire import SSEDecoder
from atoll_wire import gemini as g
from hypothesis import given
from hypothesis import strategies as st

_CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"


def _names() -> list[str]:
    folder = _CORPUS / "gemini"
    return sorted(p.name for p in folder.glob("*.json")) if folder.is_dir() else []


def _checker(corpus_dir: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_corpus", corpus_dir / "check_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_signature_sits_on_the_call_part(corpus_dir: Path) -> None:
    case = json.loads(
        (corpus_dir / "gemini" / "google-stream-function-call-thought-signature.json").read_text()
    )
    first = SSEDecoder().feed(case["response"]["body"].encode())[0]
    [part] = g.decode_response(first.data).candidates[0].content.parts  # type: ignore[union-attr]
    assert part.function_call is not None and part.function_call.id is None
    assert part.thought_signature is not None and part.thought_signature.startswith("EpwICpkI")


def test_request_round_trip_is_camel_case() -> None:
    request = g.GenerateContentRequest(
        contents=[
            g.Content(role="user", parts=[g.Part(text="hi")]),
            g.Content(
                role="model",
                parts=[
                    g.Part(
                        function_call=g.FunctionCall(name="f", args={"a": 1}),
                        thought_signature="c2ln",
                    )
                ],
            ),
            g.Content(
                role="user",
                parts=[
                    g.Part(function_response=g.FunctionResponse(name="f", response={"output": 2}))
                ],
            ),
        ],
        system_instruction=g.Content(parts=[g.Part(text="be brief")]),
        tools=[
            g.Tool(
                function_declarations=[
                    g.FunctionDeclaration(name="f", parameters_json_schema={"type": "object"})
                ]
            )
        ],
        tool_config=g.ToolConfig(
            function_calling_config=g.FunctionCallingConfig(
                mode="ANY", allowed_function_names=["f"]
            )
        ),
        generation_config=g.GenerationConfig(
            max_output_tokens=5,
            response_mime_type="application/json",
            thinking_config=g.ThinkingConfig(thinking_level="LOW", include_thoughts=True),
        ),
    )
    encoded = json.loads(g.encode(request))
    assert encoded["contents"][1]["parts"][0] == {
        "functionCall": {"name": "f", "args": {"a": 1}},
        "thoughtSignature": "c2ln",
    }
    assert encoded["systemInstruction"] == {"parts": [{"text": "be brief"}]}
    assert encoded["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"] == {
        "type": "object"
    }
    assert encoded["toolConfig"]["functionCallingConfig"]["allowedFunctionNames"] == ["f"]
    assert encoded["generationConfig"]["thinkingConfig"] == {
        "includeThoughts": True,
        "thinkingLevel": "LOW",
    }
    assert g.decode_request(g.encode(request)) == request


def test_errors_and_retry_info() -> None:
    body = {
        "error": {
            "code": 429,
            "message": "quota",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
                {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "24.5s"},
            ],
        }
    }
    plain = g.decode_error(json.dumps(body))
    wrapped = g.decode_error(json.dumps([body]))  # Vertex's one-element list
    assert plain == wrapped and plain.error.status == "RESOURCE_EXHAUSTED"
    assert g.retry_delay(plain.error) == 24.5
    proto = g.Status(
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": {"seconds": 3, "nanos": 500000000},
            }
        ]
    )
    assert g.retry_delay(proto) == 3.5
    assert g.retry_delay(g.Status(details=[{"@type": "x", "retryDelay": "1s"}])) is None
    with pytest.raises(msgspec.ValidationError):
        g.decode_error(b"[]")
    chunk = g.decode_response(
        b'{"error": {"code": 500, "status": "INTERNAL", "message": "boom"}, "new": 1}'
    )
    assert chunk.error is not None and chunk.error.code == 500 and chunk.candidates == []


def test_embeddings_and_counting_codecs() -> None:
    assert g.decode_embed_response(b'{"embedding": {"values": [0.5, 1]}}').embedding.values == [
        0.5,
        1.0,
    ]
    batch = g.decode_batch_embed_response(b'{"embeddings": [{"values": [1]}, {"values": [2]}]}')
    assert [e.values for e in batch.embeddings] == [[1.0], [2.0]]
    predicted = g.decode_predict_response(
        b'{"predictions": [{"embeddings": {"values": [1],'
        b' "statistics": {"token_count": 4, "truncated": false}}}]}'
    )
    stats = predicted.predictions[0].embeddings.statistics
    assert stats is not None and stats.token_count == 4
    assert json.loads(
        g.encode(g.PredictRequest(instances=[g.PredictInstance(content="a", task_type="Q")]))
    ) == {"instances": [{"content": "a", "task_type": "Q"}]}
    assert g.decode_count_tokens_response(b'{"totalTokens": 7}').total_tokens == 7
    assert (
        g.decode_model_list(b'{"models": [{"name": "models/x", "inputTokenLimit": 9}]}')
        .models[0]
        .input_token_limit
        == 9
    )


_ITEM = st.fixed_dictionaries(
    {
        "text": st.text(max_size=12),
        "n": st.integers(),
        "nested": st.lists(st.text(max_size=3), max_size=3),
    }
)


@given(
    items=st.lists(_ITEM, max_size=6),
    cuts=st.lists(st.integers(min_value=1, max_value=9), max_size=40),
)
def test_json_array_decoder_splits_any_chunking(
    items: list[dict[str, Any]], cuts: list[int]
) -> None:
    encoded = [msgspec.json.encode(i) for i in items]
    body = b"[" + b",\r\n".join(encoded) + b"]"
    decoder = g.JSONArrayDecoder()
    out: list[bytes] = []
    at = 0
    for cut in cuts:
        out.extend(decoder.feed(body[at : at + cut]))
        at += cut
    out.extend(decoder.feed(body[at:]))
    assert out == encoded
