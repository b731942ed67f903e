"""Which key facts a question or a guess is about, by sentence embeddings (offline, MiniLM).

Every host uses it to turn a yes/partly answer into uncovered key facts (the progress bar), and
the embedding host also answers with it. Vectors of a puzzle's facts and bottom are computed once.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import numpy as np

from hybridmcp_app.game.puzzle_models import Puzzle

FACT_THRESHOLD = 0.45  # cosine similarity at which a question is about a fact (MiniLM)


class Embedder(Protocol):
    async def embed(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]: ...


def sentences(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"(?<=[.!?])\s+", text) if part.strip()]


class FactMatcher:
    """Similarity of a text to a puzzle's key facts and to the sentences of its bottom."""

    def __init__(self, embedder: Embedder, threshold: float = FACT_THRESHOLD) -> None:
        self.embedder, self.threshold = embedder, threshold
        self._vectors: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}

    async def _puzzle(self, puzzle: Puzzle) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        key = f"{puzzle.id}\0{puzzle.bottom}"
        if key not in self._vectors:
            facts = list(puzzle.key_facts)
            bottom = sentences(puzzle.bottom) or [puzzle.bottom]
            vectors = await self.embedder.embed(facts + bottom)
            self._vectors[key] = (vectors[: len(facts)], vectors[len(facts) :])
        return self._vectors[key]

    async def similarities(self, puzzle: Puzzle, text: str) -> tuple[list[float], list[float]]:
        """Cosine similarity of ``text`` to each key fact, and to each sentence of the bottom."""
        facts, bottom = await self._puzzle(puzzle)
        vector = (await self.embedder.embed([text]))[0]
        return [float(v) for v in facts @ vector], [float(v) for v in bottom @ vector]

    async def facts_about(self, puzzle: Puzzle, text: str) -> tuple[int, ...]:
        """The key facts ``text`` is about (at or above the threshold), likeliest first."""
        if not puzzle.key_facts:
            return ()
        to_facts, _ = await self.similarities(puzzle, text)
        ranked = sorted(range(len(to_facts)), key=lambda i: -to_facts[i])
        return tuple(i for i in ranked if to_facts[i] >= self.threshold)
