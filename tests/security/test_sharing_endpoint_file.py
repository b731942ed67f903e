"""The endpoint file of the shared library holds a token, so it is kept as a secret (issue #19,
hole 3): where it cannot be kept private the library is not shared and the app says why; a
folder that is a link is refused, a loose one made earlier is tightened, and a file other users
could read (or planted) is not believed."""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.mcp_servers.sharing_endpoint import (
    DocumentsEndpoint,
    SharingRefused,
    endpoint_file,
    private_folder,
    read_endpoint,
)
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.services.app_startup import share_library
from tests.helpers.served_endpoints import app_context


@pytest.fixture
async def context(app_paths: AppPaths, tmp_path: Path) -> AsyncIterator[AppServices]:
    async with app_context(app_paths, tmp_path / "model-cache") as context:
        yield context


async def test_a_data_folder_every_user_can_change_is_not_used_and_the_app_says_why(
    context: AppServices, app_paths: AppPaths
) -> None:
    app_paths.data_dir.chmod(0o777)
    problems: list[str] = []
    try:
        await share_library(context, AppLibrarySource(), problems.append)  # returns: not shared
    finally:
        app_paths.data_dir.chmod(0o755)

    assert len(problems) == 1
    assert problems[0].startswith("The library is not shared with other MCP clients: ")
    assert f"{app_paths.data_dir} can be changed by every user" in problems[0]
    assert not endpoint_file(app_paths.data_dir).exists()


def test_a_sharing_folder_that_is_a_link_is_refused(app_paths: AppPaths, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (app_paths.data_dir / "sharing").symlink_to(elsewhere, target_is_directory=True)

    with pytest.raises(SharingRefused, match="sharing is a symbolic link"):
        private_folder(app_paths.data_dir)


def test_an_endpoint_open_to_other_users_is_not_believed(app_paths: AppPaths) -> None:
    """A file another program left readable (or another user planted) is not an endpoint."""
    folder = private_folder(app_paths.data_dir)
    planted = DocumentsEndpoint(url="http://127.0.0.1:9/mcp", pid=os.getpid(), token="x" * 43)
    path = folder / "documents-endpoint.json"
    path.write_text(planted.model_dump_json())
    path.chmod(0o644)
    assert read_endpoint(app_paths.data_dir) is None
    path.chmod(0o600)
    assert read_endpoint(app_paths.data_dir) == planted
    folder.chmod(0o755)
    assert read_endpoint(app_paths.data_dir) is None


def test_a_sharing_folder_made_with_a_loose_mode_is_tightened(app_paths: AppPaths) -> None:
    (app_paths.data_dir / "sharing").mkdir()
    (app_paths.data_dir / "sharing").chmod(0o755)  # an older version, another umask
    folder = private_folder(app_paths.data_dir)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
