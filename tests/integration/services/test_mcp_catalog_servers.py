"""Our servers added from their catalogue entries really start through the MCP host, offer
the tools their entries list (read-only and writing as the entries say), and a secret setting
reaches the server from the keychain."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from hybridmcp_app.config.mcp_config import ServerConfig
from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.mcp_references import resolved_server
from hybridmcp_app.config.paths import HOME_ENV_VAR
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.mcp_host.mcp_host_service import McpHost
from hybridmcp_app.services.mcp_catalog import CatalogEntry, McpCatalog, add, load_catalog
from tests.helpers.docstore_data import fresh_database
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import wait_until
from tests.integration.mcp_host.conftest import FAST

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def catalog() -> McpCatalog:
    return load_catalog()


def entry(catalog: McpCatalog, entry_id: str) -> CatalogEntry:
    return next(e for e in catalog.servers if e.id == entry_id)


def host_over(source: McpJsonFile, tmp_path: Path, secrets: SecretStore) -> McpHost:
    environ = {**os.environ, HOME_ENV_VAR: str(tmp_path / "home")}

    def resolve(name: str, config: ServerConfig) -> ServerConfig:
        return resolved_server(name, config, secrets, environ)

    return McpHost(source, tmp_path / "logs", resolve=resolve, policy=FAST, environ=environ)


async def test_our_servers_added_from_the_catalogue_start_and_offer_the_tools_it_lists(
    catalog: McpCatalog, tmp_path: Path
) -> None:
    secrets = SecretStore(MemoryKeyring(), KeychainStatus(True, "memory"))
    source = McpJsonFile(tmp_path / "mcp.json")
    (tmp_path / "project").mkdir()
    chosen = {
        "docstore": {"sqlite_file": str(tmp_path / "docs.sqlite3")},
        "workspace": {"folder": str(tmp_path / "project")},
        "turtle-soup": {"judge": "local"},
    }
    for entry_id, values in chosen.items():
        added = add(source, entry(catalog, entry_id), values, {}, secrets)
        source.set_server_enabled(added.name, True)
    host = host_over(source, tmp_path, secrets)
    try:
        await host.start()
        await wait_until(lambda: host.ready_count() == len(chosen))
        for entry_id in chosen:
            listed = entry(catalog, entry_id)
            tools = [t for t in host.registry.tools() if t.server == entry_id]
            assert {t.name for t in tools if t.read_only} == set(listed.read_only_tools)
            assert {t.name for t in tools if not t.read_only} == set(listed.write_tools)
        inserted = await host.registry.call(
            "docstore__insert", {"collection": "notes", "documents": [{"text": "hello"}]}
        )
        assert not inserted.is_error, inserted.text
        assert (tmp_path / "docs.sqlite3").exists()
    finally:
        assert await host.shutdown() == []


async def test_a_secret_setting_reaches_the_server_from_the_keychain(
    catalog: McpCatalog, tmp_path: Path, postgres: str
) -> None:
    conninfo = fresh_database(postgres)
    keyring = MemoryKeyring()
    secrets = SecretStore(keyring, KeychainStatus(True, "memory"))
    source = McpJsonFile(tmp_path / "mcp.json")
    added = add(source, entry(catalog, "docstore"), {}, {"postgres": conninfo}, secrets)
    assert conninfo not in source.path.read_text()
    source.set_server_enabled(added.name, True)
    host = host_over(source, tmp_path, secrets)
    try:
        await host.start()
        await wait_until(lambda: host.ready_count() == 1)
        inserted = await host.registry.call(
            "docstore__insert", {"collection": "notes", "documents": [{"_id": "n1", "x": 1}]}
        )
        assert not inserted.is_error, inserted.text
    finally:
        assert await host.shutdown() == []
    with psycopg.connect(conninfo) as connection:
        tables = connection.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables is not None and tables[0] >= 1  # the documents went to PostgreSQL
