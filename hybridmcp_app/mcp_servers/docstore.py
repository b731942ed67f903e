"""The ``docstore`` MCP server: JSON document collections on SQLite or PostgreSQL, one interface.

    python -m hybridmcp_app.mcp_servers.docstore [--sqlite FILE | --postgres CONNINFO]
        [--http [--host 127.0.0.1] [--port N]]

Default: SQLite in HybridMCP's data folder (``docstore.sqlite3``). PostgreSQL — the engine AWS
(RDS, Aurora), Azure (Database for PostgreSQL) and GCP (Cloud SQL, AlloyDB) all run as a service —
by a libpq connection string, best given in ``$HYBRIDMCP_DOCSTORE_POSTGRES`` so that a password
stays out of the command line (in mcp.json: ``"env": {"HYBRIDMCP_DOCSTORE_POSTGRES":
"${secret:NAME}"}``, resolved from the keychain when the server starts). The tools and their
answers are the same on both (one test suite runs against each): ``docstore_filter`` documents
the filter language.

No ``from __future__ import annotations`` here: the SDK reads the tools' signatures with
``eval_str`` (as in ``workspace``).
"""

import argparse
import os
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from hybridmcp_app.core.frozen_model import FrozenModel
from hybridmcp_app.datastores.sql_document_store import (
    COLLECTION_PATTERN,
    MAX_BATCH,
    MAX_LIMIT,
    CollectionInfo,
    DocstoreError,
    SqlDocumentStore,
)
from hybridmcp_app.mcp_servers.server_base import (
    READS,
    MCPServerBase,
    answer_or_refuse,
    tool_hints,
)

T = TypeVar("T")
POSTGRES_ENV = "HYBRIDMCP_DOCSTORE_POSTGRES"
INSERTS = tool_hints(read_only=False, destructive=False, idempotent=False)
CHANGES = tool_hints(read_only=False, destructive=True, idempotent=True)
FILTER_HELP = (
    'A JSON filter: {"field": value} equal; {"field": {"$gt": 3}} with $eq $ne $gt $gte $lt $lte; '
    '{"field": {"$in": [..]}} / $nin; {"field": {"$exists": true}}; {"$and": [..]} / {"$or": '
    '[..]}; dotted fields ("city.name"); _id is the document id. Comparisons match values of the '
    "same JSON type only."
)
Collection = Annotated[str, Field(pattern=COLLECTION_PATTERN, description="A collection name.")]
Filter = Annotated[dict[str, Any], Field(description=FILTER_HELP)]


class SortKey(BaseModel):
    field: str = Field(min_length=1, max_length=600)
    order: Literal["asc", "desc"] = "asc"


class CollectionList(FrozenModel):
    collections: list[CollectionInfo]


class Inserted(FrozenModel):
    ids: list[str] = Field(description="The documents' _id, in the order given.")


class Found(FrozenModel):
    documents: list[dict[str, Any]]
    returned: int


class Document(FrozenModel):
    document: dict[str, Any]


class Counted(FrozenModel):
    count: int


class Changed(FrozenModel):
    changed: int = Field(description="Documents updated or deleted.")


async def _answer(call: Awaitable[T]) -> T:
    return await answer_or_refuse(call, DocstoreError)


class DocstoreServer(MCPServerBase):
    """``SqlDocumentStore``'s operations as MCP tools."""

    name = "docstore"

    def __init__(self, store: SqlDocumentStore) -> None:
        self.store = store

    def build(self) -> MCPServer:
        store = self.store
        server = MCPServer(
            self.name,
            instructions=f"JSON document collections ({store.engine}). Find with a filter, "
            "sort and limit; update sets fields of the matching documents. " + FILTER_HELP,
        )

        @server.tool(annotations=READS)
        async def list_collections() -> CollectionList:
            """The collections and how many documents each holds."""
            return CollectionList(collections=await _answer(store.list_collections()))

        @server.tool(annotations=INSERTS)
        async def insert(
            collection: Collection,
            documents: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_BATCH)],
        ) -> Inserted:
            """Add JSON documents to a collection (made if new), all or none. A document's
            "_id" (a string) is kept; one without gets a new id."""
            return Inserted(ids=await _answer(store.insert(collection, documents)))

        @server.tool(annotations=READS)
        async def get(
            collection: Collection, id: Annotated[str, Field(min_length=1, max_length=128)]
        ) -> Document:
            """One document by its _id."""
            found = await _answer(store.get(collection, id))
            if found is None:
                raise ToolError(f"no document {id!r} in {collection!r}")
            return Document(document=found)

        @server.tool(annotations=READS)
        async def find(
            collection: Collection,
            filter: Filter | None = None,
            sort: Annotated[list[SortKey], Field(max_length=5)] | None = None,
            limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 100,
        ) -> Found:
            """Documents matching the filter, sorted (missing and null first, then numbers,
            strings, booleans; insertion order breaks ties), at most limit."""
            keys = [key.model_dump() for key in sort or ()]
            documents = await _answer(store.find(collection, filter, keys, limit))
            return Found(documents=documents, returned=len(documents))

        @server.tool(annotations=READS)
        async def count(collection: Collection, filter: Filter | None = None) -> Counted:
            """How many documents match the filter."""
            return Counted(count=await _answer(store.count(collection, filter)))

        @server.tool(annotations=CHANGES)
        async def update(
            collection: Collection,
            filter: Filter,
            set: Annotated[dict[str, Any], Field(description="Top-level fields to set.")],
        ) -> Changed:
            """Set fields of every document matching the filter (a filter is required)."""
            return Changed(changed=await _answer(store.update(collection, filter, set)))

        @server.tool(annotations=CHANGES)
        async def delete(collection: Collection, filter: Filter) -> Changed:
            """Delete every document matching the filter (a filter is required)."""
            return Changed(changed=await _answer(store.delete(collection, filter)))

        return server


def open_store(sqlite: Path | None, postgres: str | None) -> SqlDocumentStore:
    """PostgreSQL if a connection string is given (option or environment), else SQLite."""
    conninfo = postgres or os.environ.get(POSTGRES_ENV)
    if conninfo:
        from hybridmcp_app.datastores.postgres_document_store import PostgresDocumentStore

        return PostgresDocumentStore(conninfo)
    from hybridmcp_app.datastores.sqlite_document_store import SqliteDocumentStore

    if sqlite is None:
        from hybridmcp_app.config.paths import AppPaths

        sqlite = AppPaths.from_environment().ensure().data_dir / "docstore.sqlite3"
    return SqliteDocumentStore(sqlite)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m hybridmcp_app.mcp_servers.docstore", add_help=False,
        description="Docstore options (the transport options follow).",
    )  # fmt: skip
    engine = parser.add_mutually_exclusive_group()
    engine.add_argument("--sqlite", type=Path, metavar="FILE", help="a SQLite file")
    engine.add_argument(
        "--postgres", metavar="CONNINFO", help=f"a libpq connection string (or ${POSTGRES_ENV})"
    )
    args, rest = parser.parse_known_args(argv)
    if "-h" in rest or "--help" in rest:
        parser.print_help()
    DocstoreServer(open_store(args.sqlite, args.postgres)).main(rest)


if __name__ == "__main__":
    main()
