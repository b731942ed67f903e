"""Reciprocal rank fusion: several rankings of the same items made one.

An item scores ``sum(1 / (c + rank))`` over the rankings it appears in (rank 1 = first), so it
needs no common scale between, say, cosine similarities and BM25 scores; ``c = 60`` is the
constant of Cormack, Clarke and Büttcher (SIGIR 2009), which damps the weight of the very top
ranks. Ties keep the order in which the items were first met, ranking by ranking.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

RRF_C = 60
Item = TypeVar("Item", bound=Hashable)


def fuse(rankings: Sequence[Sequence[Item]], k: int, c: int = RRF_C) -> list[tuple[Item, float]]:
    """The ``k`` best items of ``rankings`` (each best first), with their fused score."""
    if c < 0:
        raise ValueError(f"the fusion constant must be 0 or more, not {c}")
    scores: dict[Item, float] = {}
    for ranking in rankings:
        seen: set[Item] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:  # a ranking counts an item once, at its best rank
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (c + rank)
    fused = sorted(scores.items(), key=lambda pair: -pair[1])  # stable: first met wins a tie
    return fused[: max(k, 0)]
