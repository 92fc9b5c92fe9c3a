"""`atoll demo` runs the main job end to end against the local server."""

from __future__ import annotations

import io
import re
import subprocess
import sys

import pytest
from atoll._demo import run_demo

pytestmark = pytest.mark.anyio


async def test_demo_shows_every_step_and_retries_the_injected_faults() -> None:
    out = io.StringIO()
    code = await run_demo(calls=100, out=out)
    text = out.getvalue()
    assert code == 0, text
    assert "Tarawa (Kiribati)" in text
    assert re.search(r"cost: \$0\.0000\d+", text), "the chat shows a real registry price"
    assert "coral reef" in text
    assert "rejected, told the model why" in text and "'six' is not of type 'integer'" in text
    assert "The tide table says: high tide at Tarawa in 6 h" in text
    summary = re.search(r"(\d+) calls in .* · (\d+) failed · (\d+) failures retried", text)
    assert summary is not None, text
    assert summary.groups() == ("100", "0", summary.group(3))
    assert int(summary.group(3)) >= 4 + 2  # 100 // 25 overloads and 100 // 50 rate limits


def test_cli_help_and_bad_model() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "atoll", "demo", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "--model" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "atoll", "demo", "--model", "nosuchprovider/x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "nosuchprovider" in done.stderr
    assert "Traceback" not in done.stderr, "a bad model name is a clear message, not a crash"


def test_demo_faults_never_come_back_to_back() -> None:
    # Issue 24: with the faults injected in a row, `--calls 20000` failed 285 calls. Each batch
    # call is now faulted at most once, so its retry always succeeds.
    from atoll._demo_model import DemoModel, faults_for
    from atoll_testing import ChatInput

    model = DemoModel()
    faulted = 0
    for n in range(20_000):
        request = ChatInput(
            dialect="openai", model="gpt-4o-mini", last_user_text=f"Fact #{n} about atolls, please."
        )
        first = model(request)
        if first.fault is not None:
            faulted += 1
            assert model(request).fault is None, f"call {n} faulted twice"
    assert faulted == sum(faults_for(20_000)) == 800 + 400


@pytest.mark.slow
def test_demo_with_20000_calls_passes() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "atoll", "demo", "--calls", "20000"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"20000 calls in .* · 0 failed · 1200 failures retried", done.stdout)
