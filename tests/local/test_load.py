"""Loading is explicit and reported; a bad file is a typed error before any generation."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from atoll_dialects import Client
from atoll_local import LocalModel, LocalTransport, ModelClosedError, ModelLoadError
from atoll_wire import AtollError


def test_load_reports_size_context_and_time(chat_gguf: Path) -> None:
    model = LocalModel(chat_gguf, n_ctx=256)
    assert (model.path, model.n_ctx, model.loaded, model.report) == (
        str(chat_gguf),
        256,
        False,
        None,
    )
    report = model.load()
    try:
        assert report.file_bytes == chat_gguf.stat().st_size
        assert (report.architecture, report.name) == ("llama", "atoll-tiny-chat")
        assert (report.n_ctx, report.n_ctx_train, report.embedding) == (256, 1024, False)
        assert 0 < report.seconds < 30
        assert "atoll-tiny-chat (llama, " in str(report) and "context 256 of 1024" in str(report)
        assert model.load() is report  # loading twice is a no-op
        assert model.loaded and model.n_ctx == 256
    finally:
        model.close()
    assert not model.loaded
    with pytest.raises(ModelClosedError):
        model.load()


def test_default_context_is_the_model_s_own_when_smaller(chat_gguf: Path) -> None:
    with LocalModel(chat_gguf) as model:
        assert model.n_ctx == 1024  # trained 1024 < the 4096 default cap


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as caught:
        LocalModel(tmp_path / "nope.gguf").load()
    error = caught.value
    assert (error.reason, error.path) == ("missing", str(tmp_path / "nope.gguf"))
    assert "no such file" in str(error)


def test_a_directory_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as caught:
        LocalModel(tmp_path).load()
    assert caught.value.reason == "not_a_file"


def test_not_gguf(tmp_path: Path) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"PK\x03\x04 this is a zip, not a model" * 10)
    with pytest.raises(ModelLoadError) as caught:
        LocalModel(path).load()
    assert caught.value.reason == "not_gguf"


def test_truncated_header(tmp_path: Path, chat_gguf: Path) -> None:
    path = tmp_path / "cut.gguf"
    path.write_bytes(chat_gguf.read_bytes()[:200])
    with pytest.raises(ModelLoadError) as caught:
        LocalModel(path).load()
    assert caught.value.reason == "bad_metadata"


def test_truncated_tensors_are_refused_by_llama_cpp(tmp_path: Path, chat_gguf: Path) -> None:
    data = chat_gguf.read_bytes()
    path = tmp_path / "short.gguf"
    path.write_bytes(data[: len(data) - 50_000])  # header intact, weights cut
    with pytest.raises(ModelLoadError) as caught:
        LocalModel(path).load()
    assert caught.value.reason == "llama"


def test_context_larger_than_the_model_s(chat_gguf: Path) -> None:
    with pytest.raises(ModelLoadError) as caught:
        LocalModel(chat_gguf, n_ctx=4096).load()
    error = caught.value
    assert (error.reason, error.n_ctx, error.n_ctx_train) == ("context_too_large", 4096, 1024)
    assert "larger than the model's context of 1024" in str(error)


def test_bad_arguments_are_refused_at_construction(chat_gguf: Path) -> None:
    with pytest.raises(ValueError, match="positive"):
        LocalModel(chat_gguf, n_ctx=0)
    with pytest.raises(ValueError, match="n_ctx as LocalModel arguments"):
        LocalModel(chat_gguf, options={"n_ctx": 64})


def test_load_error_is_an_atoll_error_that_pickles(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as caught:
        LocalModel(tmp_path / "x.gguf", n_ctx=8).load()
    error = caught.value
    assert isinstance(error, AtollError)
    assert type(error).__module__ == "atoll_local"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.reason, copy.detail, copy.n_ctx) == (
        error.path,
        error.reason,
        error.detail,
        error.n_ctx,
    )


@pytest.mark.anyio
async def test_aload_runs_off_the_loop(chat_gguf: Path) -> None:
    async with LocalModel(chat_gguf, n_ctx=128) as model:
        assert model.loaded and model.report is not None
        assert await model.aload() is model.report
    assert not model.loaded


@pytest.mark.anyio
async def test_transport_loads_on_first_request_and_reports_failure(
    chat_gguf: Path, tmp_path: Path
) -> None:
    lazy = LocalModel(chat_gguf, n_ctx=128)
    broken = LocalModel(tmp_path / "gone.gguf")
    transport = LocalTransport({"lazy": lazy, "broken": broken})
    async with transport:
        async with Client("local/lazy", transport=transport) as client:
            reply = await client.chat("hi", max_tokens=3, seed=1)
        assert lazy.loaded and reply.usage is not None and reply.usage.output_tokens == 3
        async with Client("local/broken", transport=transport) as client:
            with pytest.raises(ModelLoadError) as caught:
                await client.chat("hi", max_tokens=3)
        assert caught.value.reason == "missing"
    assert not lazy.loaded  # the transport owned it


@pytest.mark.anyio
async def test_transport_aload_reports_every_model(chat_gguf: Path, embed_gguf: Path) -> None:
    transport = LocalTransport(
        {"chat": LocalModel(chat_gguf, n_ctx=128), "emb": LocalModel(embed_gguf, embedding=True)}
    )
    async with transport:
        reports = await transport.aload()
    assert sorted(reports) == ["chat", "emb"]
    assert reports["emb"].embedding and reports["emb"].name == "atoll-tiny-embed"
