"""``SqlDocumentStore``: JSON document collections in one SQL table, for any engine with a
``Dialect`` (SQLite's JSON1, PostgreSQL's JSONB).

One table ``docstore(seq, collection, id, doc)``: ``seq`` keeps insertion order (the last sort
key, so every listing is stable), ``(collection, id)`` is unique, ``doc`` the document without
its ``_id``. Reads and writes hold one lock around one connection and run off the event loop.
Every refusal is a ``DocstoreError`` whose message says what to change.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.datastores.docstore_filter import (
    Dialect,
    FilterError,
    compile_filter,
    sort_keys,
)

T = TypeVar("T")
COLLECTION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MAX_DOCUMENT_BYTES = 1_000_000
MAX_LIMIT = 1000
MAX_BATCH = 1000


class DocstoreError(HybridMCPError):
    """A request the store refuses, or an engine failure, said plainly."""


class CollectionInfo(FrozenModel):
    name: str
    count: int


class SqlDocumentStore(ABC):
    """The docstore over one DB-API connection; subclasses give the engine's SQL."""

    dialect: Dialect
    engine: str

    def __init__(self) -> None:
        self._lock = threading.Lock()

    # ---------------------------------------------------------------- engine specifics
    @abstractmethod
    def _connection(self) -> Any:
        """The open connection (made at first use)."""

    @abstractmethod
    def _doc_param(self, document: Mapping[str, Any]) -> Any:
        """A document as the engine takes it for the ``doc`` column."""

    @abstractmethod
    def _doc_value(self, stored: Any) -> dict[str, Any]:
        """The ``doc`` column's value back as a dict."""

    @abstractmethod
    def _is_duplicate(self, error: Exception) -> bool:
        """Whether ``error`` is the engine's unique-key violation."""

    @abstractmethod
    def close_sync(self) -> None: ...

    # ---------------------------------------------------------------- the operations
    async def list_collections(self) -> list[CollectionInfo]:
        rows = await self._run(
            "SELECT collection, COUNT(*) FROM docstore GROUP BY collection ORDER BY collection", []
        )
        return [CollectionInfo(name=name, count=int(count)) for name, count in rows]

    async def insert(self, collection: str, documents: Sequence[Mapping[str, Any]]) -> list[str]:
        """Add documents (all or none); returns their ids (``_id`` if given, else new)."""
        _check_collection(collection)
        if not documents or len(documents) > MAX_BATCH:
            raise DocstoreError(f"insert takes 1 to {MAX_BATCH} documents")
        rows = [(collection, *self._split(document)) for document in documents]
        ids = [row[1] for row in rows]
        if len(set(ids)) < len(ids):
            raise DocstoreError("two of the documents have the same _id")
        sql = f"INSERT INTO docstore (collection, id, doc) VALUES ({self._marks(3)})"

        def insert(cursor: Any) -> None:
            try:
                cursor.executemany(sql, rows)
            except Exception as error:
                if self._is_duplicate(error):
                    raise DocstoreError(
                        f"a document of {collection!r} already has one of these _ids; "
                        "use update to change it"
                    ) from None
                raise

        await asyncio.to_thread(self._write, insert)
        return ids

    async def get(self, collection: str, document_id: str) -> dict[str, Any] | None:
        _check_collection(collection)
        rows = await self._run(
            f"SELECT id, doc FROM docstore WHERE collection = {self._marks(1)} "
            f"AND id = {self._marks(1)}",
            [collection, document_id],
        )
        return self._documents(rows)[0] if rows else None

    async def find(
        self,
        collection: str,
        filter: Mapping[str, Any] | None = None,
        sort: Sequence[Mapping[str, Any]] | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        _check_collection(collection)
        if not 1 <= limit <= MAX_LIMIT:
            raise DocstoreError(f"limit is 1 to {MAX_LIMIT}")
        where, params = self._where(collection, filter)
        order, order_params = self._order(sort)
        rows = await self._run(
            f"SELECT id, doc FROM docstore WHERE {where} ORDER BY {order} LIMIT {self._marks(1)}",
            [*params, *order_params, limit],
        )
        return self._documents(rows)

    async def count(self, collection: str, filter: Mapping[str, Any] | None = None) -> int:
        _check_collection(collection)
        where, params = self._where(collection, filter)
        rows = await self._run(f"SELECT COUNT(*) FROM docstore WHERE {where}", params)
        return int(rows[0][0])

    async def update(
        self, collection: str, filter: Mapping[str, Any], changes: Mapping[str, Any]
    ) -> int:
        """Set top-level fields of every matching document; returns how many changed."""
        _check_collection(collection)
        _require_filter(filter, "update")
        if not changes or "_id" in changes:
            raise DocstoreError("update sets one or more fields, and never _id")
        where, params = self._where(collection, filter)
        select = f"SELECT id, doc FROM docstore WHERE {where}"
        change = (
            f"UPDATE docstore SET doc = {self._marks(1)} WHERE collection = {self._marks(1)} "
            f"AND id = {self._marks(1)}"
        )

        def update(cursor: Any) -> int:
            cursor.execute(select, params)
            rows = cursor.fetchall()
            for document_id, stored in rows:
                merged = {**self._doc_value(stored), **changes}
                _check_size(merged)
                cursor.execute(change, [self._doc_param(merged), collection, document_id])
            return len(rows)

        return await asyncio.to_thread(self._write, update)

    async def delete(self, collection: str, filter: Mapping[str, Any]) -> int:
        _check_collection(collection)
        _require_filter(filter, "delete")
        where, params = self._where(collection, filter)

        def delete(cursor: Any) -> int:
            cursor.execute(f"DELETE FROM docstore WHERE {where}", params)
            return int(cursor.rowcount)

        return await asyncio.to_thread(self._write, delete)

    async def close(self) -> None:
        await asyncio.to_thread(self.close_sync)

    # ---------------------------------------------------------------- helpers
    def _marks(self, count: int) -> str:
        return ", ".join([self.dialect.placeholder] * count)

    def _split(self, document: Mapping[str, Any]) -> tuple[str, Any]:
        if not isinstance(document, Mapping):
            raise DocstoreError("a document is a JSON object")
        body = {key: value for key, value in document.items() if key != "_id"}
        document_id = document.get("_id", uuid.uuid4().hex)
        if not isinstance(document_id, str) or not 1 <= len(document_id) <= 128:
            raise DocstoreError("_id is a string of 1 to 128 characters")
        _check_size(body)
        return document_id, self._doc_param(body)

    def _where(self, collection: str, filter: Mapping[str, Any] | None) -> tuple[str, list[Any]]:
        try:
            compiled = compile_filter(filter or {}, self.dialect)
        except FilterError as error:
            raise DocstoreError(f"filter: {error}") from None
        return f"collection = {self.dialect.placeholder} AND {compiled.sql}", [
            collection,
            *compiled.params,
        ]

    def _order(self, sort: Sequence[Mapping[str, Any]] | None) -> tuple[str, list[Any]]:
        try:
            keys = sort_keys(sort)
        except FilterError as error:
            raise DocstoreError(f"sort: {error}") from None
        parts: list[str] = []
        params: list[Any] = []
        for path, descending in keys:
            for sql, part_params in self.dialect.order_by(path):
                parts.append(f"{sql} {'DESC' if descending else 'ASC'}")
                params += part_params
        parts.append("seq ASC")
        return ", ".join(parts), params

    def _documents(self, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        return [{"_id": row[0], **self._doc_value(row[1])} for row in rows]

    async def _run(self, sql: str, params: Sequence[Any]) -> list[Any]:
        def read(cursor: Any) -> list[Any]:
            cursor.execute(sql, list(params))
            return list(cursor.fetchall())

        return await asyncio.to_thread(self._read, read)

    def _read(self, work: Callable[[Any], T]) -> T:
        with self._cursor() as cursor:
            return work(cursor)

    def _write(self, work: Callable[[Any], T]) -> T:
        with self._cursor() as cursor:
            connection = self._connection()
            try:
                result = work(cursor)
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
            return result

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._lock:
            try:
                cursor = self._connection().cursor()
            except DocstoreError:
                raise
            except Exception as error:
                raise DocstoreError(f"the {self.engine} store cannot be reached: {error}") from None
            try:
                yield cursor
            except DocstoreError:
                raise
            except Exception as error:  # the engine's own errors (disk full, lost connection)
                raise DocstoreError(f"{self.engine}: {str(error).strip()}") from None
            finally:
                cursor.close()


def _check_collection(name: str) -> None:
    if not isinstance(name, str) or not re.fullmatch(COLLECTION_PATTERN, name):
        raise DocstoreError(
            f"{name!r} is not a collection name: 1 to 64 letters, digits, '_', '.' or '-'"
        )


def _require_filter(filter: Mapping[str, Any], action: str) -> None:
    if not filter:
        raise DocstoreError(
            f"{action} needs a filter; to {action} every document, say so: "
            '{"_id": {"$exists": true}}'
        )


def _check_size(document: Mapping[str, Any]) -> None:
    size = len(json.dumps(document, ensure_ascii=False).encode())
    if size > MAX_DOCUMENT_BYTES:
        raise DocstoreError(f"a document is {size:,} bytes; at most {MAX_DOCUMENT_BYTES:,}")
