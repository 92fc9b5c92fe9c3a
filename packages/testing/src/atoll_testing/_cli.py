"""``python -m atoll_testing serve --port 8787``: run the fake server as a process."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._exceptions import AtollTestingError
from ._recorder import Recorder
from ._script import Script
from ._server import FakeLLMServer, Model


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m atoll_testing", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve OpenAI and Anthropic endpoints until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8787, help="port to bind (0: any free port)")
    serve.add_argument(
        "--api-key",
        default=None,
        help="require this key, in each dialect's own header (Bearer for OpenAI, x-api-key for "
        "Anthropic)",
    )
    serve.add_argument(
        "--script",
        action="append",
        default=[],
        metavar="MODEL=FILE",
        help="serve a JSON script file as MODEL (repeatable)",
    )
    serve.add_argument("--cases", action="append", default=[], help="case file or folder to replay")
    serve.add_argument("--record-upstream", default=None, help="proxy to this base URL and record")
    serve.add_argument(
        "--record-dir",
        default=None,
        help="where recorded cases go (with --record-upstream; default ./recorded)",
    )
    serve.add_argument(
        "--provider",
        default=None,
        help="provider name in recorded cases (with --record-upstream; default 'unknown')",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.record_upstream:
        # Recording options without an upstream would be silently ignored: say so instead.
        options = (("--record-dir", args.record_dir), ("--provider", args.provider))
        given = [flag for flag, value in options if value is not None]
        if given:
            parser.error(f"{' and '.join(given)} only apply with --record-upstream")
    try:
        models: dict[str, Model] = {}
        for item in args.script:
            name, eq, path = str(item).partition("=")
            if not eq or not name:
                print(f"--script needs MODEL=FILE, got {item!r}", file=sys.stderr)
                return 2
            models[name] = Script.from_file(path)
        recorder = None
        if args.record_upstream:
            recorder = Recorder(
                args.record_upstream,
                args.record_dir or "recorded",
                provider=args.provider or "unknown",
            )
        server = FakeLLMServer(
            models=models,
            api_key=args.api_key,
            cases=args.cases or None,
            recorder=recorder,
            host=args.host,
            port=args.port,
        )
        server.start()
    except AtollTestingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # SIGTERM (kill, process managers, Popen.terminate) stops as cleanly as Ctrl+C does.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if in_main else None
    try:
        print(f"atoll_testing serving on {server.base_url} (Ctrl+C to stop)", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    return 0


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
