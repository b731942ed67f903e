"""The main window: the tabs, menus, status bar, log panel, and the settings round-trip."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QByteArray, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QIcon,
    QKeySequence,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QLabel,
    QMainWindow,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app import APP_NAME, __version__
from hybridmcp_app.config.paths import resources_dir
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.ui.chat.qt_chat_view import QtChatView
from hybridmcp_app.ui.chat.qt_history_sidebar import QtHistorySidebar
from hybridmcp_app.ui.chat.qt_savings_view import EMPTY_TEXT, EMPTY_TITLE, QtSavingsView
from hybridmcp_app.ui.first_run.qt_first_run_setup import QtFirstRunSetup
from hybridmcp_app.ui.game.qt_turtle_soup_view import QtTurtleSoupView
from hybridmcp_app.ui.library.qt_library_extras import QtLibraryExtras
from hybridmcp_app.ui.library.qt_library_progress import summarize
from hybridmcp_app.ui.library.qt_library_view import QtLibraryView
from hybridmcp_app.ui.mcp.qt_mcp_servers_view import QtMcpServersView, WorkspaceRoots
from hybridmcp_app.ui.mcp.qt_server_tools_table import ToolPins
from hybridmcp_app.ui.qt_about_dialog import QtAboutDialog
from hybridmcp_app.ui.qt_log_viewer import QtLogViewer
from hybridmcp_app.ui.qt_shortcuts_dialog import QtShortcutsDialog, shortcut_rows
from hybridmcp_app.ui.settings.qt_keychain import QtKeychain
from hybridmcp_app.ui.theme import app_icon, apply_theme
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from hybridmcp_app.ui.widgets.qt_empty_state import QtEmptyState
from hybridmcp_app.ui.widgets.qt_notifier import QtNotifier
from hybridmcp_app.ui.widgets.qt_open_source import open_source

if TYPE_CHECKING:  # loaded when first used: the MCP SDK, the tool loop, the settings dialog
    from hybridmcp_app.config.first_run import FirstRunChoices
    from hybridmcp_app.documents.library_indexer import IndexReport
    from hybridmcp_app.documents.library_service import LibraryService
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost
    from hybridmcp_app.orchestration.run_context import ToolUse
    from hybridmcp_app.ui.first_run.qt_first_run_wizard import QtFirstRunWizard
    from hybridmcp_app.ui.settings.qt_settings_dialog import QtSettingsDialog

log = logging.getLogger("hybridmcp.ui")

# (settings key, tab title, icon file, empty-state title, empty-state text)
TABS: tuple[tuple[str, str, str, str, str], ...] = (
    ("chat", "Chat", "chat.svg", "Ask once, compare answers",
     "Your local model and your provider will answer side by side here, streaming in parallel, "
     "with time, tokens, cost and what the local model saved the provider."),
    ("savings", "Savings", "savings.svg", EMPTY_TITLE, EMPTY_TEXT),
    ("library", "Library", "library.svg", "Your documents, searchable offline",
     "Drop files and folders here to index them on this machine. Answers will cite the pages "
     "they came from."),
    ("mcp", "MCP Servers", "servers.svg", "Tools for both models",
     "MCP servers from your Claude Desktop, Cursor or VS Code config will be listed here, each "
     "with a switch to start and stop it."),
    ("game", "Turtle Soup", "turtle.svg", "Lateral-thinking puzzles",
     "Ask yes-or-no questions until you uncover the hidden story. An LLM host judges every "
     "question."),
)  # fmt: skip


class MainWindow(QMainWindow):
    """The application window. ``quit_requested`` tells ``app.py`` to shut the loop down."""

    quit_requested = Signal()
    settings_changed = Signal(object)
    shown = Signal()

    def __init__(self, context: AppServices) -> None:
        super().__init__()
        self.context = context
        self._shown_once = False
        self.setWindowTitle(APP_NAME)
        self.setWindowIcon(app_icon())
        # Deleted by Qt on the GUI thread when closed: otherwise Python's cycle collector could
        # destroy it later from a worker thread ("Timers cannot be stopped from another thread").
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setMinimumSize(720, 480)
        self.resize(1200, 800)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 0)
        self.banner = QtBanner(central)
        layout.addWidget(self.banner)
        self.keychain = QtKeychain(context, self.banner, self)
        self.tabs = QTabWidget(central)
        self.tabs.setDocumentMode(True)
        for key, title, icon_file, heading, body in TABS:
            icon = QIcon(str(resources_dir() / "icons" / icon_file))
            page: QWidget = QtEmptyState(icon, heading, body)
            if key == "chat":
                self.chat_view = QtChatView(
                    context.chat,
                    context.local_model,
                    context.tasks,
                    local_config=lambda: self.context.settings.llm.local,
                    default_strategy=context.settings.llm.hybrid.default_strategy,
                    open_settings=self.open_settings,
                    tool_use=self._tool_use,
                    library=lambda: self.context.library,
                    open_source=open_source,
                )
                self.history_sidebar = QtHistorySidebar(context.chat.history, self.banner)
                chat_page = QSplitter(Qt.Orientation.Horizontal)
                chat_page.addWidget(self.history_sidebar)
                chat_page.addWidget(self.chat_view)
                chat_page.setStretchFactor(1, 1)
                chat_page.setSizes([240, 960])
                self.chat_view.turn_finished.connect(self.history_sidebar.refresh)
                self.settings_changed.connect(lambda _settings: self.chat_view.settings_changed())
                self.history_sidebar.new_requested.connect(self.chat_view.new_chat)
                self.history_sidebar.open_requested.connect(self.open_conversation)
                page = chat_page
            elif key == "library":
                page = self._build_library_tab(context)
            elif key == "mcp":
                self.mcp_view = QtMcpServersView(
                    context.tasks, self.banner, self._open_mcp_config, secrets=context.secrets,
                    workspace_roots=WorkspaceRoots(
                        lambda: self.context.settings.mcp.workspace_roots,
                        self._set_workspace_roots,
                    ),
                    bundles_dir=context.paths.data_dir / "mcpb",
                    registry_url=lambda: self.context.settings.mcp.registry_url,
                )  # fmt: skip
                self._forget_tools = context.tools.subscribe(self.mcp_view.schedule_redraw)
                self.mcp_view.tools.set_pins(ToolPins(
                    lambda: self.context.settings, context.change_settings,
                    lambda text: self.banner.show_message(text, "error"),
                ))  # fmt: skip
                self.settings_changed.connect(lambda _s: self.mcp_view.tools.show_pins())
                page = self.mcp_view
            elif key == "savings":
                # Builds its plots (and imports pyqtgraph) when first shown.
                self.savings_view = QtSavingsView(context.chat, context.tasks)
                self.chat_view.turn_finished.connect(self.savings_view.refresh)
                page = self.savings_view
            elif key == "game":
                self.turtle_soup_view = QtTurtleSoupView(context)
                self.settings_changed.connect(self.turtle_soup_view.apply_settings)
                page = self.turtle_soup_view
            page.setObjectName(f"tab-{key}")
            self.tabs.addTab(page, icon, title)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)

        self.log_viewer = QtLogViewer(
            context.log_buffer, QUrl.fromLocalFile(str(context.paths.log_dir))
        )
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log-dock")
        self.log_dock.setWidget(self.log_viewer)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.log_dock)
        self.log_dock.setVisible(context.settings.ui.show_log_panel)

        self._build_actions()
        self._build_status_bar()
        self._build_notifications()
        self.first_run = QtFirstRunSetup(
            self, context, self.apply_settings, self.library_extras.watched.watch
        )
        self._restore_layout()
        self._show_startup_notices()

    # ------------------------------------------------------------------ actions and menus
    def _action(self, text: str, shortcut: QKeySequence | str | None, slot: object) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.settings_action = self._action(
            "&Settings…", QKeySequence(QKeySequence.StandardKey.Preferences), self.open_settings
        )
        if self.settings_action.shortcut().isEmpty():
            self.settings_action.setShortcut(QKeySequence("Ctrl+,"))
        file_menu.addAction(self.settings_action)
        file_menu.addAction(self._action("Open &data folder", None, self._open_data_folder))
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", QKeySequence("Ctrl+Q"), self.close)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        file_menu.addAction(self.quit_action)

        view_menu = bar.addMenu("&View")
        for index, (_, title, *_rest) in enumerate(TABS):
            view_menu.addAction(
                self._action(
                    title,
                    QKeySequence(f"Ctrl+{index + 1}"),
                    lambda _=False, i=index: self.tabs.setCurrentIndex(i),
                )
            )
        view_menu.addSeparator()
        self.log_action = self.log_dock.toggleViewAction()
        self.log_action.setText("&Log panel")
        self.log_action.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.addAction(self.log_action)
        view_menu.addAction(self.log_action)

        help_menu = bar.addMenu("&Help")
        help_menu.addAction(
            self._action("&Keyboard shortcuts", QKeySequence("Ctrl+/"), self.show_shortcuts)
        )
        help_menu.addAction(self._action("First-run &setup…", None, self.open_first_run))
        help_menu.addAction(self._action("Open &log file", None, self._open_log_file))
        about = self._action(f"&About {APP_NAME}", None, self.show_about)
        about.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(about)

    def _build_status_bar(self) -> None:
        self.statusBar().addPermanentWidget(self.keychain.label)
        self.statusBar().addPermanentWidget(QLabel(f"{APP_NAME} {__version__}", self))
        self.statusBar().showMessage("Ready", 4000)

    def _build_notifications(self) -> None:
        """Long work that finishes while the window is in the background says so."""
        self.notifier = QtNotifier(
            self, app_icon(), enabled=lambda: self.context.settings.ui.notifications
        )

        def indexed(report: IndexReport | None) -> None:
            if report is not None:
                self.notifier.notify("Library indexing finished", summarize(report))

        self.library_view.run_finished.connect(indexed)
        self.chat_view.turn_finished.connect(
            lambda: self.notifier.notify("Answer ready", "The chat's answers are in.")
        )
        self.turtle_soup_view.race_page.race_finished.connect(
            lambda result: self.notifier.notify("The models' race is over", result)
        )

    # ------------------------------------------------------------------ start-up
    def _restore_layout(self) -> None:
        ui = self.context.settings.ui
        if ui.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(ui.window_geometry.encode("ascii")))
        if ui.window_state:
            self.restoreState(QByteArray.fromBase64(ui.window_state.encode("ascii")))
        keys = [key for key, *_ in TABS]
        self.tabs.setCurrentIndex(keys.index(ui.last_tab))

    def _show_startup_notices(self) -> None:
        report = self.context.load_report
        recovered = self.context.chat.history.recovered_from
        if recovered is not None:
            self.banner.show_message(
                f"Your chat history could not be read; a new one was started and the old file "
                f"kept as {recovered.name}.",
                "warning",
            )
        elif not report.ok:
            self.banner.show_message(report.user_message(), "warning")
        elif self.context.settings.secrets.backend == "encrypted_file" and not (
            self.context.secrets.available
        ):
            self.keychain.offer_unlock()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            log.info("main window shown")
            self.shown.emit()

    # ------------------------------------------------------------------ commands
    def open_settings(self) -> QtSettingsDialog:
        # Imported here: the dialog's pages bring the openai SDK, kept off the start-up path.
        from hybridmcp_app.llm.provider_catalog import load_presets
        from hybridmcp_app.ui.settings.qt_engine_settings import QtEngineSettings
        from hybridmcp_app.ui.settings.qt_model_picker import QtModelPicker
        from hybridmcp_app.ui.settings.qt_providers_page import QtProvidersPage
        from hybridmcp_app.ui.settings.qt_settings_dialog import QtSettingsDialog

        context = self.context
        dialog = QtSettingsDialog(
            context.settings,
            context.secrets,
            self,
            model_picker=lambda editor: QtModelPicker(
                editor,
                context.local_model,
                context.tasks,
                home=Path.home(),
                app_models_dir=context.paths.data_dir / "models",
                secrets=context.secrets,
            ),
            engine_settings=lambda editor: QtEngineSettings(
                editor,
                context.local_model,
                context.tasks,
                lambda: context.settings.llm.local.inference,
                home=Path.home(),
                app_models_dir=context.paths.data_dir / "models",
            ),
            providers_page=QtProvidersPage(
                context.settings.providers,
                context.secrets,
                load_presets(resources_dir()),
                context.tasks,
                context.providers.probe,
            ),
            run_setup=self.open_first_run,
        )
        dialog.saved.connect(self.apply_settings)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def open_first_run(self) -> asyncio.Task[QtFirstRunWizard]:
        """The setup wizard (``QtFirstRunSetup``)."""
        return self.first_run.open()

    def apply_first_run(self, choices: FirstRunChoices) -> None:
        self.first_run.apply(choices)

    def open_conversation(self, conversation_id: str) -> asyncio.Task[None]:
        async def open_it() -> None:
            record = await self.context.chat.open(conversation_id)
            if record is not None:
                self.chat_view.show_conversation(record)

        return self.context.tasks.spawn(open_it(), name="open-conversation")

    def _set_workspace_roots(self, roots: tuple[Path, ...]) -> None:
        settings = self.context.settings
        mcp = settings.mcp.model_copy(update={"workspace_roots": roots})
        self.apply_settings(settings.model_copy(update={"mcp": mcp}))

    def apply_settings(self, settings: Settings) -> None:
        previous = self.context.settings
        try:
            self.context.save_settings(settings)
        except OSError as error:
            self.banner.show_message(f"Settings could not be saved: {error}", "error")
            return
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, settings.ui.theme)
        logging.getLogger("hybridmcp").setLevel(settings.logging.level)
        self.keychain.settings_changed(previous, settings)
        if settings.llm.local != previous.llm.local:
            self.context.tasks.spawn(
                self.context.local_model.try_load(settings.llm.local), name="reload-local-model"
            )
        self.statusBar().showMessage("Settings saved", 3000)
        self.settings_changed.emit(settings)

    def show_about(self) -> None:
        dialog = QtAboutDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def show_shortcuts(self) -> None:
        tab_rows = []
        for index in range(self.tabs.count()):
            page = self.tabs.widget(index)
            if page is not None:
                tab_rows += shortcut_rows(self.tabs.tabText(index), page.findChildren(QShortcut))
        dialog = QtShortcutsDialog(self.actions(), self, tab_rows)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def mcp_host_ready(self, host: McpHost) -> None:
        """The MCP host exists (built after start-up): show it, offer its tools to the chat."""
        self.mcp_view.set_host(host)
        self.chat_view.mcp.set_offer(host.registry)  # resources to attach, prompts as /commands
        for icons in (self.mcp_view.tools.icons, self.chat_view.mcp.icons):
            icons.set_source(self.context.mcp_icons)  # https icons too, on the app's rules

        def offer_tools() -> None:
            if shiboken6.isValid(self):  # the host outlives a closed window
                self.chat_view.tools.set_tools(host.registry.tools())

        host.registry.subscribe(offer_tools)
        offer_tools()

    def _build_library_tab(self, context: AppServices) -> QWidget:
        self.library_view = QtLibraryView(
            context.tasks, self.banner, open_source=open_source, queue=context.index_queue
        )
        view = self.library_view
        self.library_extras = QtLibraryExtras(
            context.tasks,
            self.banner,
            lambda: self.context.local_model.backend,
            lambda: context.tasks.spawn(view.refresh(), name="library-refresh"),
        )
        view.set_extra_panel(self.library_extras)

        def show_details() -> None:
            selected = view.files.selected_paths()
            if selected and selected[0] != self.library_extras.details.path:
                self.library_extras.details.show_document(selected[0])

        view.files.table.selectionModel().selectionChanged.connect(show_details)
        return view

    def library_ready(self, library: LibraryService | None, problem: str | None) -> None:
        """The library is open (or could not open, and ``problem`` says why)."""
        self.library_view.set_library(library, problem)
        self.library_extras.set_library(library, self.context.watcher)
        if problem:
            self.banner.show_message(f"The document library could not open: {problem}", "error")

    def _tool_use(self, forced_tool: str | None) -> ToolUse | None:
        """The tools a chat turn may call (``ToolAccess``), asking in this window's dialog."""
        from hybridmcp_app.ui.mcp.qt_tool_approval_dialog import ask_tool_approval

        return self.context.tools.for_turn(
            lambda request: ask_tool_approval(self, request), forced_tool
        )

    def _open_mcp_config(self) -> None:
        path = self.context.mcp_config_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text('{\n  "mcpServers": {}\n}\n', encoding="utf-8")
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    def _open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.context.paths.data_dir)))

    def _open_log_file(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.context.paths.log_file)))

    # ------------------------------------------------------------------ shutdown
    def closeEvent(self, event: QCloseEvent) -> None:
        keys = [key for key, *_ in TABS]
        ui = self.context.settings.ui.model_copy(
            update={
                "window_geometry": bytes(self.saveGeometry().toBase64().data()).decode("ascii"),
                "window_state": bytes(self.saveState().toBase64().data()).decode("ascii"),
                "last_tab": keys[self.tabs.currentIndex()],
                "show_log_panel": self.log_dock.isVisible(),
            }
        )
        try:
            self.context.save_settings(self.context.settings.model_copy(update={"ui": ui}))
        except OSError as error:
            log.error("could not save the window layout: %s", error)
        self.log_viewer.detach()
        self._forget_tools()
        log.info("main window closed")
        event.accept()
        self.quit_requested.emit()
