"""Tiny GGUF models, written once per session, and models loaded from them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from atoll_local import LocalModel

from ._tiny_gguf import write_chat_model, write_embedding_model


@pytest.fixture(scope="session")
def chat_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny chat model file (random weights, ChatML template with Hermes tools)."""
    return write_chat_model(tmp_path_factory.mktemp("gguf") / "tiny-chat.gguf")


@pytest.fixture(scope="session")
def embed_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny embedding model file (mean pooling)."""
    return write_embedding_model(tmp_path_factory.mktemp("gguf") / "tiny-embed.gguf")


@pytest.fixture(scope="session")
def chat_model(chat_gguf: Path) -> Iterator[LocalModel]:
    """One loaded chat model shared by the session (its worker serves asyncio and trio tests)."""
    model = LocalModel(chat_gguf, n_ctx=1024)
    model.load()
    yield model
    model.close()


@pytest.fixture(scope="session")
def embed_model(embed_gguf: Path) -> Iterator[LocalModel]:
    """One loaded embedding model shared by the session."""
    model = LocalModel(embed_gguf, n_ctx=256, embedding=True)
    model.load()
    yield model
    model.close()
