import json
import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialogButtonBox, QLineEdit, QPushButton, QSpinBox
from pytestqt.qtbot import QtBot

from hybridmcp_app.config.paths import AppPaths
from hybridmcp_app.config.secrets import DETECTING, NO_KEYCHAIN_HELP, KeychainStatus, SecretStore
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.ui.main_window import MainWindow
from hybridmcp_app.ui.qt_about_dialog import QtAboutDialog
from hybridmcp_app.ui.qt_shortcuts_dialog import QtShortcutsDialog
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.waiting import PATIENCE_MS


def test_the_window_opens_with_five_tabs_that_say_what_they_will_hold(window: MainWindow) -> None:
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert titles == ["Chat", "Savings", "Library", "MCP Servers", "Turtle Soup"]
    chat_page = window.tabs.widget(0)
    assert chat_page is not None and chat_page.isAncestorOf(window.chat_view)
    assert chat_page.isAncestorOf(window.history_sidebar)
    assert window.tabs.widget(1) is window.savings_view
    assert window.tabs.widget(2) is window.library_view
    assert window.tabs.widget(3) is window.mcp_view
    assert window.tabs.widget(4) is window.turtle_soup_view
    assert window.windowTitle() == "HybridMCP"
    assert not window.windowIcon().isNull()


def test_keyboard_shortcuts_switch_tabs(window: MainWindow, qtbot: QtBot) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=PATIENCE_MS)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 2
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentIndex() == 0


def test_the_status_bar_names_the_keychain(window: MainWindow) -> None:
    assert window.keychain.label.text() == "Keychain: memory"


def test_closing_the_window_asks_the_app_to_quit(window: MainWindow, qtbot: QtBot) -> None:
    with qtbot.waitSignal(window.quit_requested, timeout=PATIENCE_MS):
        window.close()


def test_size_tab_and_log_panel_are_remembered_across_restarts(
    make_window: Callable[..., MainWindow], qtbot: QtBot, app_paths: AppPaths
) -> None:
    first = make_window()
    first.resize(761, 543)  # within the offscreen screen (800 x 600)
    first.tabs.setCurrentIndex(4)
    first.log_action.trigger()
    qtbot.waitUntil(first.log_dock.isVisible, timeout=PATIENCE_MS)
    first.close()
    saved = json.loads(app_paths.settings_file.read_text())["ui"]
    assert saved["last_tab"] == "game"
    assert saved["show_log_panel"] is True

    second = make_window()
    assert (second.width(), second.height()) == (761, 543)
    assert second.tabs.currentIndex() == 4
    assert second.log_dock.isVisible()


def test_a_broken_settings_file_is_explained_in_a_banner(
    make_window: Callable[..., MainWindow], app_paths: AppPaths
) -> None:
    app_paths.settings_file.write_text('{"ui": {"theme": "purple"}}')
    window = make_window()
    assert window.banner.isVisible()
    text = window.banner.label.text()
    assert "ui.theme" in text
    assert "settings.json.broken-" in text
    window.banner.dismiss()
    assert not window.banner.isVisible()


