"""Installing a real ``.mcpb`` bundle from the MCP tab: the review dialog, then the server's row
with "Uninstall bundle…", which removes it all."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.mcp_json_file import McpJsonFile
from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import KeychainStatus, SecretStore
from hybridmcp_app.mcp_host.server_status import ServerState
from hybridmcp_app.services.app_startup import start_mcp_host
from hybridmcp_app.services.mcpb_bundles import McpbBundles
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.mcp.qt_mcpb_dialog import QtMcpbDialog
from tests.helpers.mcpb_files import write_bundle
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_S, wait_until


@pytest.fixture(autouse=True)
def _patient_server_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRIDMCP_MCP__INIT_TIMEOUT_S", str(PATIENCE_S))


def test_the_review_dialog_shows_the_command_hides_secrets_and_requires_required_settings(
    qtbot: QtBot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    secrets = SecretStore(memory_keyring, KeychainStatus(True, "memory"))
    bundles = McpbBundles(tmp_path / "mcpb", McpJsonFile(tmp_path / "mcp.json"), secrets)
    dialog = QtMcpbDialog(bundles.inspect(write_bundle(tmp_path / "greeter.mcpb")))
    qtbot.addWidget(dialog)
    dialog.show()
    folder = tmp_path / "mcpb" / "greeter"
    assert f"{folder}/server/main.py" in dialog.runs.text()
    assert "GREETER_KEY=<API key>" in dialog.runs.text()
    assert dialog.offers.text() == "Tools: greet\nPrompts: welcome"
    assert dialog.install_button.text() == "Install"
    greeting, key, folders = dialog.settings
    assert greeting.line is not None and greeting.line.text() == "Hello"
    assert key.line is not None and key.line.echoMode() is QLineEdit.EchoMode.Password
    qtbot.mouseClick(dialog.install_button, Qt.MouseButton.LeftButton)
    assert dialog.errors.text() == "“API key” is required" and dialog.isVisible()
    qtbot.keyClicks(key.line, "sk-typed")
    assert folders.lines is not None
    folders.lines.setPlainText("/srv/a\n/srv/b")
    assert "GREETER_KEY=••••••" in dialog.runs.text() and "sk-typed" not in dialog.runs.text()
    assert "main.py /srv/a /srv/b" in dialog.runs.text()
    qtbot.mouseClick(dialog.install_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == QtMcpbDialog.DialogCode.Accepted
    assert dialog.values == {
        "greeting": "Hello",
        "key": "sk-typed",
        "extra_dirs": ["/srv/a", "/srv/b"],
    }


def test_a_bundle_installed_from_the_tab_appears_switched_off_and_uninstalls_from_its_menu(
    app_paths: AppPaths,
    make_window: Callable[..., MainWindow],
    qt_loop: qasync.QEventLoop,
    qtbot: QtBot,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app_paths.mcp_config_file.parent.mkdir(parents=True, exist_ok=True)
    app_paths.mcp_config_file.write_text(json.dumps({"mcpServers": {}}))
    bundle = write_bundle(tmp_path / "greeter.mcpb")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_args: (str(bundle), ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *_args: QMessageBox.StandardButton.Yes)
    window = make_window()
    view = window.mcp_view
    folder = app_paths.data_dir / "mcpb" / "greeter"

    async def scenario() -> None:
        host = await start_mcp_host(window.context, window.mcp_host_ready)
        view.bundles.install_button.click()
        await wait_until(lambda: bool(view.findChildren(QtMcpbDialog)))
        (dialog,) = view.findChildren(QtMcpbDialog)
        assert dialog.settings[1].line is not None
        qtbot.keyClicks(dialog.settings[1].line, "sk-from-the-form")
        qtbot.mouseClick(dialog.install_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: "greeter" in host.supervisors)
        assert host.supervisors["greeter"].status.state is ServerState.STOPPED
        assert "sk-from-the-form" not in app_paths.mcp_config_file.read_text()
        assert memory_keyring.get_password("HybridMCP", "MCPB_GREETER_KEY") == "sk-from-the-form"
        menu = view.bundles.menu_for("greeter")
        assert menu is not None
        (uninstall,) = menu.actions()
        assert uninstall.text() == "Uninstall bundle…"
        uninstall.trigger()
        await wait_until(lambda: "greeter" not in host.supervisors)

    qt_loop.run_until_complete(scenario())
    assert json.loads(app_paths.mcp_config_file.read_text())["mcpServers"] == {}
    assert not folder.exists() and memory_keyring.entries == {}
