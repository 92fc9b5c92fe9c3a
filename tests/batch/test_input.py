"""Bad input is refused before anything is written or sent, naming the request's id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from atoll_dialects import (
    BatchClient,
    BatchRequestError,
    CapabilityError,
    InvalidOptionError,
    OpenAIChatDialect,
    UnsupportedRequestError,
    register_dialect,
    unregister_dialect,
)
from atoll_dialects._anthropic_batch import AnthropicBatchAPI
from atoll_dialects._openai_batch import OpenAIBatchAPI
from atoll_testing import FakeLLMServer
from atoll_wire import AudioPart, Message, TextPart

from .conftest import KEY, MODELS, MakeClient, wait

pytestmark = pytest.mark.anyio


def _nothing_sent(server: FakeLLMServer, folder: Path) -> None:
    assert server.requests == []
    assert list(folder.iterdir()) == []  # no record, no request files left behind


async def test_a_request_the_model_cannot_serve_is_refused_by_id(
    make_client: MakeClient, server: FakeLLMServer, tmp_path: Path
) -> None:
    audio = Message(
        role="user", parts=[TextPart(text="hear"), AudioPart(data=b"RIFF", media_type="audio/wav")]
    )
    async with make_client() as batch:
        with pytest.raises(BatchRequestError) as caught:
            await batch.submit({"ok": "fine", "sound": [audio]}, record=tmp_path / "job.json")
    error = caught.value
    assert error.custom_id == "sound" and "audio" in str(error)
    assert isinstance(error.__cause__, CapabilityError)
    assert isinstance(error, UnsupportedRequestError)  # caught like any refused request
    _nothing_sent(server, tmp_path)


async def test_ids_must_be_unique_strings(
    make_client: MakeClient, server: FakeLLMServer, tmp_path: Path, provider: str
) -> None:
    async with make_client() as batch:
        with pytest.raises(BatchRequestError, match="used twice") as twice:
            await batch.submit([("a", "x"), ("b", "y"), ("a", "z")], record=tmp_path / "j")
        assert twice.value.custom_id == "a"
        with pytest.raises(BatchRequestError, match="must be a string"):
            await batch.submit([(7, "x")], record=tmp_path / "j")  # type: ignore[list-item]
        with pytest.raises(BatchRequestError, match=r"must not be empty|1 to 64"):
            await batch.submit({"": "x"}, record=tmp_path / "j")
        if provider == "anthropic":  # Message Batches: 1 to 64 of [a-zA-Z0-9_-]
            for bad in ("has space", "x" * 65, "ünï"):
                with pytest.raises(BatchRequestError, match="1 to 64") as caught:
                    await batch.submit({bad: "x"}, record=tmp_path / "j")
                assert caught.value.custom_id == bad
    _nothing_sent(server, tmp_path)


async def test_options_and_sizes_are_checked_first(
    make_client: MakeClient, server: FakeLLMServer, tmp_path: Path
) -> None:
    async with make_client(max_bytes=400) as batch:
        with pytest.raises(BatchRequestError, match="over the 400-byte limit") as big:
            await batch.submit({"small": "x", "big": "y " * 300}, record=tmp_path / "j")
        assert big.value.custom_id == "big"
        with pytest.raises(InvalidOptionError) as option:
            await batch.submit({"a": "x"}, record=tmp_path / "j", temperature="hot")  # type: ignore[arg-type]
        assert option.value.option == "temperature"
        with pytest.raises(BatchRequestError, match="default_headers"):
            await batch.submit({"a": "x"}, record=tmp_path / "j", extra_headers={"x-a": "1"})
        with pytest.raises(InvalidOptionError, match="at least one request"):
            await batch.submit({}, record=tmp_path / "j")
        with pytest.raises(InvalidOptionError, match="job_metadata"):
            await batch.submit({"a": "x"}, record=tmp_path / "j", job_metadata={"atoll_job": "x"})
        with pytest.raises(InvalidOptionError, match="job_metadata"):
            many = {str(i): "v" for i in range(15)}
            await batch.submit({"a": "x"}, record=tmp_path / "j", job_metadata=many)
    _nothing_sent(server, tmp_path)


async def test_client_settings_are_checked(server: FakeLLMServer, provider: str) -> None:
    name = MODELS[provider][0]
    limit = OpenAIBatchAPI.max_requests if provider == "openai" else AnthropicBatchAPI.max_requests
    for bad in ({"max_requests": 0}, {"max_requests": limit + 1}, {"max_bytes": True}):
        with pytest.raises(InvalidOptionError):
            BatchClient(name, api_key=KEY, **bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidOptionError, match="one model name"):
        BatchClient([name, name], api_key=KEY)  # type: ignore[arg-type]
    async with BatchClient(name, api_key=KEY) as batch:
        assert batch.target.label == name and KEY not in repr(batch)
        assert f"api={provider!r}" in repr(batch)


def test_the_documented_limits() -> None:
    # platform.openai.com: 50,000 requests and 200 MB an input file; docs.anthropic.com:
    # 100,000 requests or 256 MB a Message Batch (MB read as 10**6 bytes, the stricter).
    assert (OpenAIBatchAPI.max_requests, OpenAIBatchAPI.max_bytes) == (50_000, 200_000_000)
    assert (AnthropicBatchAPI.max_requests, AnthropicBatchAPI.max_bytes) == (100_000, 256_000_000)


class _ToyDialect(OpenAIChatDialect):
    name = "toy-chat-for-batch-tests"


@pytest.fixture
def toy() -> Iterator[str]:
    register_dialect(_ToyDialect())
    try:
        yield _ToyDialect.name
    finally:
        unregister_dialect(_ToyDialect.name)


def test_a_dialect_without_a_batch_api_is_refused(toy: str) -> None:
    with pytest.raises(UnsupportedRequestError, match="has no batch API here") as caught:
        BatchClient("m", base_url="http://127.0.0.1:9/v1", dialect=toy)
    assert "anthropic-messages, openai-chat" in str(caught.value)


async def test_records_go_to_the_default_folder(
    make_client: MakeClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATOLL_BATCH_DIR", str(tmp_path / "jobs"))
    async with make_client() as batch:
        job = await batch.submit({"a": "x"})
        assert job.path == tmp_path / "jobs" / f"{job.id}.json"
        assert (await wait(job)).state == "completed"
