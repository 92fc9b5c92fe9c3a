"""Errors of `atoll_ray`.

Hierarchy::

    AtollError (atoll_wire)
    └── AtollRayError
        ├── InvalidInputError   (an input without an id, a duplicate id, nothing to send)
        └── BatchAbortedError   (too many actors died; what finished is in the results file)
"""

from __future__ import annotations

from atoll_wire import AtollError


class AtollRayError(AtollError):
    """Base class of every error raised by `atoll_ray`."""


class InvalidInputError(AtollRayError, ValueError):
    """An input item cannot be run.

    Attributes:
        item_id: The item's id (None when it has none).
        reason: What is wrong with it.
    """

    def __init__(self, item_id: str | None, reason: str) -> None:
        super().__init__(item_id, reason)
        self.item_id = item_id
        self.reason = reason

    def __str__(self) -> str:
        return f"input {self.item_id!r}: {self.reason}"


class BatchAbortedError(AtollRayError):
    """The job stopped before every item had a result; re-running it finishes the rest.

    Attributes:
        done: Items with a result (this run and earlier ones).
        remaining: Items without one.
        reason: Why it stopped.
        results_path: Where the results so far are.
    """

    def __init__(self, done: int, remaining: int, reason: str, results_path: str) -> None:
        super().__init__(done, remaining, reason, results_path)
        self.done = done
        self.remaining = remaining
        self.reason = reason
        self.results_path = results_path

    def __str__(self) -> str:
        return (
            f"batch stopped with {self.remaining} items left ({self.done} done, in "
            f"{self.results_path}): {self.reason}; run it again to finish the rest"
        )
