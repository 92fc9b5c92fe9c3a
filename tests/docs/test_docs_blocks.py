"""Every fenced code block of README.md and docs/ is run (Python) or checked (the rest).

One test per block, named ``page:line`` (the line of the opening fence). Python blocks run in a
child process of their own, in an empty working directory, with no provider keys and a registry
pointing every provider at a closed loopback port; async ones (top-level ``await``, or their own
``anyio.run``) run on asyncio and on trio. Markers (an HTML comment before the fence, see
tests/docs/_blocks.py and docs/development.md) say what else a block needs: ``provider`` runs
it against the local server with keys set (tests/docs/_provider.py), ``continue`` runs it after
the page's previous Python block, ``otlp`` gives it an OTLP collector on loopback, and
``not-run: reason`` shows it without running it (reported as a skip with the reason, after a
syntax check).
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from atoll_testing import (
    AzureOpenAIServer,
    BatchControl,
    FakeLLMServer,
    GeminiServer,
    registered_server_dialects,
)

from tests.docs._blocks import PARSE, RUN, SHELL, SHOWN, Block, MarkerError, collect, program
from tests.docs._otlp import Receiver, receiver
from tests.docs._provider import (
    CLOSED_URL,
    DUMMY_KEY,
    docs_model,
    key_variables,
    model_names,
    registry_override,
    rewrite_urls,
)

ROOT = Path(__file__).resolve().parents[2]
CLOSED_PROXY = CLOSED_URL.removesuffix("/v1")
RUNNER = Path(__file__).with_name("_runner.py")
BLOCKS = collect(ROOT)
TIMEOUT = 100  # seconds for one block; the suite's per-test timeout is 120
# Variables a developer's shell may hold that must not reach a documentation block.
_PRIVATE = re.compile(
    r"(_API_KEY|_TOKEN|_SECRET)$|^(OPENAI|ANTHROPIC|ATOLL|OTEL)_|_proxy$|_PROXY$", re.IGNORECASE
)


def _is_async(block: Block, source: str) -> bool:
    if "anyio.run(" in source:
        return True
    try:
        compile(source, block.page, "exec")
    except SyntaxError:
        return True  # top-level await (or a syntax error, which the test reports)
    return False


def _params() -> Iterator[object]:
    pages: dict[str, list[Block]] = {}
    for block in BLOCKS:
        pages.setdefault(block.page, []).append(block)
    for block in BLOCKS:
        if block.lang in SHOWN:
            continue
        backends = ["none"]
        if block.lang in RUN and "not-run" not in block.marks and not block.error:
            try:
                source, _ = program(block, pages[block.page])
            except MarkerError:
                source = block.code
            if _is_async(block, source):
                backends = ["asyncio", "trio"]
        for backend in backends:
            suffix = "" if backend == "none" else f"[{backend}]"
            yield pytest.param(block, pages[block.page], backend, id=block.id + suffix)


@pytest.fixture(scope="module")
def docs_server() -> Iterator[FakeLLMServer]:
    # Beside the built-in dialects, the ones the pages' providers speak: Gemini, Azure OpenAI
    # and the two batch APIs (batches run at once: a page's job ends on its first look).
    dialects = [
        *registered_server_dialects(),
        GeminiServer(require_signatures=False),
        AzureOpenAIServer(),
        *BatchControl().dialects(),
    ]
    with FakeLLMServer(dialects=dialects).run_in_thread() as srv:
        yield srv


@pytest.fixture(scope="module")
def collector() -> Iterator[Receiver]:
    with receiver() as otlp:
        yield otlp


@pytest.fixture(scope="module")
def registries(tmp_path_factory: pytest.TempPathFactory, docs_server: FakeLLMServer) -> dict:
    folder = tmp_path_factory.mktemp("registries")
    return {
        "closed": registry_override(folder / "closed.json", CLOSED_URL),
        "provider": registry_override(folder / "provider.json", docs_server.base_url),
    }


def _environment(home: Path, registry: Path, provider: FakeLLMServer | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not _PRIVATE.search(k)}
    env.update(
        HOME=str(home),
        ATOLL_REGISTRY=str(registry),
        ATOLL_PREFERENCES=str(home / "preferences.json"),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        MPLBACKEND="Agg",
        HTTP_PROXY=CLOSED_PROXY,
        HTTPS_PROXY=CLOSED_PROXY,
        ALL_PROXY=CLOSED_PROXY,
        NO_PROXY="127.0.0.1,localhost,::1",
    )
    if provider is not None:
        env.update(dict.fromkeys(key_variables(), DUMMY_KEY))
        env.update(OPENAI_BASE_URL=provider.base_url, ANTHROPIC_BASE_URL=provider.url)
    return env


def _run_python(
    block: Block,
    page_blocks: list[Block],
    backend: str,
    work: Path,
    registries: dict[str, Path],
    server: FakeLLMServer,
    collector: Receiver,
) -> None:
    source, chain = program(block, page_blocks)
    if any("not-run" in b.marks for b in chain):
        pytest.fail(f"{block.id}: continues a not-run block ({chain[0].id})")
    provider = any("provider" in b.marks for b in chain)
    otlp = any("otlp" in b.marks for b in chain)
    if provider:
        source = rewrite_urls(source, server.url)
        server.clear()
        server.models.update(dict.fromkeys(model_names(source), docs_model))
    script = work / "_block.py"
    script.write_text(source, encoding="utf-8")
    env = _environment(
        work, registries["provider" if provider else "closed"], server if provider else None
    )
    if otlp:
        collector.clear()
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.url
    cmd = [sys.executable, "-W", "error", str(RUNNER), block.page, str(script), backend]
    try:
        done = subprocess.run(
            cmd, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"{block.id}: still running after {TIMEOUT} s\n{exc.stdout or ''}{exc.stderr or ''}"
        )
    if done.returncode != 0:
        where = "" if len(chain) == 1 else f" (run with {', '.join(b.id for b in chain[:-1])})"
        pytest.fail(
            f"{block.id}{where} failed with exit status {done.returncode}\n"
            f"--- stderr ---\n{done.stderr[-6000:]}\n--- stdout ---\n{done.stdout[-2000:]}",
            pytrace=False,
        )
    if otlp:
        genai = [
            name for name, attributes in collector.spans if "gen_ai.operation.name" in attributes
        ]
        assert genai, f"{block.id} is marked 'otlp' but exported no GenAI span: {collector.spans}"
    if provider:
        assert server.requests, (
            f"{block.id} is marked 'provider' but sent nothing to the local server: drop the mark"
        )


def _parse(block: Block) -> None:
    if block.lang == "json":
        json.loads(block.code)
    elif block.lang == "toml":
        tomllib.loads(block.code)
    else:
        yaml.safe_load(block.code)


@pytest.mark.parametrize(("block", "page_blocks", "backend"), list(_params()))
def test_docs_block(
    block: Block,
    page_blocks: list[Block],
    backend: str,
    tmp_path: Path,
    registries: dict[str, Path],
    docs_server: FakeLLMServer,
    collector: Receiver,
) -> None:
    if block.error:
        pytest.fail(f"{block.id}: {block.error}", pytrace=False)
    not_run = "not-run" in block.marks
    if block.lang in RUN:
        if not_run:
            compile(block.code, block.page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
            pytest.skip(f"{block.id} not run: {block.reason}")
        _run_python(block, page_blocks, backend, tmp_path, registries, docs_server, collector)
    elif block.lang in PARSE:
        if not_run:
            pytest.skip(f"{block.id} not run: {block.reason}")
        _parse(block)
    elif block.lang in SHELL:
        if not not_run:
            pytest.fail(
                f"{block.id}: a shell block is not run; mark it "
                "<!-- docs-test: not-run: why --> (see docs/development.md)",
                pytrace=False,
            )
        subprocess.run(["bash", "-n"], input=block.code, text=True, check=True)
        pytest.skip(f"{block.id} not run: {block.reason}")
    else:
        pytest.fail(
            f"{block.id}: a fenced block needs a language: python (run), json/toml/yaml "
            f"(parsed), bash (marked not-run) or text (shown); got {block.lang or 'none'!r}",
            pytrace=False,
        )
