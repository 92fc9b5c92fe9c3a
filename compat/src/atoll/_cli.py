"""The ``atoll`` command line; ``atoll COMMAND --help`` for each command.

Commands: ``chat``, ``models``, ``cost``, ``serve``, ``record``, ``replay``, ``batch``,
``bench``, ``trace`` and ``demo``.

Every failure is one line on stderr with an exit status that says its kind (see
``_cli_errors``); arguments are checked before anything runs. Commands import what they need
when they run, so ``atoll --help`` is quick.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import _cli_errors as errors

Handler = Callable[[argparse.Namespace], int]
# argparse does not export the type of add_subparsers()'s result.
Commands = Any


def _whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    return _whole(text, 1)


def token_count(text: str) -> int:
    """An argparse type: a whole number of at least 0."""
    return _whole(text, 0)


def port_number(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free port) to 65535."""
    value = _whole(text, 0)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is at most 65535, got {value}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _run(module: str, name: str) -> Handler:
    def handler(args: argparse.Namespace) -> int:
        import importlib

        command: Handler = getattr(importlib.import_module(module, __package__), name)
        return command(args)

    return handler


def _add_chat(commands: Commands) -> None:
    chat = commands.add_parser(
        "chat",
        help="talk to a model: stream one reply, or a conversation at a terminal",
        description="Stream a reply to PROMPT (or to stdin when no prompt is given); with no "
        "prompt at a terminal, an interactive conversation with history. Usage and cost go "
        "to stderr at the end.",
    )
    chat.add_argument("prompt", nargs="*", help="what to say (default: read stdin)")
    chat.add_argument("-m", "--model", help="a model name or alias (default: MODEL_CHAT)")
    chat.add_argument("-s", "--system", help="a system prompt")
    chat.add_argument("--base-url", help="send to this API root instead (a proxy, a server)")
    chat.add_argument("--max-tokens", type=positive_int, help="cap the reply's length")
    chat.add_argument("--temperature", type=float, help="sampling temperature")
    chat.add_argument("--timeout", type=positive_float, help="seconds for the whole reply")
    chat.set_defaults(handler=_run("._cli_chat", "run_chat"))


def _add_registry(commands: Commands) -> None:
    models = commands.add_parser(
        "models",
        help="list models: context window, capabilities, prices per million tokens",
        description="The registry's models with their context window, capabilities and "
        "prices (USD per million tokens) with each price's source.",
    )
    models.add_argument("--provider", help="only this provider's models")
    models.add_argument(
        "--capability",
        action="append",
        default=[],
        help="only models documented to have it (tools, vision, json_schema, reasoning, ...); "
        "repeatable",
    )
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models.set_defaults(handler=_run("._cli_registry", "run_models"))
    cost = commands.add_parser(
        "cost",
        help="the exact cost of a call with the given token counts",
        description="Price a call from its token counts with the registry's rules; input "
        "counts all input tokens, cached ones included (as providers bill them).",
    )
    cost.add_argument("-m", "--model", required=True, help="a model name or alias")
    cost.add_argument("--input", type=token_count, required=True, help="input tokens (all)")
    cost.add_argument("--output", type=token_count, required=True, help="output tokens (all)")
    cost.add_argument("--cached", type=token_count, help="input tokens read from the cache")
    cost.add_argument("--cache-write", type=token_count, help="input tokens written to cache")
    cost.add_argument("--reasoning", type=token_count, help="output tokens spent reasoning")
    cost.add_argument("--json", action="store_true", help="print JSON")
    cost.set_defaults(handler=_run("._cli_registry", "run_cost"))


def _server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument(
        "--port", type=port_number, default=8787, help="port to bind (8787; 0 picks a free one)"
    )


def _add_servers(commands: Commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the local fake LLM server (OpenAI and Anthropic endpoints)",
        description="Serve atoll_testing's fake server until Ctrl-C: echo and stream-N models, "
        "your scripts and recorded cases, faults by header.",
    )
    _server_options(serve)
    serve.add_argument("--api-key", help="require this key")
    serve.add_argument(
        "--script", action="append", default=[], metavar="MODEL=FILE", help="serve a script"
    )
    serve.add_argument("--cases", action="append", default=[], help="a case file or folder")
    serve.set_defaults(handler=_run("._cli_server", "run_serve"))
    record = commands.add_parser(
        "record",
        help="proxy to a real provider and save each exchange as a case",
        description="Forward every request to UPSTREAM and write each exchange to DIR as a "
        "case file that `atoll replay` (and atoll_testing) can serve.",
    )
    _server_options(record)
    record.add_argument("--upstream", required=True, help="the provider's base URL")
    record.add_argument("--dir", default="recorded", help="where cases go (./recorded)")
    record.add_argument("--provider", default="unknown", help="provider name in the cases")
    record.set_defaults(handler=_run("._cli_server", "run_record"))
    replay = commands.add_parser(
        "replay",
        help="serve recorded cases",
        description="Serve case files: each answers the model named like its file.",
    )
    _server_options(replay)
    replay.add_argument("cases", nargs="+", help="case files or folders")
    replay.add_argument("--api-key", help="require this key")
    replay.set_defaults(handler=_run("._cli_server", "run_replay"))


