"""Start the atoll_testing server in its own process, so the client under test owns its CPU."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

_SERVE = """
from atoll_testing import FakeLLMServer
server = FakeLLMServer(log_limit=100)
server.start()
print(server.url, flush=True)
server.serve_forever()
"""


@contextlib.contextmanager
def fake_server_process() -> Iterator[str]:
    """Yield ``http://127.0.0.1:<port>`` of a FakeLLMServer running in a child process."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"fake server did not start: {url!r}")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
