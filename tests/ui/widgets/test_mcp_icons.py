"""Server icons as QIcons: data: images are drawn; https icons on a remote server's own site
are fetched and drawn; others show the placeholder, whose tooltip says why, until the user
allows icons from other sites."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import qasync
import trustme
from PySide6.QtGui import QColor, QIcon
from PySide6.QtWidgets import QApplication

from hybridmcp_app.app import shut_down
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.mcp_host.mcp_items import McpIcon, McpPrompt
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.services.mcp_icon_fetch import McpIconFetcher
from hybridmcp_app.services.mcp_icons import McpIconSource
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.widgets.qt_mcp_icons import QtMcpIcons
from tests.helpers.icon_site import IconSite, client_context, icon_site, png_bytes
from tests.helpers.llama_server import free_port
from tests.helpers.processes import stop
from tests.helpers.waiting import PATIENCE_S, poll_until, wait_until


def prompt_with(*sources: str, server: str = "s") -> McpPrompt:
    return McpPrompt(server=server, name="p", icons=tuple(McpIcon(src=src) for src in sources))


def red(icon: QIcon) -> bool:
    return not icon.isNull() and icon.pixmap(16, 16).toImage().pixelColor(8, 8) == QColor("red")


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def site(ca: trustme.CA) -> Iterator[IconSite]:
    with icon_site(ca) as serving:
        yield serving


def test_a_data_uri_png_is_drawn_and_a_local_servers_https_icon_shows_why_it_is_not(
    qapp: QApplication,
) -> None:
    icons = QtMcpIcons()
    png = "data:image/png;base64," + base64.b64encode(png_bytes()).decode("ascii")

    drawn = icons.icon(prompt_with(png))
    remote = prompt_with("https://example.com/icon.png")
    plain = prompt_with("http://example.com/icon.png")

    assert red(drawn) and drawn.cacheKey() != icons.placeholder.cacheKey()
    assert icons.icon(remote).cacheKey() == icons.placeholder.cacheKey()
    assert "another site (example.com)" in icons.tooltip("Plan a day", remote)
    assert icons.tooltip("Plan a day", remote).startswith("Plan a day\n")
    assert "not http:" in icons.tooltip("", plain)
    assert icons.icon(prompt_with()).isNull() and icons.tooltip("Plan", prompt_with()) == "Plan"


def test_icons_from_other_sites_are_fetched_only_once_the_user_allows_it(
    qapp: QApplication, qt_loop: qasync.QEventLoop, site: IconSite, ca: trustme.CA
) -> None:
    allowed = False
    source = McpIconSource(
        McpIconFetcher(None, verify=client_context(ca)),
        other_sites=lambda: allowed,
        spawn=qt_loop.create_task,
    )
    icons = QtMcpIcons(source)
    arrivals: list[None] = []
    icons.changed.connect(lambda: arrivals.append(None))
    item = prompt_with(site.url + "/icon.png", server="local")

    assert icons.icon(item).cacheKey() == icons.placeholder.cacheKey()
    assert "Load MCP server icons from other sites" in icons.tooltip("", item)
    assert site.hits("/icon.png") == 0

    allowed = True
    assert icons.icon(item).cacheKey() == icons.placeholder.cacheKey()  # being fetched
    qt_loop.run_until_complete(wait_until(lambda: bool(arrivals)))
    assert red(icons.icon(item)) and icons.tooltip("", item) == ""

    broken = prompt_with(site.url + "/page.png", server="local")
    icons.icon(broken)
    qt_loop.run_until_complete(wait_until(lambda: len(arrivals) == 2))
    assert icons.icon(broken).cacheKey() == icons.placeholder.cacheKey()
    assert icons.tooltip("", broken) == (
        "Its icon could not be loaded: it is not a PNG, JPEG, GIF, WebP or SVG image."
    )


@pytest.fixture
def iconic_server(tmp_path: Path, ca: trustme.CA, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The SDK server of ``icon_mcp_server`` over TLS; the app trusts its CA (SSL_CERT_FILE, as
    a user with a company CA would set). Yields its URL."""
    pem, ca_file = tmp_path / "server.pem", tmp_path / "ca.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    monkeypatch.setenv("HYBRIDMCP_MCP__INIT_TIMEOUT_S", str(PATIENCE_S))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.icon_mcp_server", str(port), str(pem)],
        stderr=subprocess.DEVNULL,
    )

    def listening() -> bool:
        assert process.poll() is None, "the icon server stopped"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=PATIENCE_S).close()
        except OSError:
            return False
        return True

    try:
        poll_until(listening, "the icon server listening")
        yield f"https://127.0.0.1:{port}/mcp"
    finally:
        stop(process)


def test_a_remote_servers_icons_on_its_own_site_are_drawn_in_the_tools_and_commands(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    iconic_server: str,
) -> None:
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    servers = {"mcpServers": {"iconic": {"url": iconic_server}}}
    app_paths.mcp_config_file.write_text(json.dumps(servers))
    window = make_window()
    table = window.mcp_view.tools

    def tool_icon() -> QIcon:
        item = table.item(0, 0)
        return item.icon() if item is not None else QIcon()

    def command_icon() -> QIcon:
        row = window.chat_view.mcp.commands.item(0)
        return row.icon() if row is not None else QIcon()

    async def scenario() -> None:  # one loop run: the host's connections live in it
        host = await start_mcp_host(window.context, window.mcp_host_ready)
        await wait_until(lambda: host.supervisors["iconic"].status.state is ServerState.READY)
        window.mcp_view.redraw()
        window.chat_view.prompt.setPlainText("/greet")
        await wait_until(lambda: red(tool_icon()) and red(command_icon()))
        assert tool_icon().cacheKey() != table.icons.placeholder.cacheKey()
        assert table.item(0, 0).toolTip() == "iconic__ping (changes things)"  # type: ignore[union-attr]
        assert len(list((app_paths.cache_dir / "mcp-icons").iterdir())) == 1
        attachments = window.chat_view.mcp.attachments_service
        assert attachments is not None
        await wait_until(lambda: bool(attachments.resources()))  # listed
        picker = window.chat_view.mcp.open_picker()  # the resource names the same icon
        assert picker is not None
        await picker.loading
        row = picker.items.item(0)
        assert row is not None and red(row.icon())

    qt_loop.run_until_complete(scenario())
    window.close()
    assert shut_down(window.context, qt_loop) == []  # the connection ends before the loop
