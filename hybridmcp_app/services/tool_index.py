"""``ToolIndex``: each MCP tool's text embedded once with the app's offline embedder, kept in
memory and in SQLite in the data dir (``tool_vectors.sqlite3``).

A vector is keyed by the embedder's model and a SHA-256 of the tool's text (server, name,
title, description, parameters): a server update that changes a tool changes its key, one that
does not reuses it. Only tool texts are stored, never the conversation. Blocking: call
``vectors_sync`` off the event loop.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hybridmcp_app.core.sqlite_files import SqliteFile
from hybridmcp_app.embeddings.onnx_embedder import DIMENSIONS
from hybridmcp_app.mcp_host.mcp_items import McpTool

if TYPE_CHECKING:
    from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder

log = logging.getLogger("hybridmcp.tool_selection")
Vectors = np.ndarray[Any, np.dtype[np.float32]]
QUERY_MEMORY = 64  # conversation vectors kept in memory: a turn re-reads the turns before it
_SCHEMA = """
CREATE TABLE IF NOT EXISTS tool_vectors (
    key TEXT PRIMARY KEY,
    vector BLOB NOT NULL
);
"""


def _words(name: str) -> str:
    return " ".join(name.replace("__", " ").replace("_", " ").replace("-", " ").split())


def tool_text(tool: McpTool) -> str:
    """What a tool is ranked by: its server and name as words, title, description, and its
    parameters' names. (Measured on benchmarks/data/tool_selection: the parameters'
    descriptions, mostly about formats, made recall worse.)"""
    lines = [f"{_words(tool.server)}: {_words(tool.name)}"]
    if tool.title:
        lines.append(tool.title)
    if tool.description:
        lines.append(tool.description)
    properties = tool.input_schema.get("properties")
    if isinstance(properties, dict) and properties:
        lines.append("parameters: " + ", ".join(_words(str(name)) for name in properties))
    return "\n".join(lines)


class ToolIndex:
    """Tool vectors by text; the embedder runs only for texts never seen before."""

    def __init__(self, embedder: OnnxEmbedder, path: Path | None = None) -> None:
        """``path``: the SQLite file that keeps vectors between runs; None: memory only."""
        self._embedder = embedder
        self._file = SqliteFile(path, "tool vectors") if path is not None else None
        self._memory: dict[str, Vectors] = {}
        self._queries: OrderedDict[str, Vectors] = OrderedDict()
        self._loaded = False
        self._lock = threading.Lock()
        self.embedded = 0  # texts the embedder ran for (the rest came from a cache)

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self._embedder.model_id}\0{text}".encode()).hexdigest()

    def _load(self) -> None:
        if self._loaded or self._file is None:
            self._loaded = True
            return
        self._loaded = True
        try:
            connection = self._file.open(lambda c: c.executescript(_SCHEMA))
            with connection:
                rows = connection.execute("SELECT key, vector FROM tool_vectors").fetchall()
            connection.close()
        except (sqlite3.Error, OSError) as error:  # a cache: work without it
            log.warning("tool vectors could not be read: %s", error)
            return
        for key, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape == (DIMENSIONS,):
                self._memory[key] = vector

    def _save(self, new: dict[str, Vectors]) -> None:
        if self._file is None or not new:
            return
        try:
            connection = self._file.connect()
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO tool_vectors (key, vector) VALUES (?, ?)",
                    [(key, vector.astype(np.float32).tobytes()) for key, vector in new.items()],
                )
            connection.close()
        except (sqlite3.Error, OSError) as error:
            log.warning("tool vectors could not be saved: %s", error)

    def vectors_sync(self, texts: Sequence[str]) -> Vectors:
        """An (n, 384) array of unit vectors for ``texts``, in order; blocking."""
        with self._lock:
            self._load()
            keys = [self._key(text) for text in texts]
            missing = {key: text for key, text in zip(keys, texts, strict=True)}
            missing = {key: text for key, text in missing.items() if key not in self._memory}
            if missing:
                vectors = self._embedder.embed_sync(list(missing.values()))
                new = dict(zip(missing, vectors, strict=True))
                self._memory.update(new)
                self.embedded += len(new)
                self._save(new)
            if not keys:
                return np.zeros((0, DIMENSIONS), dtype=np.float32)
            return np.stack([self._memory[key] for key in keys]).astype(np.float32)

    def embed_queries_sync(self, texts: Sequence[str]) -> Vectors:
        """Vectors for conversation text, kept only in memory (the last ``QUERY_MEMORY``) and
        never on disk; blocking."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._lock:
            keys = [self._key(text) for text in texts]
            missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in self._queries}
            if missing:
                vectors = self._embedder.embed_sync(list(missing.values()))
                self._queries.update(zip(missing, vectors, strict=True))
            for key in keys:
                self._queries.move_to_end(key)
            while len(self._queries) > QUERY_MEMORY:
                self._queries.popitem(last=False)
            return np.stack([self._queries[key] for key in keys]).astype(np.float32)
