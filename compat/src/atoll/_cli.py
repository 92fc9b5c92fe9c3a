"""The ``atoll`` command line: ``atoll demo [--model NAME] [--calls N]``, ``atoll trace FILE``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import anyio
from atoll_dialects import AtollError
from atoll_registry import RegistryError

from ._trace import add_trace_command, run_trace


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``atoll`` command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="atoll", description="Atoll, a layered LLM stack.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the main job end to end")
    demo.add_argument(
        "--model",
        default=None,
        help="a registry name (e.g. openai/gpt-4o-mini) to run against that provider; "
        "default: the built-in local server, no keys needed",
    )
    demo.add_argument("--calls", type=int, default=None, help="batch size")
    add_trace_command(commands)
    args = parser.parse_args(argv)
    if args.command == "trace":
        return run_trace(args)
    from ._demo import run_demo  # imported late: `atoll --help` stays fast

    try:
        return anyio.run(run_demo, args.model, args.calls)
    except (AtollError, RegistryError) as error:
        print(f"atoll demo: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
