"""The MCP tab's sign-in states, true from start-up: read from the keychain (tokens a real
authorization server on 127.0.0.1 issued, ``tests.helpers.oauth_server``) before any call, and
a 403 ``insufficient_scope`` on a background call told apart from an expired sign-in."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from functools import partial

import qasync
from PySide6.QtGui import QDesktopServices
from pytestqt.qtbot import QtBot

from hybridmcp_app.app import shut_down
from hybridmcp_app.cli.mcp_conformance import follow_to_loopback
from hybridmcp_app.config.mcp_config import RemoteServerConfig
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.mcp_host.oauth_sign_in import SignIns
from hybridmcp_app.mcp_host.oauth_state import SignInNeed, SignInState
from hybridmcp_app.mcp_host.server_status import ServerState, ServerStatus
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.services.mcp_requests import host_requests, unattended_asker
from hybridmcp_app.services.mcp_sampling import DenyingApprover
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.mcp.qt_mcp_server_row import QtServerRow
from tests.helpers.oauth_server import oauth_mcp_server_in_thread
from tests.helpers.waiting import wait_until
from tests.ui.mcp.test_mcp_server_sign_in import BrowserStandIn


def started_window(
    make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop, app_paths: AppPaths,
    servers: dict[str, dict[str, object]], signed_in: list[str],
    then: Callable[[SignIns], None] = lambda _sign_ins: None, *, start: bool = True,
) -> MainWindow:  # fmt: skip
    """A window whose keychain holds a sign-in to each URL in ``signed_in`` (made through a
    non-interactive browser first, then changed by ``then``), with ``servers`` in mcp.json and
    the MCP host started."""
    window = make_window()
    sign_ins = SignIns(window.context.secrets)
    for url in signed_in:
        config = RemoteServerConfig.model_validate({"url": url})
        qt_loop.run_until_complete(sign_ins.sign_in("setup", config, follow_to_loopback))
    then(sign_ins)
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": servers}))
    if start:
        qt_loop.run_until_complete(start_host(window))
    return window


async def start_host(window: MainWindow) -> None:
    requests = partial(
        host_requests, window.context, unattended_asker("decline"), DenyingApprover()
    )
    await start_mcp_host(window.context, window.mcp_host_ready, host_requests=requests)


def row_of(window: MainWindow, name: str) -> QtServerRow:
    window.mcp_view.redraw()
    return window.mcp_view._rows[name]


def test_a_more_permission_row_names_the_scopes_in_its_tooltip_and_offers_sign_in(
    qtbot: QtBot,
) -> None:
    clicked: list[tuple[str, bool]] = []
    row = QtServerRow("remote", lambda _n, _on: None, lambda n, s: clicked.append((n, s)))
    qtbot.addWidget(row)
    row.show_status(ServerStatus("remote", ServerState.READY), True, 0.0)
    assert not row.sign_in.isVisibleTo(row)

    row.set_sign_in(SignInNeed(state=SignInState.MORE_PERMISSION, scope="read files:write"))
    assert "needs more permission" in row.label.text() and "expired" not in row.label.text()
    assert "read files:write" in row.label.toolTip()
    assert "read files:write" in row.sign_in.toolTip()
    assert row.sign_in.isVisibleTo(row) and row.sign_in.text() == "Sign in"
    row.sign_in.click()
    assert clicked == [("remote", False)]

    row.set_sign_in(SignInNeed(state=SignInState.EXPIRED))
    assert "sign-in expired" in row.label.text() and "files:write" not in row.label.toolTip()
    row.set_sign_in(SignInNeed(state=SignInState.SIGNED_IN))
    assert "signed in" in row.label.text() and row.sign_in.text() == "Sign out"
    row.sign_in.click()
    assert clicked[-1] == ("remote", True)


def test_stored_sign_ins_show_at_start_up_before_any_connection(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    with oauth_mcp_server_in_thread() as fresh, oauth_mcp_server_in_thread() as stale:
        servers: dict[str, dict[str, object]] = {
            "fresh": {"url": fresh.url, "disabled": True},  # switched off: never connected
            "stale": {"url": stale.url, "disabled": True},
            "never": {"url": fresh.url + "/other", "disabled": True},  # no sign-in known
        }

        def expire(sign_ins: SignIns) -> None:  # ran out while the app was closed, unrefreshable
            storage = sign_ins.storage(stale.url)
            record = storage.record()
            assert record is not None and record.tokens is not None
            tokens = {k: v for k, v in record.tokens.items() if k != "refresh_token"}
            storage._save(record.model_copy(update={"tokens": tokens, "expires_at": 0.0}))

        window = started_window(
            make_window, qt_loop, app_paths, servers, [fresh.url, stale.url], expire
        )
        host = window.context.mcp_host
        assert host is not None

        qt_loop.run_until_complete(
            wait_until(
                lambda: (
                    "signed in" in row_of(window, "fresh").label.text()
                    and "sign-in expired" in row_of(window, "stale").label.text()
                )
            )
        )
        assert row_of(window, "fresh").sign_in.text() == "Sign out"
        assert row_of(window, "stale").sign_in.text() == "Sign in"
        assert not row_of(window, "never").sign_in.isVisibleTo(row_of(window, "never"))
        assert all(s.status.state is ServerState.STOPPED for s in host.supervisors.values())
        assert (fresh.authorization.refreshes, stale.authorization.refreshes) == (0, 0)
        window.close()
        assert shut_down(window.context, qt_loop) == []


def test_a_background_call_refused_for_want_of_scope_asks_for_more_permission(
    app_paths: AppPaths, make_window: Callable[..., MainWindow], qt_loop: qasync.QEventLoop
) -> None:
    """On the supervisor's own connection: the refused call fails with the reason and the
    connection lives on; the row asks for more permission; Sign in asks the browser for the new
    scope; after the restart that follows, the call goes through."""
    stack = contextlib.ExitStack()
    server = stack.enter_context(oauth_mcp_server_in_thread())
    browser = BrowserStandIn()
    window = started_window(
        make_window, qt_loop, app_paths, {"remote": {"url": server.url}}, [server.url],
        start=False,
    )  # fmt: skip

    async def scenario() -> None:  # one loop run: the host's connections live in it
        await start_host(window)
        host = window.context.mcp_host
        assert host is not None
        supervisor = host.supervisors["remote"]
        await wait_until(
            lambda: (
                supervisor.status.state is ServerState.READY
                and "signed in" in row_of(window, "remote").label.text()
            )
        )
        server.require_scope("files:write")
        refused = await supervisor.call_tool("whoami", {})
        assert refused.is_error and "needs more permission" in refused.text, refused.text
        await wait_until(lambda: "needs more permission" in row_of(window, "remote").label.text())
        row = row_of(window, "remote")
        assert "files:write" in row.label.toolTip() and "expired" not in row.label.text()
        assert row.sign_in.text() == "Sign in" and browser.opened == []
        assert server.refused_for_scope == 2  # the call, and the same request sent once more
        assert supervisor.status.state is ServerState.READY  # the connection lives on

        first_ready = supervisor.status.ready_since
        row.sign_in.click()  # the server still lets us in: only its tool wants the new scope
        await wait_until(
            lambda: (
                server.authorization.authorizations == 2
                and "signed in" in row_of(window, "remote").label.text()
            )
        )
        assert len(browser.opened) == 1 and "scope=files%3Awrite" in browser.opened[0]
        record = SignIns(window.context.secrets).storage(server.url).record()
        assert record is not None and record.holds("files:write") and not record.wanted_scope
        # Signing in restarts the server; its new connection's call goes through.
        await wait_until(
            lambda: (
                supervisor.status.state is ServerState.READY
                and supervisor.status.ready_since != first_ready
            )
        )
        answered = await supervisor.call_tool("whoami", {})
        assert not answered.is_error and answered.text == "a signed-in client", answered.text

    try:
        # PySide takes the slot's name as str (its stub says bytes).
        QDesktopServices.setUrlHandler("http", browser, "open")  # type: ignore[arg-type]
        qt_loop.run_until_complete(scenario())
        window.close()
        assert shut_down(window.context, qt_loop) == []
    finally:
        QDesktopServices.unsetUrlHandler("http")
        stack.close()
