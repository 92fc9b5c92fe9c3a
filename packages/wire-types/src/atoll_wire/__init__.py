"""Data plane: neutral chat types, dialect wire structs, SSE decoder, Transport interface.

This layer is not built yet: it exports nothing until its issue lands.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__: tuple[str, ...] = ()
