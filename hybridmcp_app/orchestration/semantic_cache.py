"""Answers remembered by meaning: a question close enough to an earlier one gets its answer.

Kept in SQLite in the data dir (one row per answer, the question's vector as float32 bytes).
Entries are keyed by the sources they were answered from, so the same question over other
documents is a miss. Lookups compare against every entry of that key: fine for thousands.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridmcp_app.core.inference import ContextDocument
from hybridmcp_app.embeddings.onnx_embedder import DIMENSIONS, OnnxEmbedder

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    context_key TEXT NOT NULL,
    question TEXT NOT NULL,
    vector BLOB NOT NULL,
    answer TEXT NOT NULL,
    model TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_by_context ON answers (context_key);
"""


def context_key(documents: tuple[ContextDocument, ...]) -> str:
    digest = hashlib.sha256()
    for document in documents:
        digest.update(document.title.encode() + b"\0" + document.text.encode() + b"\1")
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheHit:
    question: str
    answer: str
    model: str
    similarity: float
    created: float


class SemanticCache:
    """Store and find answers by question similarity; blocking work runs off the event loop."""

    def __init__(self, path: Path, embedder: OnnxEmbedder) -> None:
        self._path = path
        self._embedder = embedder
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as connection:
            connection.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._path, timeout=10)

    async def lookup(
        self, question: str, documents: tuple[ContextDocument, ...], threshold: float
    ) -> CacheHit | None:
        vector = (await self._embedder.embed([question]))[0]
        return await asyncio.to_thread(self._nearest, vector, context_key(documents), threshold)

    def _nearest(self, vector: np.ndarray, key: str, threshold: float) -> CacheHit | None:
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT question, vector, answer, model, created FROM answers "
                "WHERE context_key = ?",
                (key,),
            ).fetchall()
        best: CacheHit | None = None
        for question, blob, answer, model, created in rows:
            stored = np.frombuffer(blob, dtype=np.float32)
            if stored.shape != (DIMENSIONS,):
                continue
            similarity = float(stored @ vector)
            if similarity >= threshold and (best is None or similarity > best.similarity):
                best = CacheHit(question, answer, model, similarity, created)
        return best

    async def store(
        self, question: str, documents: tuple[ContextDocument, ...], answer: str, model: str
    ) -> None:
        vector = (await self._embedder.embed([question]))[0]
        await asyncio.to_thread(
            self._insert, context_key(documents), question, vector.tobytes(), answer, model
        )

    def _insert(self, key: str, question: str, blob: bytes, answer: str, model: str) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO answers (context_key, question, vector, answer, model, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (key, question, blob, answer, model, time.time()),
            )

    def count(self) -> int:
        with self._connect() as connection:
            return int(connection.execute("SELECT COUNT(*) FROM answers").fetchone()[0])
