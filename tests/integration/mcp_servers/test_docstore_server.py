"""The docstore MCP server on SQLite and on a real PostgreSQL cluster: in memory with the SDK,
as a stdio subprocess (SQLite by default, PostgreSQL from the environment), over Streamable HTTP,
and through the MCP Inspector's CLI."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app.config.paths import HOME_ENV_VAR
from hybridmcp_app.datastores.postgres_document_store import PostgresDocumentStore
from hybridmcp_app.datastores.sql_document_store import SqlDocumentStore
from hybridmcp_app.mcp_servers.docstore import POSTGRES_ENV, DocstoreServer
from tests.helpers.docstore_data import PEOPLE, fresh_database
from tests.helpers.llama_server import free_port
from tests.helpers.mcp_http import http_server
from tests.helpers.mcp_inspector import InspectorCli
from tests.helpers.mcp_results import assert_refused, structured_of
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
MODULE = "hybridmcp_app.mcp_servers.docstore"
TOOLS = {  # name: (readOnlyHint, destructiveHint, idempotentHint)
    "list_collections": (True, False, True),
    "insert": (False, False, False),
    "get": (True, False, True),
    "find": (True, False, True),
    "count": (True, False, True),
    "update": (False, True, True),
    "delete": (False, True, True),
}


@pytest.fixture
def store(docstore: SqlDocumentStore) -> SqlDocumentStore:
    """The store on each engine in turn (``docstore`` in tests/integration/conftest.py)."""
    return docstore


async def round_trip(client: Client) -> None:
    """Insert, find with filter and sort, count, update, delete: what any client does."""
    inserted = structured_of(await client.call_tool("insert", {"collection": "people",
                                                         "documents": PEOPLE}))  # fmt: skip
    assert inserted["ids"] == [person["_id"] for person in PEOPLE]
    found = structured_of(await client.call_tool("find", {
        "collection": "people", "filter": {"age": {"$gte": 17}},
        "sort": [{"field": "age", "order": "desc"}], "limit": 2,
    }))  # fmt: skip
    assert [doc["_id"] for doc in found["documents"]] == ["dee", "ada"]
    assert structured_of(await client.call_tool("get", {"collection": "people", "id": "cyd"})) == {
        "document": PEOPLE[2]
    }
    counted = await client.call_tool("count", {"collection": "people", "filter": {"active": True}})
    assert structured_of(counted) == {"count": 2}
    updated = await client.call_tool(
        "update", {"collection": "people", "filter": {"_id": "bob"}, "set": {"age": 18}}
    )
    assert structured_of(updated) == {"changed": 1}
    deleted = await client.call_tool(
        "delete", {"collection": "people", "filter": {"city.name": "Paris"}}
    )
    assert structured_of(deleted) == {"changed": 1}
    listed = structured_of(await client.call_tool("list_collections", {}))
    assert listed == {"collections": [{"name": "people", "count": 4}]}


async def refusals(client: Client) -> None:
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("find", {"collection": "x y"}, "should match pattern"),
        ("find", {"collection": "people", "filter": {"a": {"$where": "1"}}}, "unknown operator"),
        ("delete", {"collection": "people", "filter": {}}, "delete needs a filter"),
        ("get", {"collection": "people", "id": "nobody"}, "no document 'nobody'"),
        ("insert", {"collection": "people", "documents": [PEOPLE[0]]}, "already has"),
        ("find", {"collection": "people", "limit": 5000}, "less than or equal to 1000"),
    ]
    for tool, arguments, fragment in cases:
        assert_refused(await client.call_tool(tool, arguments), fragment)


async def test_in_memory_on_each_engine(store: SqlDocumentStore) -> None:
    async with Client(DocstoreServer(store).build()) as client:
        tools = (await client.list_tools()).tools
        await round_trip(client)
        await refusals(client)
    hints = {
        tool.name: (a.read_only_hint, a.destructive_hint, a.idempotent_hint)
        for tool in tools
        if (a := tool.annotations) is not None
    }
    assert hints == TOOLS


def parameters(home: Path, **env: str) -> StdioServerParameters:
    environment = {**os.environ, HOME_ENV_VAR: str(home), **env}
    environment.pop(POSTGRES_ENV, None) if POSTGRES_ENV not in env else None
    return StdioServerParameters(command=sys.executable, args=["-m", MODULE], cwd=REPO,
                                 env=environment)  # fmt: skip


async def test_as_a_subprocess_on_sqlite_in_the_apps_data_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with asyncio.timeout(PATIENCE_S), Client(parameters(home)) as client:
        await round_trip(client)
    assert (home / "data" / "docstore.sqlite3").exists()


async def test_as_a_subprocess_on_postgres_from_the_environment(
    postgres: str, tmp_path: Path
) -> None:
    conninfo = fresh_database(postgres)
    server = parameters(tmp_path, **{POSTGRES_ENV: conninfo})
    async with asyncio.timeout(PATIENCE_S), Client(server) as c:
        await round_trip(c)
        await refusals(c)
    store = PostgresDocumentStore(conninfo)  # the data is in PostgreSQL
    try:
        assert await store.count("people") == 4
    finally:
        await store.close()


async def test_a_dead_postgres_is_a_tool_error_not_a_crash(tmp_path: Path) -> None:
    dead = "host=127.0.0.1 port=9 user=x dbname=x connect_timeout=2"
    server = parameters(tmp_path, **{POSTGRES_ENV: dead})
    async with asyncio.timeout(PATIENCE_S), Client(server) as c:
        result = await c.call_tool("list_collections", {})
    assert_refused(result, "PostgreSQL cannot be reached")


async def test_over_http_on_localhost(tmp_path: Path) -> None:
    env = {**os.environ, HOME_ENV_VAR: str(tmp_path / "home")}
    env.pop(POSTGRES_ENV, None)
    with http_server([MODULE], free_port(), env, REPO) as url:
        async with asyncio.timeout(PATIENCE_S), Client(url) as client:
            await round_trip(client)


def test_the_inspector_lists_the_tools_and_inserts(inspector_script: Path, tmp_path: Path) -> None:
    env = {HOME_ENV_VAR: str(tmp_path / "home")}
    inspector = InspectorCli(inspector_script, [sys.executable, "-m", MODULE], cwd=REPO, env=env)

    tools = inspector.list_tools()
    counted = inspector.call_tool("count", collection="people")

    assert {tool["name"] for tool in tools} == set(TOOLS)
    assert counted["structuredContent"] == {"count": 0}
