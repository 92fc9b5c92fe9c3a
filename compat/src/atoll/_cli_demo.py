"""``atoll demo``: the main job end to end (see ``_demo``)."""

from __future__ import annotations

import argparse

import anyio


def run_demo_command(args: argparse.Namespace) -> int:
    """Run the demo; returns its exit status (1 when calls of the batch failed)."""
    from ._demo import run_demo

    return anyio.run(run_demo, args.model, args.calls)
