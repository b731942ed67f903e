"""The docstore in SQLite (embedded, the default): JSON text checked by JSON1, queried with
``json_extract`` / ``json_type``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hybridmcp_app.datastores.docstore_filter import Dialect, Kind, Scalar, SqlPart, json_text
from hybridmcp_app.datastores.sql_document_store import DocstoreError, SqlDocumentStore

_KINDS: dict[Kind, tuple[str, ...]] = {
    "number": ("integer", "real"),
    "string": ("text",),
    "boolean": ("true", "false"),
    "null": ("null",),
}
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docstore (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    doc TEXT NOT NULL CHECK (json_valid(doc)),
    UNIQUE (collection, id)
)
"""


def json_path(path: list[str]) -> str:
    return "$" + "".join(f'."{key}"' for key in path)


def _kind_test(path: list[str], kind: Kind) -> SqlPart:
    names = ", ".join(f"'{name}'" for name in _KINDS[kind])
    return f"json_type(doc, ?) IN ({names})", [json_path(path)]


def _compare(path: list[str], operator: str, value: Scalar, _kind: Kind) -> SqlPart:
    return f"json_extract(doc, ?) {operator} ?", [json_path(path), value]


def _order_by(path: list[str]) -> list[SqlPart]:
    where = json_path(path)
    rank = (
        "CASE WHEN json_type(doc, ?) IS NULL THEN 0 ELSE CASE json_type(doc, ?) "
        "WHEN 'null' THEN 0 WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2 "
        "WHEN 'false' THEN 3 WHEN 'true' THEN 3 ELSE 4 END END"
    )
    value = (
        "CASE WHEN json_type(doc, ?) IN ('integer', 'real', 'text', 'true', 'false') "
        "THEN json_extract(doc, ?) END"
    )
    return [(rank, [where, where]), (value, [where, where])]


SQLITE = Dialect(
    placeholder="?",
    kind_test=_kind_test,
    exists=lambda path: ("json_type(doc, ?) IS NOT NULL", [json_path(path)]),
    compare=_compare,
    order_by=_order_by,
)


class SqliteDocumentStore(SqlDocumentStore):
    """Collections in one SQLite file (WAL)."""

    dialect = SQLITE
    engine = "SQLite"

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(_SCHEMA)
                db.commit()
            except (OSError, sqlite3.Error) as error:
                raise DocstoreError(
                    f"the SQLite store {self.path} cannot be opened: {error}"
                ) from None
            self._db = db
        return self._db

    def _doc_param(self, document: Mapping[str, Any]) -> str:
        return json_text(document)

    def _doc_value(self, stored: Any) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(stored)
        return value

    def _is_duplicate(self, error: Exception) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "UNIQUE" in str(error)

    def close_sync(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
