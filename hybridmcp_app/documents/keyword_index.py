"""The library's keyword index: SQLite FTS5 ranked by BM25, beside the vectors in Chroma.

One file in the data dir (``keywords.sqlite3``, write-ahead log), written only by the library's
store (``ChromaStore``), which keeps it in step with Chroma chunk by chunk under the same stable
chunk ids. A file SQLite cannot read is moved aside and started anew; the store refills it from
Chroma when it opens (``ChromaStore._reconcile``).

The tokenizer is FTS5's ``unicode61`` with ``remove_diacritics 2``, and each word of a query is
searched as a quoted FTS5 string, i.e. the phrase of its tokens. So "PELICAN-42" is the phrase
"pelican 42": it finds "PELICAN-42" but neither "PELICAN-24" nor "PELICAN-420"; "4.2.1" finds
"section 4.2.1." (a full stop after it) but not "4.1.2"; "pelican" alone finds all three; and
"Muller" finds "Müller". ``tokenchars '-.'`` would lose the last three (a code at a sentence's end
keeps its full stop; a part of a code is no token), and ``trigram`` matches substrings (PELICAN-420
for PELICAN-42) and nothing shorter than three characters ("X7"): ``tests/unit/documents/
test_keyword_index.py`` holds each case. The user's words never reach FTS5 as syntax: a word
without a letter or digit is dropped, the others are quoted, and the words are ORed, BM25
ranking the passages that hold the rarer ones first.

Blocking calls, safe from several threads (one connection behind a lock).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from hybridmcp_app.core.sqlite_files import SqliteFile
from hybridmcp_app.documents.document_models import DocumentChunk

KEYWORDS_FILE_NAME = "keywords.sqlite3"
TOKENIZER = "unicode61 remove_diacritics 2"
MAX_QUERY_WORDS = 64  # more words add nothing to a BM25 ranking but time
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS chunks (
    row INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_path ON chunks (path);
CREATE VIRTUAL TABLE IF NOT EXISTS chunk_text USING fts5(text, tokenize="{TOKENIZER}");
"""


def fts5_available() -> bool:
    """Whether this Python's SQLite has FTS5 compiled in (the index needs it)."""
    connection = sqlite3.connect(":memory:")
    try:
        connection.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()
    return True


def match_expression(query: str) -> str | None:
    """The FTS5 query for a user's words: each quoted, ORed; None when no word can match."""
    words = [word for word in query.split() if any(character.isalnum() for character in word)]
    if not words:
        return None
    quoted = ['"' + word.replace('"', '""') + '"' for word in words[:MAX_QUERY_WORDS]]
    return " OR ".join(quoted)


class KeywordIndex:
    """Chunk texts by chunk id and path; ``search`` ranks them by BM25."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = SqliteFile(path, "library keyword index", wal=True, shared=True)
        self._connection: sqlite3.Connection | None = self._file.open(
            lambda connection: connection.executescript(_SCHEMA)
        )
        self._lock = threading.Lock()

    @classmethod
    def open(cls, data_dir: Path) -> KeywordIndex:
        return cls(data_dir / KEYWORDS_FILE_NAME)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._connection is None:
                raise sqlite3.ProgrammingError("the keyword index is closed")
            with self._connection:
                yield self._connection

    # ---------------------------------------------------------------- writing

    def upsert(self, chunks: Sequence[DocumentChunk]) -> None:
        """Add chunks, or replace the ones with these ids."""
        if not chunks:
            return
        with self._transaction() as connection:
            _delete_rows(connection, [chunk.id for chunk in chunks])
            for chunk in chunks:
                row = connection.execute(
                    "INSERT INTO chunks (chunk_id, path, content_hash) VALUES (?, ?, ?)",
                    (chunk.id, str(chunk.provenance.path), chunk.content_hash),
                ).lastrowid
                connection.execute(
                    "INSERT INTO chunk_text (rowid, text) VALUES (?, ?)", (row, chunk.text)
                )

    def delete_ids(self, ids: Iterable[str]) -> None:
        with self._transaction() as connection:
            _delete_rows(connection, list(ids))

    def delete_file(self, path: Path) -> None:
        """Delete every chunk of ``path``."""
        with self._transaction() as connection:
            rows = connection.execute("SELECT row FROM chunks WHERE path = ?", (str(path),))
            _delete_by_row(connection, [row for (row,) in rows])

    def clear(self) -> None:
        with self._transaction() as connection:
            connection.execute("DELETE FROM chunks")
            connection.execute("DELETE FROM chunk_text")

    # ---------------------------------------------------------------- reading

    def count(self) -> int:
        with self._transaction() as connection:
            return int(connection.execute("SELECT count(*) FROM chunks").fetchone()[0])

    def ids_for(self, path: Path) -> set[str]:
        with self._transaction() as connection:
            rows = connection.execute("SELECT chunk_id FROM chunks WHERE path = ?", (str(path),))
            return {chunk_id for (chunk_id,) in rows}

    def versions(self) -> dict[str, str]:
        """Every chunk id with the content hash of the file version it came from."""
        with self._transaction() as connection:
            rows = connection.execute("SELECT chunk_id, content_hash FROM chunks")
            return dict(rows.fetchall())

    def search(
        self, query: str, k: int, allowed_ids: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` chunks that match ``query`` best (among ``allowed_ids``), with their BM25
        score (higher is better); none for a query without a word that can match."""
        expression = match_expression(query)
        if expression is None or k <= 0 or (allowed_ids is not None and not allowed_ids):
            return []
        sql = (
            "SELECT chunks.chunk_id, -bm25(chunk_text) AS score FROM chunk_text"
            " JOIN chunks ON chunks.row = chunk_text.rowid WHERE chunk_text MATCH ?"
        )
        parameters: list[object] = [expression]
        if allowed_ids is not None:
            sql += " AND chunks.chunk_id IN (SELECT value FROM json_each(?))"
            parameters.append(_json_list(allowed_ids))
        sql += " ORDER BY score DESC, chunks.chunk_id LIMIT ?"
        parameters.append(k)
        with self._transaction() as connection:
            return [
                (chunk_id, float(score)) for chunk_id, score in connection.execute(sql, parameters)
            ]


def _delete_rows(connection: sqlite3.Connection, ids: Sequence[str]) -> None:
    if not ids:
        return
    rows = connection.execute(
        "SELECT row FROM chunks WHERE chunk_id IN (SELECT value FROM json_each(?))",
        (_json_list(ids),),
    )
    _delete_by_row(connection, [row for (row,) in rows])


def _delete_by_row(connection: sqlite3.Connection, rows: Sequence[int]) -> None:
    if not rows:
        return
    listed = _json_list(rows)
    connection.execute(
        "DELETE FROM chunk_text WHERE rowid IN (SELECT value FROM json_each(?))", (listed,)
    )
    connection.execute(
        "DELETE FROM chunks WHERE row IN (SELECT value FROM json_each(?))", (listed,)
    )


def _json_list(values: Iterable[object]) -> str:
    return json.dumps(list(values))
