"""While the app owns the library, another client's documents server (a real stdio subprocess,
as Claude Desktop starts it) relays to the app's shared endpoint: same library, token from the
keychain, and a clear message once the app stops sharing."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app import APP_NAME
from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths
from hybridmcp_app.config.server_token import TOKEN_SECRET_NAME
from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_servers.documents import DocumentsServer
from hybridmcp_app.mcp_servers.documents_sharing import share_library
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from hybridmcp_app.mcp_servers.sharing_endpoint import (
    DocumentsEndpoint,
    endpoint_file,
    read_endpoint,
    write_endpoint,
)
from tests.helpers.chroma_corpus import FACT, FACT_QUESTION, write_corpus
from tests.helpers.file_keyring import keyring_env
from tests.helpers.mcp_results import assert_refused, text_of
from tests.helpers.waiting import PATIENCE_S, wait_until

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[3]
TOKEN = "shared-library-token-0123456789abcdef"


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths.under(tmp_path / "home").ensure()


@pytest.fixture
async def app_library(paths: AppPaths) -> AsyncIterator[LibraryService]:
    """The app's side: it owns the library and shares it."""
    library = await LibraryService.open(DocumentsSettings(), paths.data_dir, OnnxEmbedder())
    try:
        yield library
    finally:
        await library.close()


def client_of(paths: AppPaths, keychain: Path) -> StdioServerParameters:
    """The documents server as another client starts it, with its own keychain."""
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    env |= {HOME_ENV_VAR: str(paths.data_dir.parent)} | keyring_env(keychain)
    module = "hybridmcp_app.mcp_servers.documents"
    return StdioServerParameters(command=sys.executable, args=["-m", module], cwd=REPO, env=env)


def keychain_with(path: Path, token: str) -> Path:
    path.write_text(json.dumps({f"{APP_NAME}/{TOKEN_SECRET_NAME}": token}))
    return path


async def start_sharing(library: LibraryService, paths: AppPaths) -> asyncio.Task[None]:
    source = AppLibrarySource()
    source.opened(library, None)
    sharing = asyncio.create_task(share_library(DocumentsServer(source), paths.data_dir, TOKEN))
    await wait_until(lambda: read_endpoint(paths.data_dir) is not None)
    return sharing


async def stop(sharing: asyncio.Task[None]) -> None:
    sharing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sharing


async def test_another_clients_server_uses_the_apps_library_through_it(
    tmp_path: Path, paths: AppPaths, app_library: LibraryService
) -> None:
    corpus = write_corpus(tmp_path / "corpus", files=3)[0].parent
    sharing = await start_sharing(app_library, paths)
    keychain = keychain_with(tmp_path / "keychain.json", TOKEN)
    try:
        async with asyncio.timeout(PATIENCE_S), Client(client_of(paths, keychain)) as client:
            added = await client.call_tool("add_path", {"path": str(corpus)})
            found = await client.call_tool("search", {"query": FACT_QUESTION, "k": 1})
            unknown = await client.call_tool("get_document", {"document": "doc-000000000000"})
            assert (await app_library.stats()).indexed == 4  # into the app's own library
            await stop(sharing)
            assert not endpoint_file(paths.data_dir).exists()
            after = await client.call_tool("library_stats", {})
    finally:
        await stop(sharing)

    assert added.structured_content is not None and added.structured_content["indexed"] == 4
    assert found.structured_content is not None
    assert FACT in found.structured_content["passages"][0]["text"]
    assert_refused(unknown, "no document 'doc-000000000000' in the library")
    assert_refused(after, "the library is open in ")  # no longer shared: who holds it, and why


async def test_without_the_right_token_the_relay_is_refused(
    tmp_path: Path, paths: AppPaths, app_library: LibraryService
) -> None:
    sharing = await start_sharing(app_library, paths)
    keychain = keychain_with(tmp_path / "keychain.json", "not-the-token")
    try:
        async with asyncio.timeout(PATIENCE_S), Client(client_of(paths, keychain)) as client:
            refused = await client.call_tool("library_stats", {})
    finally:
        await stop(sharing)

    assert_refused(refused, "its sharing endpoint did not answer")
    assert TOKEN not in text_of(refused)


def test_an_endpoint_left_by_a_dead_app_is_ignored(paths: AppPaths) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    endpoint = DocumentsEndpoint(url="http://127.0.0.1:9/mcp", pid=dead.pid)
    write_endpoint(paths.data_dir, endpoint)
    assert read_endpoint(paths.data_dir) is None
    endpoint_file(paths.data_dir).write_text("{not json")
    assert read_endpoint(paths.data_dir) is None
