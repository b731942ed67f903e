"""When the app cannot share its library safely (issue #19, hole 3), the MCP tab says so with
the documents server's entry under Use elsewhere, naming the reason."""

from __future__ import annotations

import sys
from collections.abc import Callable

import qasync

from hybridmcp_app.config.mcp_config import StdioServerConfig
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.documents.app_library_source import AppLibrarySource
from hybridmcp_app.mcp_host.builtin_servers import DOCUMENTS_MODULE
from hybridmcp_app.services.app_startup import share_library
from hybridmcp_app.ui.main_window import MainWindow


def test_a_library_that_cannot_be_shared_safely_is_explained_in_the_mcp_tab(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    window = make_window()
    panel = window.mcp_view.elsewhere
    documents = StdioServerConfig(command=sys.executable, args=("-m", DOCUMENTS_MODULE))
    panel.show_server("documents", documents)
    assert "not shared" not in panel.note.text()

    app_paths.data_dir.chmod(0o777)  # every user could swap the endpoint file's folder
    try:
        sharing = share_library(window.context, AppLibrarySource(),
                                window.mcp_view.library_not_shared)  # fmt: skip
        qt_loop.run_until_complete(sharing)
    finally:
        app_paths.data_dir.chmod(0o755)

    note = panel.note.text()
    assert "The library is not shared with other MCP clients: " in note
    assert f"{app_paths.data_dir} can be changed by every user" in note
    panel.show_server("workspace", StdioServerConfig(command=sys.executable, args=("-m", "x")))
    assert "not shared" not in panel.note.text()  # only with the documents entry
