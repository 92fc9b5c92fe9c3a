"""Large batches of chat calls or agent runs on a Ray cluster (work in progress)."""

from __future__ import annotations

__version__ = "0.1.0"

__all__: tuple[str, ...] = ()
