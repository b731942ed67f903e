"""The library the running app shares with other MCP clients is never served without a token
(issue #19, hole 3): without a keychain the app makes one for its run and keeps it only in the
endpoint file, 0600 in a 0700 folder, where the relay (another client's ``documents`` server)
finds it, and a stranger cannot ``add_path`` a file to read it back."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from hybridmcp_app.config.paths import HOME_ENV_VAR, AppPaths
from hybridmcp_app.config.settings import DocumentsSettings
from hybridmcp_app.documents.library_service import LibraryService
from hybridmcp_app.embeddings.onnx_embedder import OnnxEmbedder
from hybridmcp_app.mcp_servers.server_base import TOKEN_ENV
from hybridmcp_app.services.app_services import AppServices
from tests.helpers.file_keyring import keyring_env
from tests.helpers.http_probes import mcp_message, post
from tests.helpers.mcp_results import structured_of
from tests.helpers.served_endpoints import app_context, app_sharing
from tests.helpers.waiting import PATIENCE_S

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
async def context(app_paths: AppPaths, tmp_path: Path) -> AsyncIterator[AppServices]:
    async with app_context(app_paths, tmp_path / "model-cache") as context:
        yield context


@pytest.fixture
async def library(app_paths: AppPaths) -> AsyncIterator[LibraryService]:
    library = await LibraryService.open(DocumentsSettings(), app_paths.data_dir, OnnxEmbedder())
    try:
        yield library
    finally:
        await library.close()


def relay(paths: AppPaths) -> StdioServerParameters:
    """The documents server as another client starts it: same user, no keychain either."""
    env = {key: value for key, value in os.environ.items() if key != TOKEN_ENV}
    env |= {HOME_ENV_VAR: str(paths.data_dir.parent)} | keyring_env(None)
    module = "hybridmcp_app.mcp_servers.documents"
    return StdioServerParameters(command=sys.executable, args=["-m", module], cwd=REPO, env=env)


def file_modes(path: Path) -> tuple[int, int] | None:
    """The modes of the file and its folder, if the file is there."""
    if not path.exists():
        return None
    return stat.S_IMODE(path.stat().st_mode), stat.S_IMODE(path.parent.stat().st_mode)


def stranger_adds(url: str, path: Path, authorization: str | None) -> list[int]:
    """The statuses a stranger's ``add_path`` of ``path`` gets, step by step, up to the first
    refusal: a session opened, then the call in it."""
    hello = post(url, mcp_message("initialize", {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "stranger", "version": "1"},
    }), authorization=authorization)  # fmt: skip
    if hello.status_code != 200:
        return [hello.status_code]
    session = hello.headers["mcp-session-id"]
    post(url, mcp_message("notifications/initialized", id_=None), authorization=authorization,
         session=session)  # fmt: skip
    add = mcp_message("tools/call", {"name": "add_path", "arguments": {"path": str(path)}}, id_=2)
    return [200, post(url, add, authorization=authorization, session=session).status_code]


async def test_without_a_keychain_a_stranger_cannot_add_a_file_and_the_relay_uses_the_files_token(
    context: AppServices, library: LibraryService, app_paths: AppPaths, tmp_path: Path
) -> None:
    diary = tmp_path / "private" / "diary.txt"
    diary.parent.mkdir()
    diary.write_text("Dear diary, the safe's code is 4711.\n")

    async with app_sharing(context, library) as endpoint:
        stranger = [
            await asyncio.to_thread(stranger_adds, endpoint.url, diary, authorization)
            for authorization in (None, "Bearer guessed-token")
        ]
        modes = file_modes(app_paths.data_dir / "sharing" / "documents-endpoint.json")
        async with asyncio.timeout(PATIENCE_S), Client(relay(app_paths)) as client:
            stats = structured_of(await client.call_tool("library_stats", {}))

    assert stranger == [[401], [401]]
    assert (await library.stats()).files == 0  # the diary was never added
    assert modes == (0o600, 0o700)
    assert endpoint.token is not None and len(endpoint.token) >= 40
    assert stats["files"] == 0  # the relay got in with the token from the file
