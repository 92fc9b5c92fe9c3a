"""The tree of attempts ``airetry_`` keeps, and how it picks the one to retry from.

Each node holds one conversation (``data``); a retry adds a child under the node chosen by
``select_best`` (UCT by default, or Thompson sampling), the Monte-Carlo tree search of the
legacy API. ``wins``/``visits`` count passed/evaluated checks, propagated to the ancestors.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from ._messages import AbstractMessage

Ordering = Literal["PreOrderDFS", "PostOrderDFS"]
_ids = itertools.count(1)


@dataclass(frozen=True)
class UCT:
    """Upper confidence bound for trees: ``wins/visits + c * sqrt(log(parent.visits)/visits)``.

    Attributes:
        exploration: ``c``; higher explores more.
    """

    exploration: float = math.sqrt(2.0)


@dataclass(frozen=True)
class ThompsonSampling:
    """A draw from ``Beta(alpha + wins, beta + visits - wins)`` per node."""

    alpha: float = 1.0
    beta: float = 1.0


Scoring = UCT | ThompsonSampling


@dataclass(eq=False)
class SampleNode:
    """One attempt: its conversation, feedback and evaluation counts.

    Attributes:
        data: The conversation of this attempt.
        parent: The attempt it was retried from (``None`` for the root).
        children: Attempts retried from it.
        feedback: Feedback collected for it, newline separated.
        success: Whether it passed the checks so far (``None``: not evaluated).
        wins: Checks passed here and below.
        visits: Checks evaluated here and below.
        id: A unique id.
    """

    data: list[AbstractMessage] = field(default_factory=list[AbstractMessage])
    parent: SampleNode | None = field(default=None, repr=False)
    children: list[SampleNode] = field(default_factory=list["SampleNode"], repr=False)
    feedback: str = ""
    success: bool | None = None
    wins: int = 0
    visits: int = 0
    id: int = field(default_factory=lambda: next(_ids))

    def expand(self, data: list[AbstractMessage], *, success: bool | None = None) -> SampleNode:
        """Add a child attempt holding ``data``; returns it."""
        child = SampleNode(data=data, parent=self, success=success)
        self.children.append(child)
        return child

    def pre_order(self) -> Iterator[SampleNode]:
        """This node, then its subtrees (parents before children)."""
        yield self
        for child in self.children:
            yield from child.pre_order()

    def post_order(self) -> Iterator[SampleNode]:
        """Its subtrees, then this node (children before parents)."""
        for child in self.children:
            yield from child.post_order()
        yield self

    def find(self, node_id: int) -> SampleNode | None:
        """The node with this id in this subtree, or ``None``."""
        return next((n for n in self.pre_order() if n.id == node_id), None)

    def __getitem__(self, node_id: int) -> SampleNode:
        found = self.find(node_id)
        if found is None:
            raise KeyError(node_id)
        return found

    def backpropagate(self, *, wins: int, visits: int = 1) -> None:
        """Add to the counts of this node and every ancestor."""
        node: SampleNode | None = self
        while node is not None:
            node.wins += wins
            node.visits += visits
            node = node.parent

    def score(self, scoring: Scoring) -> float:
        """The node's score under ``scoring`` (higher is more promising)."""
        if isinstance(scoring, ThompsonSampling):
            a = scoring.alpha + self.wins
            b = scoring.beta + self.visits - self.wins
            return random.betavariate(a, max(b, 1e-9))
        if self.visits == 0:
            return 0.0
        bonus = 0.0
        if self.parent is not None and self.parent.visits > 0:
            bonus = scoring.exploration * math.sqrt(math.log(self.parent.visits) / self.visits)
        return self.wins / self.visits + bonus

    def all_feedback(self) -> str:
        """The feedback of this node and its ancestors, oldest first, separated by rules."""
        chain: list[str] = []
        node: SampleNode | None = self
        while node is not None:
            if node.feedback.strip():
                chain.append(node.feedback)
            node = node.parent
        return "\n----------\n".join(reversed(chain))

    def __repr__(self) -> str:
        return (
            f"SampleNode(id: {self.id}, stats: {self.wins}/{self.visits}, length: {len(self.data)})"
        )


def select_best(
    root: SampleNode, scoring: Scoring = UCT(), ordering: Ordering = "PostOrderDFS"
) -> SampleNode:
    """The highest-scoring node of the tree (the first found wins a tie)."""
    nodes = root.post_order() if ordering == "PostOrderDFS" else root.pre_order()
    best, best_score = root, -math.inf
    for node in nodes:
        value = node.score(scoring)
        if value > best_score:
            best, best_score = node, value
    return best
