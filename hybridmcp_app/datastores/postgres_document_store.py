"""The docstore in PostgreSQL (JSONB; psycopg 3): the engine every cloud runs as a managed
service (RDS, Azure Database, Cloud SQL), reached by a connection string.

Strings are compared and sorted ``COLLATE "C"`` (code-point order, as SQLite does), numbers as
``numeric``: the same answers as the SQLite store whatever the database's own collation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from hybridmcp_app.datastores.docstore_filter import Dialect, Kind, Scalar, SqlPart
from hybridmcp_app.datastores.sql_document_store import DocstoreError, SqlDocumentStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docstore (
    seq BIGSERIAL PRIMARY KEY,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    doc JSONB NOT NULL,
    UNIQUE (collection, id)
)
"""
_TYPED = {"string": '(doc #>> %s::text[]) COLLATE "C"', "number": "(doc #>> %s::text[])::numeric",
          "boolean": "(doc #>> %s::text[])::boolean"}  # fmt: skip


def _kind_test(path: list[str], kind: Kind) -> SqlPart:
    return "jsonb_typeof(doc #> %s::text[]) = %s", [path, kind]


def _compare(path: list[str], operator: str, value: Scalar, kind: Kind) -> SqlPart:
    # Only reached after the kind test, but SQL may evaluate both sides: a cast that cannot
    # apply must not fail, so the typed value is taken only where the kind matches.
    guarded = f"CASE WHEN jsonb_typeof(doc #> %s::text[]) = %s THEN {_TYPED[kind]} END"
    return f"{guarded} {operator} %s", [path, kind, path, value]


def _order_by(path: list[str]) -> list[SqlPart]:
    kind = "jsonb_typeof(doc #> %s::text[])"
    rank = (
        f"CASE COALESCE({kind}, 'null') WHEN 'null' THEN 0 WHEN 'number' THEN 1 "
        "WHEN 'string' THEN 2 WHEN 'boolean' THEN 3 ELSE 4 END"
    )
    parts: list[SqlPart] = [(rank, [path])]
    for name, typed in _TYPED.items():
        parts.append((f"CASE WHEN {kind} = '{name}' THEN {typed} END", [path, path]))
    return parts


POSTGRES = Dialect(
    placeholder="%s",
    kind_test=_kind_test,
    exists=lambda path: ("(doc #> %s::text[]) IS NOT NULL", [path]),
    compare=_compare,
    order_by=_order_by,
)


class PostgresDocumentStore(SqlDocumentStore):
    """Collections in one table of a PostgreSQL database (``conninfo``: a libpq URL or
    ``key=value`` string; its password may come from the keychain by reference)."""

    dialect = POSTGRES
    engine = "PostgreSQL"

    def __init__(self, conninfo: str) -> None:
        super().__init__()
        self._conninfo = conninfo
        self._db: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._db is None or self._db.closed:
            try:
                db = psycopg.connect(self._conninfo, connect_timeout=10)
                with db.cursor() as cursor:
                    cursor.execute(_SCHEMA)
                db.commit()
            except psycopg.Error as error:
                message = str(error).strip().splitlines()[0] if str(error).strip() else ""
                raise DocstoreError(f"PostgreSQL cannot be reached: {message}") from None
            self._db = db
        return self._db

    def _doc_param(self, document: Mapping[str, Any]) -> Jsonb:
        return Jsonb(dict(document))

    def _doc_value(self, stored: Any) -> dict[str, Any]:
        return dict(stored)

    def _is_duplicate(self, error: Exception) -> bool:
        return isinstance(error, psycopg.errors.UniqueViolation)

    def close_sync(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
