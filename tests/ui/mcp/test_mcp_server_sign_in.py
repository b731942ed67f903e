"""The MCP tab's sign-in: a remote server behind OAuth (a real authorization server on
127.0.0.1, ``tests.helpers.oauth_server``) says it needs a sign-in; the row's Sign in opens the
"system browser" (Qt's own URL handler, given a stand-in that follows the authorization
server's redirect) and the server comes up; Sign out forgets the tokens."""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.request
from collections.abc import Callable
from functools import partial

import qasync
from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from hybridmcp_app.app import shut_down
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.mcp_host.oauth_state import SignInState
from hybridmcp_app.mcp_host.server_status import ServerState, ServerStatus
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.services.mcp_requests import host_requests, unattended_asker
from hybridmcp_app.services.mcp_sampling import DenyingApprover
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.mcp.qt_mcp_server_row import QtServerRow, sign_in_state
from tests.helpers.oauth_server import oauth_mcp_server_in_thread
from tests.helpers.waiting import PATIENCE_S, wait_until


class BrowserStandIn(QObject):
    """Opens what Qt is asked to open the way a browser would, on a thread of its own."""

    def __init__(self) -> None:
        super().__init__()
        self.opened: list[str] = []

    @Slot(QUrl)
    def open(self, url: QUrl) -> None:
        self.opened.append(url.toString())

        def follow() -> None:
            with urllib.request.urlopen(url.toString(), timeout=PATIENCE_S) as page:
                page.read()

        threading.Thread(target=follow, daemon=True).start()


def test_a_needs_sign_in_failure_shows_a_sign_in_button_that_reports_the_click(qtbot) -> None:  # type: ignore[no-untyped-def]
    clicked: list[tuple[str, bool]] = []
    row = QtServerRow("remote", lambda _n, _on: None, lambda n, s: clicked.append((n, s)))
    qtbot.addWidget(row)
    failed = ServerStatus(
        "remote", ServerState.FAILED, "needs sign-in: remote asks you to sign in; use …"
    )
    assert sign_in_state(failed, SignInState.NONE) is SignInState.NEEDS_SIGN_IN
    row.show_status(failed, True, 0.0)
    assert "needs sign-in" in row.label.text() and "failed" not in row.label.text()
    assert row.sign_in.isVisibleTo(row) and row.sign_in.text() == "Sign in"
    row.sign_in.click()
    assert clicked == [("remote", False)]
    row.show_status(ServerStatus("remote", ServerState.FAILED, "connection refused"), True, 0.0)
    assert not row.sign_in.isVisibleTo(row) and "failed" in row.label.text()


def test_sign_in_from_the_row_brings_the_server_up_and_sign_out_asks_again(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    stack = contextlib.ExitStack()
    server = stack.enter_context(oauth_mcp_server_in_thread())
    browser = BrowserStandIn()
    try:
        # PySide takes the slot's name as str (its stub says bytes).
        QDesktopServices.setUrlHandler("http", browser, "open")  # type: ignore[arg-type]
        app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
        app_paths.mcp_config_file.write_text(
            json.dumps({"mcpServers": {"remote": {"url": server.url}}})
        )
        window = make_window()
        requests = partial(  # the window's answers to servers, sign-ins included
            host_requests, window.context, unattended_asker("decline"), DenyingApprover()
        )
        view = window.mcp_view

        def row() -> QtServerRow:
            view.redraw()
            return view._rows["remote"]

        async def scenario() -> None:  # one loop run: the host's connections live in it
            host = await start_mcp_host(
                window.context, window.mcp_host_ready, host_requests=requests
            )
            await wait_until(lambda: "needs sign-in" in row().label.text())
            assert row().sign_in.isVisibleTo(row()) and server.authorization.authorizations == 0
            assert host.supervisors["remote"].status.restarts == 0  # a restart cannot sign in

            row().sign_in.click()
            await wait_until(
                lambda: (
                    host.supervisors["remote"].status.state is ServerState.READY
                    and "signed in" in row().label.text()
                )
            )
            assert len(browser.opened) == 1 and server.authorization.authorizations == 1
            assert row().sign_in.text() == "Sign out"
            assert [tool.name for tool in host.supervisors["remote"].status.tools] == ["whoami"]

            row().sign_in.click()
            await wait_until(lambda: "needs sign-in" in row().label.text())
            assert row().sign_in.text() == "Sign in"

        qt_loop.run_until_complete(scenario())
        window.close()
        assert shut_down(window.context, qt_loop) == []
    finally:
        QDesktopServices.unsetUrlHandler("http")
        stack.close()
