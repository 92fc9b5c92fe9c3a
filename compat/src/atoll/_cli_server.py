"""``atoll serve``, ``atoll record`` and ``atoll replay``: atoll_testing's server as a process.

Each prints ``atoll <command>: serving on http://HOST:PORT/v1 (Ctrl+C to stop)`` once the port
is bound (with ``--port 0``, read the address from that line) and stops cleanly, exit status 0,
on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from types import FrameType

from atoll_testing import FakeLLMServer, Recorder, Script

from . import _cli_errors as errors


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _serve(command: str, server: FakeLLMServer, note: str = "") -> int:
    server.start()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    try:
        print(f"atoll {command}: serving on {server.base_url} (Ctrl+C to stop){note}", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return errors.OK


def _scripts(items: list[str]) -> dict[str, Script]:
    models: dict[str, Script] = {}
    for item in items:
        name, eq, path = item.partition("=")
        if not eq or not name or not path:
            raise ValueError(f"--script takes MODEL=FILE, got {item!r}")
        models[name] = Script.from_file(path)
    return models


def _existing(paths: list[str]) -> list[str]:
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"no such file or folder: {path}")
    return paths


def run_serve(args: argparse.Namespace) -> int:
    """Serve the fake server with optional scripts and cases."""
    server = FakeLLMServer(
        models=_scripts(args.script),
        api_key=args.api_key,
        cases=_existing(args.cases) or None,
        host=args.host,
        port=args.port,
    )
    return _serve("serve", server)


def run_record(args: argparse.Namespace) -> int:
    """Proxy to the upstream and record every exchange as a case."""
    if not args.upstream.startswith(("http://", "https://")):
        raise ValueError(f"--upstream must be an http(s) URL, got {args.upstream!r}")
    recorder = Recorder(args.upstream, args.dir, provider=args.provider)
    server = FakeLLMServer(recorder=recorder, host=args.host, port=args.port)
    return _serve("record", server, f"; recording into {Path(args.dir).resolve()}")


def run_replay(args: argparse.Namespace) -> int:
    """Serve recorded case files (each answers the model named like its file)."""
    server = FakeLLMServer(
        cases=_existing(args.cases), api_key=args.api_key, host=args.host, port=args.port
    )
    names = ", ".join(sorted(server.cases)) or "none"
    return _serve("replay", server, f"; cases: {names}")
