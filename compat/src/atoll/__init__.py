"""atoll: the one-import Atoll package and the ``atoll`` command.

Today it provides the command line (``atoll demo``, also ``python -m atoll demo``), which runs
the main job end to end on the layers below. The legacy one-import API (``aigenerate``,
``aiextract``, ...) is not rebuilt yet; until it is, import the layers directly
(``atoll_dialects.Client``, ``atoll_tools.ToolSet``, ``atoll_generic.Executor``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__: tuple[str, ...] = ()
