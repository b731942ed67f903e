"""Exact nearest-neighbour search over the vectors of a small library, kept in memory.

Chroma 1.5.9's embedded HNSW index sometimes loses records when writes and reads interleave
(chroma-core/chroma#7758, open): ``get()`` still returns them, but no ``query()`` does, even one
asking for every record. Measured here on a 70-chunk library built in batches of 32 with a
``get`` between batches: 1 to 6 builds in 300 leave 1 to 5 records unreachable, whatever the
HNSW parameters (``max_neighbors``, ``ef_*``, ``num_threads``, ``resize_factor``). A library
searched through such an index silently misses passages. Up to ``limit`` vectors (about 30 MB
for 20,000 chunks of 384 floats) ranking them all is as fast as the HNSW query (a matrix
product), and exact; past it the store falls back to Chroma's HNSW.

Thread-safe: the library writes from its indexing threads while searches run in others.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]


class ExactIndex:
    """Unit vectors by chunk id; ``top`` ranks all of them by cosine similarity."""

    def __init__(self, dimensions: int) -> None:
        self._dimensions = dimensions
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._matrix: Matrix = np.zeros((0, dimensions), dtype=np.float32)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    def upsert(self, ids: Sequence[str], vectors: Iterable[Sequence[float]] | Matrix) -> None:
        """Add or replace vectors (normalised here: cosine becomes a dot product)."""
        block = _normalised(np.asarray(vectors, dtype=np.float32).reshape(-1, self._dimensions))
        if len(block) != len(ids):
            raise ValueError(f"{len(ids)} ids for {len(block)} vectors")
        with self._lock:
            new: list[int] = []
            for position, chunk_id in enumerate(ids):
                row = self._rows.get(chunk_id)
                if row is None:
                    self._rows[chunk_id] = len(self._ids) + len(new)
                    new.append(position)
                else:
                    self._matrix[row] = block[position]
            if new:
                self._ids.extend(ids[position] for position in new)
                self._matrix = np.concatenate([self._matrix, block[new]])

    def delete(self, ids: Iterable[str]) -> None:
        with self._lock:
            gone = {self._rows[chunk_id] for chunk_id in ids if chunk_id in self._rows}
            if not gone:
                return
            keep = [row for row in range(len(self._ids)) if row not in gone]
            self._ids = [self._ids[row] for row in keep]
            self._matrix = self._matrix[keep]
            self._rows = {chunk_id: row for row, chunk_id in enumerate(self._ids)}

    def clear(self) -> None:
        with self._lock:
            self._ids, self._rows = [], {}
            self._matrix = np.zeros((0, self._dimensions), dtype=np.float32)

    def top(
        self, query: Sequence[float], k: int, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` ids most similar to ``query`` (among ``allowed``), with their cosine."""
        vector = _normalised(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
        with self._lock:
            ids, matrix = self._ids, self._matrix
            if allowed is not None:
                rows = [self._rows[chunk_id] for chunk_id in allowed if chunk_id in self._rows]
                ids, matrix = [self._ids[row] for row in rows], self._matrix[rows]
        if not ids or k <= 0:
            return []
        scores = matrix @ vector
        count = min(k, len(ids))
        best = np.argpartition(-scores, count - 1)[:count]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(ids[row], float(scores[row])) for row in best]


def _normalised(block: Matrix) -> Matrix:
    norms = np.linalg.norm(block, axis=1, keepdims=True)
    normalised: Matrix = (block / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised
