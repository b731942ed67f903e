"""Conversations kept in SQLite in the data dir: open, rename, search, delete with undo.

A database that SQLite cannot read is moved aside (``history.sqlite3.corrupt-<time>``) and a new
one started; ``recovered_from`` tells the UI, which says so. Blocking: call it off the event loop.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from hybridmcp_app.core.sqlite_files import SqliteFile
from hybridmcp_app.orchestration.conversation import ConversationRecord

log = logging.getLogger("hybridmcp.history")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    deleted REAL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_update ON conversations (updated);
"""


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    updated: float
    turns: int


class HistoryStore:
    """Saves whole conversations as JSON rows; deletion is soft until ``purge``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = SqliteFile(path, "history database")
        self._file.open(lambda connection: connection.executescript(_SCHEMA)).close()
        self.recovered_from = self._file.recovered_from

    def _connect(self) -> sqlite3.Connection:
        return self._file.connect()

    def save(self, conversation: ConversationRecord) -> None:
        with self._connect() as connection:
            connection.execute(
                "INSERT INTO conversations (id, title, created, updated, deleted, body) "
                "VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT(id) DO UPDATE SET "
                "title = excluded.title, updated = excluded.updated, body = excluded.body",
                (
                    conversation.id,
                    conversation.title,
                    conversation.created,
                    conversation.updated,
                    conversation.model_dump_json(),
                ),
            )

    def get(self, conversation_id: str) -> ConversationRecord | None:
        with self._connect() as connection:
            row = connection.execute(
                "SELECT body FROM conversations WHERE id = ? AND deleted IS NULL",
                (conversation_id,),
            ).fetchone()
        if row is None:
            return None
        try:
            return ConversationRecord.model_validate_json(row[0])
        except ValidationError as error:
            log.error("conversation %s is damaged: %s", conversation_id, error)
            return None

    def list(self, search: str = "") -> list[ConversationSummary]:
        """Newest first; ``search`` matches titles and the text of prompts and answers."""
        pattern = f"%{search.strip()}%"
        with self._connect() as connection:
            rows = connection.execute(
                "SELECT id, title, updated, CASE WHEN json_valid(body) "
                "THEN COALESCE(json_array_length(body, '$.turns'), 0) ELSE 0 END "
                "FROM conversations WHERE deleted IS NULL "
                "AND (title LIKE ? OR body LIKE ?) ORDER BY updated DESC",
                (pattern, pattern),
            ).fetchall()
        return [ConversationSummary(*row) for row in rows]

    def rename(self, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise ValueError("a conversation needs a title")
        conversation = self.get(conversation_id)
        if conversation is None:
            raise KeyError(conversation_id)
        self.save(conversation.model_copy(update={"title": title, "updated": time.time()}))

    def delete(self, conversation_id: str) -> None:
        """Hide it; ``undo_delete`` brings it back until ``purge`` removes it for good."""
        with self._connect() as connection:
            connection.execute(
                "UPDATE conversations SET deleted = ? WHERE id = ?", (time.time(), conversation_id)
            )

    def undo_delete(self, conversation_id: str) -> None:
        with self._connect() as connection:
            connection.execute(
                "UPDATE conversations SET deleted = NULL WHERE id = ?", (conversation_id,)
            )

    def purge(self, deleted_before: float) -> int:
        with self._connect() as connection:
            cursor = connection.execute(
                "DELETE FROM conversations WHERE deleted IS NOT NULL AND deleted < ?",
                (deleted_before,),
            )
            return cursor.rowcount
