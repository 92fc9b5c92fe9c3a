"""Ctrl-C during ``await ex.join()`` reaches the caller as a bare KeyboardInterrupt, any backend.

Issue 24 item 9: under trio it surfaced as ``BaseExceptionGroup([KeyboardInterrupt])``. The
signal is real (SIGINT to a child Python process), as a user's Ctrl-C is; a KeyboardInterrupt
inside the pytest process itself would stop the session.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPT = """
import os, signal, sys, threading, time
import anyio
from atoll_generic import Event, Executor

BACKEND, WORK = sys.argv[1], sys.argv[2]


class Work(Event):
    async def invoke(self) -> None:
        if WORK == "sleep":
            await anyio.sleep(30)
        elif WORK == "busy":  # the signal lands while a worker's own code runs
            end = time.monotonic() + 30
            while time.monotonic() < end:
                sum(range(1000))
                await anyio.sleep(0)
        else:  # "raise": a worker is the task the interrupt is raised in
            await anyio.sleep(0.1)
            raise KeyboardInterrupt


async def main() -> None:
    async with Executor(max_concurrency=4) as ex:
        for _ in range(8):
            await ex.submit(Work())
        if WORK != "raise":
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        await ex.join()


try:
    anyio.run(main, backend=BACKEND)
except BaseException as exc:
    print(type(exc).__name__)
else:
    print("returned")
"""


@pytest.mark.parametrize(
    ("backend", "work"),
    [
        ("asyncio", "sleep"),
        ("trio", "sleep"),
        ("asyncio", "busy"),
        ("trio", "busy"),
        ("trio", "raise"),  # on asyncio, the event loop itself re-raises it out of the task
    ],
)
def test_ctrl_c_during_join_is_a_bare_keyboard_interrupt(backend: str, work: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, backend, work],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "KeyboardInterrupt", done.stdout + done.stderr
