"""Start-up errors come at once, clearly, with their cause (issue 24, item 12)."""

from __future__ import annotations

import pickle
import socket
import subprocess
import sys
import time

import pytest
from atoll_testing import FakeLLMServer, ServerStartError


@pytest.mark.parametrize("port", [70000, -1, 65536])
def test_a_port_out_of_range_is_refused_at_once(port: int) -> None:
    start = time.perf_counter()
    with pytest.raises(ServerStartError, match="from 0 to 65535") as info:
        FakeLLMServer(port=port)
    assert time.perf_counter() - start < 1
    assert (info.value.host, info.value.port) == ("127.0.0.1", port)
    assert pickle.loads(pickle.dumps(info.value)).port == port


def test_a_start_failure_raises_at_once_with_its_cause() -> None:
    server = FakeLLMServer(host="127.0.0.1\x00")  # not an address: the bind step itself fails
    start = time.perf_counter()
    with pytest.raises(ServerStartError, match="ValueError: embedded null character") as info:
        server.start()
    assert time.perf_counter() - start < 2
    assert isinstance(info.value.__cause__, ValueError)
    assert "None" not in str(info.value)
    # The failed start left nothing behind: the same object can start once fixed.
    server.host = "127.0.0.1"
    server.start()
    try:
        assert server.port
    finally:
        server.stop()


def test_a_busy_port_names_the_os_error() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ServerStartError, match="in use") as info:
            FakeLLMServer(port=port).start()
    assert isinstance(info.value.__cause__, OSError)
    assert info.value.port == port


def test_starting_twice_is_an_error() -> None:
    with FakeLLMServer().run_in_thread() as srv:
        with pytest.raises(ServerStartError, match="already started"):
            srv.start()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atoll_testing", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--record-dir", "cases"], "--record-dir"),
        (["--provider", "openai"], "--provider"),
        (["--record-dir", "cases", "--provider", "x"], "--record-dir and --provider"),
    ],
)
def test_cli_recording_options_need_an_upstream(args: list[str], named: str) -> None:
    done = _cli(*args)
    assert done.returncode == 2  # a usage error, before anything is served
    assert f"{named} only apply with --record-upstream" in done.stderr
    assert done.stderr.startswith("usage:")
    assert done.stdout == ""


def test_cli_port_out_of_range_is_an_error_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "atoll_testing", "serve", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: port must be an integer from 0 to 65535, got 70000")
    assert "Traceback" not in done.stderr