def test_the_log_panel_shows_records_from_any_thread_and_filters_them(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.log_action.trigger()
    viewer = window.log_viewer
    logging.getLogger("hybridmcp.library").warning("disk nearly full")
    worker = threading.Thread(
        target=lambda: logging.getLogger("hybridmcp.worker").error("parser crashed")
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "parser crashed" in viewer.text.toPlainText(), timeout=PATIENCE_MS)
    assert "disk nearly full" in viewer.text.toPlainText()
    viewer.filter.setText("parser")
    assert "disk nearly full" not in viewer.text.toPlainText()
    assert "parser crashed" in viewer.text.toPlainText()
    viewer.filter.clear()
    viewer.level.setCurrentText("Error")
    assert viewer.text.toPlainText().strip().endswith("parser crashed")
    assert "disk nearly full" not in viewer.text.toPlainText()


def test_about_shows_the_licence_and_third_party_notices(window: MainWindow, qtbot: QtBot) -> None:
    window.show_about()
    dialog = window.findChild(QtAboutDialog)
    assert dialog is not None
    qtbot.waitExposed(dialog, timeout=PATIENCE_MS)
    notices = dialog.notices.toPlainText()
    for component in ("PyMuPDF", "Gemma Terms of Use", "LGPL-3.0", "Apache-2.0"):
        assert component in notices
    dialog.close()


def test_the_shortcuts_dialog_lists_the_window_actions(window: MainWindow) -> None:
    window.show_shortcuts()
    dialog = window.findChild(QtShortcutsDialog)
    assert dialog is not None
    cells = [
        [dialog.table.item(row, column) for column in (0, 1, 2)]
        for row in range(dialog.table.rowCount())
    ]
    rows = {
        (where.text(), name.text()): keys.text()
        for where, name, keys in cells
        if where and name and keys
    }
    assert rows["Everywhere", "Quit"] == "Ctrl+Q"
    assert rows["Everywhere", "Library"] == "Ctrl+3"
    assert rows["Everywhere", "Log panel"] == "Ctrl+Shift+L"
    # Each tab's own shortcuts, under the tab's name.
    assert rows["Chat", "Send the prompt"] == "Ctrl+Return, Ctrl+Enter"
    assert rows["Chat", "Stop every answer"] == "Esc"
    assert rows["Library", "Search the library"] == "Ctrl+F"
    assert rows["Turtle Soup", "Take a hint"] == "Ctrl+H"
    assert rows["Chat", "Rename the conversation (in the history list)"] == "F2"
    dialog.close()


def test_settings_saved_in_the_dialog_reach_the_file_and_the_window(
    window: MainWindow, qtbot: QtBot, app_paths: AppPaths
) -> None:
    dialog = window.open_settings()
    theme = dialog.findChild(QComboBox, "ui.theme")
    n_ctx = dialog.findChild(QSpinBox, "llm.local.inference.n_ctx")
    assert theme is not None and n_ctx is not None
    theme.setCurrentText("dark")
    n_ctx.setValue(8192)
    buttons = dialog.findChild(QDialogButtonBox)
    assert buttons is not None
    with qtbot.waitSignal(window.settings_changed, timeout=PATIENCE_MS):
        buttons.button(QDialogButtonBox.StandardButton.Save).click()
    on_disk = json.loads(app_paths.settings_file.read_text())
    assert on_disk["ui"]["theme"] == "dark"
    assert on_disk["llm"]["local"]["inference"]["n_ctx"] == 8192
    assert window.context.settings.ui.theme == "dark"


def test_invalid_settings_are_not_saved_and_the_faulty_field_is_shown(
    window: MainWindow, app_paths: AppPaths
) -> None:
    dialog = window.open_settings()
    patterns = dialog.findChild(QLineEdit, "llm.hybrid.privacy_patterns")
    assert patterns is not None
    patterns.setText(r"\d{16}, (unclosed")
    dialog.save()
    assert dialog.isVisible()
    assert "privacy pattern '(unclosed' is not a valid regex" in dialog.errors.text()
    assert patterns.property("invalid") is True
    assert dialog.sections.currentItem().text() == "Hybrid"
    assert not app_paths.settings_file.exists()


def test_a_section_level_error_opens_its_page(window: MainWindow) -> None:
    dialog = window.open_settings()
    mode = dialog.findChild(QComboBox, "documents.chroma_mode")
    assert mode is not None
    mode.setCurrentText("http")
    dialog.save()
    assert "chroma_mode 'http' needs chroma_url" in dialog.errors.text()
    assert dialog.sections.currentItem().text() == "Documents"


def test_restore_defaults_resets_only_the_current_page(window: MainWindow) -> None:
    dialog = window.open_settings()
    theme = dialog.findChild(QComboBox, "ui.theme")
    difficulty = dialog.findChild(QComboBox, "game.difficulty")
    assert theme is not None and difficulty is not None
    theme.setCurrentText("dark")
    difficulty.setCurrentText("hard")
    dialog.sections.setCurrentRow(0)
    dialog.restore_page_defaults()
    assert theme.currentText() == "system"
    assert difficulty.currentText() == "hard"


def test_the_keychain_page_can_test_the_keychain(
    window: MainWindow, memory_keyring: MemoryKeyring
) -> None:
    dialog = window.open_settings()
    dialog.test_keychain()
    assert dialog.keychain_result.text() == "Works."
    assert memory_keyring.entries == {}


def test_the_keychain_label_follows_detection(
    make_context: Callable[..., AppServices],
    make_window: Callable[..., MainWindow],
    memory_keyring: MemoryKeyring,
) -> None:
    window = make_window(make_context(secrets=SecretStore(None, DETECTING)))
    assert window.keychain.label.text() == "Keychain: detecting…"
    window.context.secrets.use_backend(None, KeychainStatus(False, "none", NO_KEYCHAIN_HELP))
    window.keychain.update_status()
    assert window.keychain.label.text() == "⚠ No keychain"
    assert "gnome-keyring" in window.keychain.label.toolTip()
    window.context.secrets.use_backend(memory_keyring, KeychainStatus(True, "memory"))
    window.keychain.update_status()
    assert window.keychain.label.text() == "Keychain: memory"


def test_every_labelled_button_of_the_tabs_has_a_tooltip(window: MainWindow) -> None:
    silent = [
        f"{window.tabs.tabText(index)}: {button.text()}"
        for index in range(window.tabs.count())
        for button in window.tabs.widget(index).findChildren(QPushButton)  # type: ignore[union-attr]
        if button.text() and not button.toolTip()
    ]
    assert silent == []
