"""Every ``atoll`` command run as a subprocess: its output and its exit status."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest
from atoll_registry import Registry
from atoll_testing import FakeLLMServer, Turn

COMMANDS = ["chat", "models", "cost", "serve", "record", "replay", "batch", "bench", "demo"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A clean environment: no keys, private preferences, no registry override."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith("_API_KEY") and k not in ("ATOLL_REGISTRY", "ATOLL_DEBUG")
    }
    return {**base, "ATOLL_PREFERENCES": str(tmp_path / "prefs.json"), "PYTHONUNBUFFERED": "1"}


def atoll(
    args: Sequence[str], env: dict[str, str], stdin: str = "", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "atoll", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def one_line_error(done: subprocess.CompletedProcess[str], command: str) -> str:
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in lines if line.startswith(f"atoll {command}: error: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------ help and usage


@pytest.mark.parametrize("command", COMMANDS)
def test_help_on_every_command(command: str, env: dict[str, str]) -> None:
    done = atoll([command, "--help"], env)
    assert done.returncode == 0
    assert done.stdout.startswith(f"usage: atoll {command}")


def test_top_level_help_and_no_command(env: dict[str, str]) -> None:
    done = atoll(["--help"], env)
    assert done.returncode == 0
    for command in COMMANDS:
        assert command in done.stdout
    assert "Exit status" in done.stdout
    assert atoll([], env).returncode == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--calls", "0"], "must be at least 1, got 0"),
        (["demo", "--calls", "-5"], "must be at least 1, got -5"),
        (["demo", "--calls", "many"], "'many' is not a whole number"),
        (["serve", "--port", "70000"], "a port is at most 65535"),
        (["batch", "x.jsonl", "-m", "gpt4om", "--concurrency", "0"], "must be at least 1"),
        (["cost", "-m", "gpt-4o", "--input", "-1", "--output", "1"], "must be at least 0"),
        (["chat", "--timeout", "nan", "hi"], "must be a positive number"),
    ],
)
def test_arguments_are_validated(args: list[str], message: str, env: dict[str, str]) -> None:
    done = atoll(args, env)
    assert done.returncode == 2
    assert message in done.stderr


# ------------------------------------------------------------------ chat


@pytest.fixture(scope="module")
def chat_server() -> Iterator[FakeLLMServer]:
    def model(request: object) -> Turn:
        from atoll_testing import ChatInput

        assert isinstance(request, ChatInput)
        return Turn(text=f"reply to: {request.last_user_text}")

    with FakeLLMServer(models={"gpt-4o-mini": model}).run_in_thread() as server:
        yield server


def test_chat_streams_and_prints_usage_and_cost(
    chat_server: FakeLLMServer, env: dict[str, str]
) -> None:
    url = ["--base-url", chat_server.base_url]
    done = atoll(["chat", "-m", "gpt-4o-mini", *url, "Name", "three", "atolls"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "reply to: Name three atolls\n"
    assert "[openai/gpt-4o-mini:" in done.stderr and "cost $0.00000" in done.stderr
    piped = atoll(["chat", "-m", "gpt-4o-mini", *url], env, stdin="from a pipe\n")
    assert piped.returncode == 0 and piped.stdout == "reply to: from a pipe\n"
    empty = atoll(["chat", "-m", "gpt-4o-mini", *url], env, stdin="")
    assert empty.returncode == 2 and "nothing to send" in empty.stderr


def test_chat_interactive_at_a_terminal(chat_server: FakeLLMServer, env: dict[str, str]) -> None:
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atoll",
            "chat",
            "-m",
            "gpt-4o-mini",
            "--base-url",
            chat_server.base_url,
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    output = b""
    seen = 0  # markers are looked for after the previous one, so a prompt is never matched twice

    def read_until(marker: bytes) -> None:
        nonlocal output, seen
        deadline = time.monotonic() + 30
        while marker not in output[seen:]:
            left = deadline - time.monotonic()
            assert left > 0, f"waited for {marker!r}; got {output!r}"
            ready, _, _ = select.select([master], [], [], left)
            if ready:
                try:
                    output += os.read(master, 4096)
                except OSError:  # the terminal closed: the command ended
                    return
        seen = output.index(marker, seen) + len(marker)

    try:
        read_until(b"> ")
        os.write(master, b"first question\n")
        read_until(b"reply to: first question")
        read_until(b"> ")
        os.write(master, b"second one\n")
        read_until(b"reply to: second one")
        read_until(b"> ")
        os.write(master, b"\x04")  # Ctrl-D ends the conversation
        read_until(b"total [")
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)
    text = output.decode()
    assert "atoll chat with openai/gpt-4o-mini" in text
    assert "total [openai/gpt-4o-mini:" in text
    history = [r.json()["messages"] for r in chat_server.requests[-2:]]
    assert [m["role"] for m in history[-1]] == ["user", "assistant", "user"], "history is sent"


def test_chat_missing_key_names_the_variable(env: dict[str, str]) -> None:
    done = atoll(["chat", "-m", "gpt-4o-mini", "hi"], env)
    assert done.returncode == 3
    line = one_line_error(done, "chat")
    assert (
        line
        == "atoll chat: error: no API key for openai: set the environment variable OPENAI_API_KEY"
    )


def test_chat_down_server_is_one_line(env: dict[str, str]) -> None:
    port = _free_port()
    done = atoll(
        ["chat", "-m", "gpt-4o-mini", "--base-url", f"http://127.0.0.1:{port}/v1", "hi"], env
    )
    assert done.returncode == 5
    assert "cannot reach http://127.0.0.1:" in one_line_error(done, "chat")


def test_chat_provider_errors(chat_server: FakeLLMServer, env: dict[str, str]) -> None:
    done = atoll(["chat", "-m", "no-such", "--base-url", chat_server.base_url, "hi"], env)
    assert done.returncode == 6
    assert "does not exist" in one_line_error(done, "chat")
    unknown = atoll(["chat", "-m", "nosuchprovider/x", "hi"], env)
    assert unknown.returncode == 3 and "unknown provider" in one_line_error(unknown, "chat")


# ------------------------------------------------------------------ models and cost


def test_models_table_json_and_filters(env: dict[str, str]) -> None:
    done = atoll(["models", "--provider", "openai"], env)
    assert done.returncode == 0
    header, *rows = done.stdout.splitlines()
    assert header.split() == [
        "MODEL",
        "CONTEXT",
        "CAPABILITIES",
        "IN",
        "$/M",
        "OUT",
        "$/M",
        "CACHED",
        "$/M",
        "PRICE",
        "SOURCE",
    ]
    row = next(r for r in rows if r.startswith("openai/gpt-4o-mini "))
    assert "128,000" in row and "0.15" in row and "0.60" in row and "genai-prices" in row
    data = json.loads(atoll(["models", "--json", "--capability", "vision"], env).stdout)
    assert data and all("vision" in m["capabilities"] for m in data)
    registry = Registry.default()
    assert len(data) == sum(1 for m in registry.models() if m.capabilities.vision)
    anthropic = json.loads(atoll(["models", "--json", "--provider", "anthropic"], env).stdout)
    assert {m["model"].split("/")[0] for m in anthropic} == {"anthropic"}


def test_models_bad_filters(env: dict[str, str]) -> None:
    bad = atoll(["models", "--capability", "teleport"], env)
    assert bad.returncode == 2 and "unknown capability 'teleport'" in bad.stderr
    typo = atoll(["models", "--provider", "opnai"], env)
    assert typo.returncode == 3 and "did you mean 'openai'" in one_line_error(typo, "models")


def test_cost_breakdown(env: dict[str, str]) -> None:
    done = atoll(
        ["cost", "-m", "gpt-4o", "--input", "2000", "--cached", "1024", "--output", "300"], env
    )
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert lines[0].startswith("openai/gpt-4o  (prices: genai-prices")
    assert lines[1].split() == ["input", "976", "tokens", "x", "$2.50/M", "=", "$0.00244000"]
    assert lines[2].split() == [
        "cached",
        "input",
        "1,024",
        "tokens",
        "x",
        "$1.25/M",
        "=",
        "$0.00128000",
    ]
    assert lines[-1].split() == ["total", "$0.00672000"]
    data = json.loads(
        atoll(
            [
                "cost",
                "-m",
                "claude-sonnet-4-5",
                "--input",
                "13000",
                "--cached",
                "10000",
                "--cache-write",
                "2000",
                "--output",
                "500",
                "--json",
            ],
            env,
        ).stdout
    )
    assert data["total"] == "0.02100000" and data["cache_write"] == "0.00750000"


def test_cost_unknown_and_inconsistent(env: dict[str, str]) -> None:
    unknown = atoll(["cost", "-m", "openai/not-listed", "--input", "1", "--output", "1"], env)
    assert unknown.returncode == 1 and "unknown" in unknown.stderr and unknown.stdout == ""
    bad = atoll(["cost", "-m", "gpt-4o", "--input", "10", "--cached", "20", "--output", "1"], env)
    assert bad.returncode == 2 and "exceed --input" in bad.stderr


# ------------------------------------------------------------------ serve, record, replay


def _start(args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "atoll", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert "serving on http://127.0.0.1:" in line, (line, proc.stderr and proc.stderr.read())
    url = line.split("serving on ")[1].split(" ")[0]
    return proc, url


def _stop(proc: subprocess.Popen[str], how: int = signal.SIGTERM) -> int:
    proc.send_signal(how)
    code = proc.wait(20)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return code


def _chat(url: str, model: str, prompt: str) -> str:
    from atoll_dialects import SyncClient

    with SyncClient(model, base_url=url, api_key="local") as client:
        return client.chat(prompt).text


def test_serve_answers_and_stops_cleanly(env: dict[str, str]) -> None:
    proc, url = _start(["serve", "--port", "0"], env)
    assert _chat(url, "echo", "hello there") == "hello there"
    assert _stop(proc) == 0
    proc, url = _start(["serve", "--port", "0"], env)
    assert _stop(proc, signal.SIGINT) == 0


def test_serve_busy_port_is_one_line(env: dict[str, str]) -> None:
    with FakeLLMServer().run_in_thread() as taken:
        done = atoll(["serve", "--port", str(taken.port)], env)
    assert done.returncode == 3
    one_line_error(done, "serve")


def test_record_then_replay(
    chat_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    cases = tmp_path / "cases"
    proc, url = _start(
        [
            "record",
            "--port",
            "0",
            "--upstream",
            chat_server.url,
            "--dir",
            str(cases),
            "--provider",
            "openai",
        ],
        env,
    )
    assert _chat(url, "gpt-4o-mini", "remember me") == "reply to: remember me"
    assert _stop(proc) == 0
    (case,) = cases.rglob("*.json")
    proc, url = _start(["replay", "--port", "0", str(case)], env)
    assert _chat(url, case.stem, "anything") == "reply to: remember me"
    assert _stop(proc) == 0
    missing = atoll(["replay", str(tmp_path / "none")], env)
    assert missing.returncode == 3 and "no such file" in one_line_error(missing, "replay")
    bad = atoll(["record", "--upstream", "ftp://x", "--port", "0"], env)
    assert bad.returncode == 3 and "http(s) URL" in one_line_error(bad, "record")


# ------------------------------------------------------------------ batch


@pytest.fixture(scope="module")
def slow_server() -> Iterator[FakeLLMServer]:
    def model(request: object) -> Turn:
        from atoll_testing import ChatInput

        assert isinstance(request, ChatInput)
        text = request.last_user_text
        if "fail" in text:
            return Turn(text="x", fault="status=400")
        return Turn(text=f"answer: {text}", fault="delay=0.05")

    with FakeLLMServer(models={"gpt-4o-mini": model}).run_in_thread() as server:
        yield server


def _prompts(path: Path, count: int, failing: Sequence[int] = ()) -> None:
    with path.open("w") as handle:
        for n in range(count):
            text = f"fail {n}" if n in failing else f"question {n}"
            item: object = text if n % 2 else {"prompt": text, "id": f"q{n}"}
            handle.write(json.dumps(item) + "\n")
        handle.write("\n")  # a blank line is skipped


def _results(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_batch_in_input_order_with_progress_and_cost(
    slow_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "prompts.jsonl"
    _prompts(source, 30)
    done = atoll(
        [
            "batch",
            "-m",
            "gpt-4o-mini",
            "--base-url",
            slow_server.base_url,
            str(source),
            "--concurrency",
            "8",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr
    results = _results(tmp_path / "prompts.out.jsonl")
    assert [r["line"] for r in results] == list(range(1, 31))
    assert results[0]["id"] == "q0" and results[0]["text"] == "answer: question 0"
    assert all(r["error"] is None and r["cost"] for r in results)
    assert "30/30 done · 0 failed" in done.stderr and "in flight" in done.stderr
    assert "calls/s · $0.0" in done.stderr
    assert "30 of 30 lines answered" in done.stderr


def test_batch_resumes_after_ctrl_c(
    slow_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "big.jsonl"
    output = tmp_path / "out.jsonl"
    _prompts(source, 120)
    slow_server.clear()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atoll",
            "batch",
            "-m",
            "gpt-4o-mini",
            "--base-url",
            slow_server.base_url,
            str(source),
            "-o",
            str(output),
            "--concurrency",
            "4",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 30
    while (
        not output.exists() or len(output.read_text().splitlines()) < 10
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "interrupted; run the same command again to resume" in stderr
    first = _results(output)
    lines = [r["line"] for r in first]
    assert lines == sorted(lines) and 10 <= len(lines) < 120
    sent_first = slow_server.counts["gpt-4o-mini"]
    again = atoll(
        [
            "batch",
            "-m",
            "gpt-4o-mini",
            "--base-url",
            slow_server.base_url,
            str(source),
            "-o",
            str(output),
            "--concurrency",
            "8",
        ],
        env,
    )
    assert again.returncode == 0, again.stderr
    assert f"resuming: {len(first)} of 120 lines already in" in again.stderr
    final = _results(output)
    assert [r["line"] for r in final] == list(range(1, 121))
    resent = slow_server.counts["gpt-4o-mini"] - sent_first
    assert resent <= 120 - len(first) + 4, "only unfinished lines (and those in flight) run again"


def test_batch_failed_lines_and_bad_input(
    slow_server: FakeLLMServer, env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "some.jsonl"
    _prompts(source, 6, failing=[2, 4])
    args = ["batch", "-m", "gpt-4o-mini", "--base-url", slow_server.base_url, str(source)]
    done = atoll(args, env)
    assert done.returncode == 1
    results = _results(tmp_path / "some.out.jsonl")
    assert [r["line"] for r in results if r["error"]] == [3, 5]
    assert results[2]["error"]["type"] == "BadRequestError"  # type: ignore[index]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('"fine"\n{"no prompt": 1}\n')
    broken = atoll(["batch", "-m", "gpt-4o-mini", str(bad)], env)
    assert broken.returncode == 3
    assert f"{bad}:2: a prompt is a JSON string" in one_line_error(broken, "batch")


# ------------------------------------------------------------------ bench and demo


@pytest.mark.slow
def test_bench_prints_ratios(env: dict[str, str]) -> None:
    done = atoll(["bench", "--calls", "40", "--streams", "4", "--events", "10"], env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[1].split()[:3] == ["contender", "calls/s", "x"]
    baseline = next(line for line in lines if line.startswith("raw httpx (baseline)")).split()
    assert baseline[-1] == baseline[-3] == "1.00"
    assert any(line.startswith("atoll Client on httpx") for line in lines)
    data = json.loads(
        atoll(["bench", "--calls", "10", "--streams", "2", "--events", "5", "--json"], env).stdout
    )
    assert data["baseline"] in data["results"]


def test_demo_runs_and_reports(env: dict[str, str]) -> None:
    done = atoll(["demo", "--calls", "60"], env)
    assert done.returncode == 0, done.stderr
    assert "60 calls in" in done.stdout and "· 0 failed ·" in done.stdout
    assert "3 x 503 and 1 x 429" in done.stdout


def test_demo_against_a_down_server_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    provider = msgspec.to_builtins(Registry.default().provider("ollama"))
    provider["base_url"] = f"http://127.0.0.1:{_free_port()}/v1"
    override = tmp_path / "down.json"
    override.write_text(json.dumps({"schema_version": 1, "providers": [provider]}))
    done = atoll(["demo", "--model", "ollama/qwen3:0.6b"], {**env, "ATOLL_REGISTRY": str(override)})
    assert done.returncode == 5
    assert one_line_error(done, "demo").startswith(
        "atoll demo: error: cannot reach http://127.0.0.1:"
    )
