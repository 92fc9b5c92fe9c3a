"""Shared pytest setup: every async test runs on asyncio and on trio."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each ``@pytest.mark.anyio`` test once per backend."""
    return request.param


@pytest.fixture
def corpus_dir() -> Path:
    """The shared corpus of recorded provider responses; skips when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}; conformance tests need ../shared/corpus")
    return CORPUS
