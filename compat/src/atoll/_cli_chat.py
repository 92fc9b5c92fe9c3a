"""``atoll chat``: stream a reply; read stdin when no prompt; a conversation at a terminal.

The reply goes to stdout as it arrives (nothing else does, so it pipes cleanly); usage and cost
go to stderr. At a terminal with no prompt, each line you type is a turn of one conversation
(history with the arrow keys where ``readline`` exists); Ctrl-C stops a reply, Ctrl-D ends.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal
from typing import Any

from atoll_dialects import ClientResponse, SyncClient
from atoll_wire import Message, TextDelta, Usage

from . import _cli_errors as errors
from ._preferences import get_preferences
from ._stats import format_cost
from ._target import resolve_call


class _Totals:
    def __init__(self) -> None:
        self.usage = Usage()
        self.cost: Decimal | None = Decimal(0)

    def add(self, response: ClientResponse) -> None:
        self.usage = self.usage + response.usage
        if self.cost is not None:
            self.cost = None if response.cost is None else self.cost + response.cost.total


def _usage_line(usage: Usage, cost: Decimal | None, note: str | None, model: str) -> str:
    tokens_in = "?" if usage.input_tokens is None else f"{usage.input_tokens:,}"
    tokens_out = "?" if usage.output_tokens is None else f"{usage.output_tokens:,}"
    price = format_cost(cost) + (f" ({note})" if cost is None and note else "")
    return f"[{model}: {tokens_in} in / {tokens_out} out tokens · cost {price}]"


def _turn(client: SyncClient, messages: list[Message], options: dict[str, Any]) -> ClientResponse:
    with client.stream(messages, **options) as stream:
        for event in stream:
            if type(event) is TextDelta:
                sys.stdout.write(event.text)
                sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stdout.flush()
    response = stream.response
    cost = None if response.cost is None else response.cost.total
    print(
        _usage_line(response.usage, cost, response.cost_note, response.served_by), file=sys.stderr
    )
    return response


def _interactive(client: SyncClient, options: dict[str, Any], label: str) -> int:
    try:
        import readline  # line editing and history for input()

        readline.set_history_length(1000)
    except ImportError:  # pragma: no cover (Windows)
        pass
    print(f"atoll chat with {label}; Ctrl-D ends, Ctrl-C stops a reply", file=sys.stderr)
    messages: list[Message] = []
    totals = _Totals()
    while True:
        try:
            text = input("> ")
        except EOFError:
            print(file=sys.stderr)
            break
        if not text.strip():
            continue
        messages.append(Message.user(text))
        try:
            response = _turn(client, messages, options)
        except KeyboardInterrupt:
            print("\n(reply stopped)", file=sys.stderr)
            messages.pop()
            continue
        messages.append(response.message)
        totals.add(response)
    if messages:
        print("total " + _usage_line(totals.usage, totals.cost, None, label), file=sys.stderr)
    return errors.OK


def run_chat(args: argparse.Namespace) -> int:
    """Chat once (prompt or stdin) or interactively (a terminal and no prompt)."""
    model = args.model or str(get_preferences("MODEL_CHAT"))
    target = resolve_call(None, model, url=args.base_url)
    options: dict[str, Any] = {}
    if args.system is not None:
        options["system"] = args.system
    if args.max_tokens is not None:
        options["max_tokens"] = args.max_tokens
    if args.temperature is not None:
        options["temperature"] = args.temperature
    prompt = " ".join(args.prompt)
    interactive = not prompt and sys.stdin.isatty()
    if not prompt and not interactive:
        prompt = sys.stdin.read().rstrip("\n")
        if not prompt.strip():
            print("atoll chat: error: nothing to send (empty stdin)", file=sys.stderr)
            return errors.USAGE
    with target.sync_client(None, timeout=args.timeout) as client:
        if interactive:
            return _interactive(client, options, target.label)
        _turn(client, [Message.user(prompt)], options)
    return errors.OK
