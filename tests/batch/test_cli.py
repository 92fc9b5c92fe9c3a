"""``atoll batch --provider-batch`` and ``--resume``, run as the command a user types."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from atoll_testing import BatchControl, FakeLLMServer

from .conftest import KEY, MODELS, base_url


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Keys for the local server, private preferences, nothing else from this environment."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and k not in ("ATOLL_REGISTRY", "ATOLL_DEBUG")
    }
    keys = {"OPENAI_API_KEY": KEY, "ANTHROPIC_API_KEY": KEY}
    return {**base, **keys, "ATOLL_PREFERENCES": str(tmp_path / "prefs.json")}


def atoll(args: Sequence[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atoll", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
        check=False,
    )


def _prompts(path: Path) -> None:
    lines: list[Any] = [{"prompt": "first question", "id": "q-1"}, "second", "bad third", ""]
    path.write_text("\n".join(json.dumps(x) if x else "" for x in lines) + "\n")


def test_submit_then_resume(
    server: FakeLLMServer,
    control: BatchControl,
    provider: str,
    env: dict[str, str],
    tmp_path: Path,
) -> None:
    source = tmp_path / "prompts.jsonl"
    _prompts(source)
    record = tmp_path / "job.json"
    control.duration = None  # the job waits at the provider until the test lets it run
    submitted = atoll(
        [
            "batch",
            str(source),
            "-m",
            MODELS[provider][0],
            "--base-url",
            base_url(server, provider),
            "--provider-batch",
            "--record",
            str(record),
            "--max-tokens",
            "50",
        ],
        env,
    )
    assert submitted.returncode == 0, submitted.stderr
    job_id = json.loads(record.read_text())["job_id"]
    assert submitted.stdout == f"{job_id}\n"
    assert f"atoll batch --resume {record}" in submitted.stderr
    assert "3 prompts in 1 batch" in submitted.stderr
    assert len(control.batch_ids()) == 1
    control.finish()
    done = atoll(["batch", "--resume", str(record), "--poll", "0.05"], env)
    assert done.returncode == 1, done.stderr  # one prompt was refused
    output = tmp_path / "job.out.jsonl"
    results = {r["line"]: r for r in map(json.loads, output.read_text().splitlines())}
    assert set(results) == {1, 2, 3}
    assert results[1]["id"] == "q-1" and results[1]["text"] == "re: first question"
    assert results[1]["cost"] is not None and results[1]["error"] is None
    assert results[3]["error"]["type"] == "BadRequestError"
    assert results[3]["error"]["outcome"] == "errored"
    assert f"job {job_id} completed: 2 of 3 answered, 1 not" in done.stderr
    assert "at the batch price" in done.stderr and "completed · 3/3 done" in done.stderr
    again = atoll(["batch", "--resume", str(record), "-o", str(tmp_path / "again.jsonl")], env)
    assert again.returncode == 1 and len(control.batch_ids()) == 1  # nothing submitted twice
    assert KEY not in record.read_text() + done.stderr + submitted.stderr


@pytest.mark.parametrize("provider", ["openai"])
def test_refusals(
    server: FakeLLMServer, provider: str, env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "p.jsonl"
    _prompts(source)
    record = tmp_path / "job.json"
    common = ["-m", MODELS[provider][0], "--base-url", base_url(server, provider)]
    first = atoll(["batch", str(source), *common, "--provider-batch", "--record", str(record)], env)
    assert first.returncode == 0, first.stderr
    twice = atoll(["batch", str(source), *common, "--provider-batch", "--record", str(record)], env)
    assert twice.returncode == 3 and "exists here already" in twice.stderr
    usage = [
        ["batch", "--resume", str(record), str(source)],
        ["batch", str(source), "--provider-batch"],
        ["batch"],
    ]
    for args in usage:
        refused = atoll(args, env)
        assert refused.returncode == 2 and "atoll batch: error:" in refused.stderr, args
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]")
    bad = atoll(["batch", "--resume", str(junk)], env)
    assert bad.returncode == 3 and "not an atoll batch job record" in bad.stderr