def _add_batch(commands: Commands) -> None:
    batch = commands.add_parser(
        "batch",
        help="run a JSONL file of prompts with a live progress bar; resumable",
        description='One prompt a line (a JSON string, or an object with "prompt" and an '
        'optional "id"), run on the Executor; results go to OUTPUT as JSONL in input order. '
        "Interrupted, it keeps what finished; run it again to resume. With --provider-batch "
        "the file goes through the provider's batch API instead (OpenAI Batch, Anthropic "
        "Message Batches: half price, results within 24 hours): the job id is printed, and "
        "--resume RECORD waits for the job and writes its results.",
    )
    batch.add_argument("file", nargs="?", help="the prompts, one JSON value a line")
    batch.add_argument("-m", "--model", help="a model name or alias (required but with --resume)")
    batch.add_argument("-o", "--output", help="results file (default FILE.out.jsonl)")
    batch.add_argument("--concurrency", type=positive_int, default=16, help="calls at once (16)")
    batch.add_argument("--max-tokens", type=positive_int, help="cap each reply's length")
    batch.add_argument("-s", "--system", help="a system prompt for every call")
    batch.add_argument("--temperature", type=float, help="sampling temperature")
    batch.add_argument("--base-url", help="send to this API root instead")
    batch.add_argument("--retries", type=token_count, help="retries per call (default 2)")
    batch.add_argument(
        "--provider-batch",
        action="store_true",
        help="submit FILE through the provider's batch API and print the job id",
    )
    batch.add_argument("--record", help="the job record --provider-batch writes (FILE.batch.json)")
    batch.add_argument(
        "--resume",
        metavar="RECORD",
        help="wait for a --provider-batch job and write its results (RECORD.out.jsonl)",
    )
    batch.add_argument(
        "--poll", type=positive_float, default=10.0, help="seconds between looks at first (10)"
    )
    batch.set_defaults(handler=_run("._cli_batch", "run_batch"))


def _add_bench(commands: Commands) -> None:
    bench = commands.add_parser(
        "bench",
        help="benchmark the Client against the local server (ratios)",
        description="Start the fake server in a child process and measure non-stream calls "
        "and streams through atoll's Client on each installed transport, next to raw httpx "
        "(the baseline) and the openai SDK when installed; prints ratios.",
    )
    bench.add_argument("--calls", type=positive_int, default=1000, help="non-stream calls (1000)")
    bench.add_argument("--concurrency", type=positive_int, default=32, help="calls at once (32)")
    bench.add_argument("--streams", type=positive_int, default=50, help="concurrent streams (50)")
    bench.add_argument("--events", type=positive_int, default=200, help="events a stream (200)")
    bench.add_argument("--json", action="store_true", help="print JSON")
    bench.set_defaults(handler=_run("._cli_bench", "run_bench"))


def _add_demo(commands: Commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="run the main job end to end (local server, no keys)",
        description="A chat, a stream, a tool call round trip and a batch through the "
        "Executor, against the built-in local server (or a provider with --model).",
    )
    demo.add_argument(
        "--model",
        default=None,
        help="a registry name (e.g. openai/gpt-4o-mini) to run against that provider; "
        "default: the built-in local server, no keys needed",
    )
    demo.add_argument(
        "--calls", type=positive_int, default=None, help="batch size (500 locally, 20 remote)"
    )
    demo.set_defaults(handler=_run("._cli_demo", "run_demo_command"))


def _add_trace(commands: Commands) -> None:
    trace = commands.add_parser(
        "trace",
        help="show a JSONL event log (atoll_dialects.JsonlSink) as a timeline",
        description="Each run as a block: calls and tool calls on a shared time axis, retries "
        "and fallbacks under their call, tokens, cost, the slowest step marked.",
    )
    trace.add_argument("path", help="the log written by atoll_dialects.JsonlSink")
    trace.add_argument("--run", default=None, help="only the run whose id starts with this")
    trace.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="ANSI colours"
    )
    trace.add_argument(
        "--width", type=positive_int, default=None, help="columns (default: the terminal's)"
    )
    trace.set_defaults(handler=_run("._trace", "run_trace"))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``atoll`` command."""
    parser = argparse.ArgumentParser(
        prog="atoll",
        description="Atoll, a layered LLM stack: chat, inspect models and prices, run batches, "
        "serve a local fake server, benchmark.",
        epilog="Exit status: 0 done, 1 part failed, 2 bad arguments, 3 configuration or input, "
        "4 credentials refused, 5 server unreachable, 6 provider error, 130 interrupted.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_chat(commands)
    _add_registry(commands)
    _add_servers(commands)
    _add_batch(commands)
    _add_bench(commands)
    _add_trace(commands)
    _add_demo(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``atoll`` command; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help (0) or a usage error (2), already printed
        return done.code if isinstance(done.code, int) else errors.USAGE
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"atoll {args.command}: interrupted", file=sys.stderr)
        return errors.INTERRUPTED
    except (Exception, BaseExceptionGroup) as error:
        return errors.report(args.command, error)
