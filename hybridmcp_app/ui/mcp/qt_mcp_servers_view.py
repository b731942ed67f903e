"""The MCP Servers tab: every configured server with its switch, status light, uptime and
restarts; the selected server's tools (each with on/off and auto-approve switches), its log,
and add / edit / duplicate / remove (with Undo). What is wrong in ``mcp.json`` is shown on top.

Every action goes through ``McpHost`` or ``McpJsonFile`` off the event loop; the view only
awaits and redraws when the host reports a change.
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.mcp_host.builtin_servers import WORKSPACE_MODULE, builtin_module
from hybridmcp_app.mcp_host.log_tail import read_tail
from hybridmcp_app.mcp_host.server_status import ServerState, ServerStatus
from hybridmcp_app.ui.mcp.qt_mcp_catalog_dialog import QtCatalogueButton
from hybridmcp_app.ui.mcp.qt_mcp_server_dialog import QtMcpServerDialog
from hybridmcp_app.ui.mcp.qt_mcp_server_row import (
    ROW_HEIGHT,
    QtServerRow,
    read_sign_in,
    sign_in_or_out,
)
from hybridmcp_app.ui.mcp.qt_mcpb_dialog import QtBundleActions
from hybridmcp_app.ui.mcp.qt_server_snippet_panel import QtServerSnippetPanel
from hybridmcp_app.ui.mcp.qt_server_tools_table import QtServerToolsTable
from hybridmcp_app.ui.widgets.qt_banner import QtBanner

if TYPE_CHECKING:  # the MCP SDK is imported after start-up, off the event loop
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost


@dataclass(frozen=True)
class WorkspaceRoots:
    """The workspace server's folders in the settings: read them, and replace them."""

    get: Callable[[], tuple[Path, ...]]
    set: Callable[[tuple[Path, ...]], None]


MAX_PROBLEMS_SHOWN = 5  # the host logs every one


# In place of an empty tools table: why there are no tools, and what to do.
NO_TOOLS = {
    ServerState.STOPPED: "Stopped: switch it on (the switch beside its name) to see its tools.",
    ServerState.STARTING: "Starting… its tools appear here once it is ready.",
    ServerState.RESTARTING: "Restarting… its tools appear here once it is ready.",
    ServerState.FAILED: "It could not start: the Log tab says why. Fix its entry (Edit…), then "
    "Restart.",
    ServerState.READY: "This server offers no tools (it may offer resources or prompts only).",
}


class QtMcpServersView(QWidget):
    """Waits for ``set_host`` (the host is built in the background after start-up)."""

    def __init__(
        self,
        tasks: BackgroundTasks,
        banner: QtBanner,
        open_config: Callable[[], None],
        parent: QWidget | None = None,
        *,
        secrets: SecretStore | None = None,
        workspace_roots: WorkspaceRoots | None = None,
        bundles_dir: Path | None = None,
        registry_url: Callable[[], str] = lambda: "",
    ) -> None:
        """``workspace_roots``: the folders the workspace server serves, and how to set them
        (the settings); with it, switching that server on with none chosen asks for one."""
        super().__init__(parent)
        self._tasks, self._banner, self._secrets = tasks, banner, secrets
        self._workspace_roots = workspace_roots
        self.host: McpHost | None = None
        self._rows: dict[str, QtServerRow] = {}
        self.add_button = QPushButton("Add server…", self)
        self.add_button.setToolTip("A server started as a command (stdio) or reached by URL")
        self.catalog_button = QtCatalogueButton(self, tasks, banner, secrets, registry_url)
        self.import_button = QPushButton("Import…", self)
        self.import_button.setToolTip("Bring servers from Claude Desktop, Cursor or VS Code")
        self.secrets_button = QPushButton("Secrets…", self)
        self.secrets_button.setToolTip("Store a token in the keychain for ${secret:NAME}")
        self.open_button = QPushButton("Open mcp.json", self)
        self.open_button.setToolTip(
            "Edit the servers file by hand (Claude Desktop format), then press Reload"
        )
        self.reload_button = QPushButton("Reload", self)
        self.reload_button.setToolTip("Read mcp.json again (after editing it by hand)")
        self.problems = QLabel(self)
        self.problems.setProperty("role", "form-errors")
        self.problems.setWordWrap(True)
        self.problems.hide()
        self.list = QListWidget(self)
        self.title = QLabel("Starting the MCP host…", self)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.restart_button = QPushButton("Restart", self)
        self.edit_button = QPushButton("Edit…", self)
        self.duplicate_button = QPushButton("Duplicate", self)
        self.remove_button = QPushButton("Remove", self)
        self.permissions_button = QPushButton("Permissions…", self)
        self.permissions_button.setToolTip("Sampling and the folders (roots) it may see")
        self.restart_button.setToolTip("Stop the selected server and start it again")
        self.edit_button.setToolTip("Change its command, arguments, environment or URL")
        self.duplicate_button.setToolTip("A copy of this entry under a new name, switched off")
        self.remove_button.setToolTip("Take it out of mcp.json; Undo brings it back")
        self.tools = QtServerToolsTable(self._tool_switch, self)
        self.log = QPlainTextEdit(self)
        self.log.setReadOnly(True)
        self.details_tabs = QTabWidget(self)
        self.tools_note = QLabel(self)
        self.tools_note.setProperty("role", "empty-body")
        self.tools_note.setWordWrap(True)
        self.tools_note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        tools_page = QWidget(self)
        tools_layout = QVBoxLayout(tools_page)
        tools_layout.setContentsMargins(0, 0, 0, 0)
        tools_layout.addWidget(self.tools, 1)
        tools_layout.addWidget(self.tools_note, 1)
        self.details_tabs.addTab(tools_page, "Tools")
        self.details_tabs.addTab(self.log, "Log")
        self.elsewhere = QtServerSnippetPanel(tasks, banner, secrets, self)
        self.details_tabs.addTab(self.elsewhere, "Use elsewhere")

        top = QHBoxLayout()
        for button in (self.add_button, self.catalog_button, self.import_button,
                       self.secrets_button, self.open_button, self.reload_button):  # fmt: skip
            top.addWidget(button)
        self.bundles = QtBundleActions(self, lambda: self.host, self.list, tasks, banner,
                                       secrets, bundles_dir)  # fmt: skip
        top.addWidget(self.bundles.install_button)
        top.addStretch(1)
        actions = QHBoxLayout()
        for button in (self.restart_button, self.edit_button, self.duplicate_button,
                       self.remove_button, self.permissions_button):  # fmt: skip
            actions.addWidget(button)
        actions.addStretch(1)
        details = QWidget(self)
        details_layout = QVBoxLayout(details)
        details_layout.addWidget(self.title)
        details_layout.addLayout(actions)
        details_layout.addWidget(self.details_tabs, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.list)
        splitter.addWidget(details)
        splitter.setSizes([300, 700])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.problems)
        layout.addWidget(splitter, 1)

        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.redraw)
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        self._clock.start()
        self.add_button.clicked.connect(self.add_server)
        self.import_button.clicked.connect(self.import_servers)
        self.secrets_button.clicked.connect(self.store_secret)
        self.open_button.clicked.connect(open_config)
        self.reload_button.clicked.connect(self.reload)
        self.restart_button.clicked.connect(self.restart_selected)
        self.edit_button.clicked.connect(self.edit_selected)
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        self.permissions_button.clicked.connect(self.permissions_selected)
        self.list.currentItemChanged.connect(lambda *_: self._show_details())
        self._set_enabled(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.add_button, self.import_button, self.reload_button, self.restart_button,
                       self.edit_button, self.duplicate_button, self.remove_button,
                       self.permissions_button, self.catalog_button):  # fmt: skip
            widget.setEnabled(enabled)

    def set_host(self, host: McpHost) -> None:
        from hybridmcp_app.mcp_host.oauth_sign_in import watch_sign_ins  # loaded with the host

        self.host = host
        host.subscribe(self.schedule_redraw)
        host.registry.subscribe(self.schedule_redraw)
        watch_sign_ins(host, self._read_sign_in)
        self._set_enabled(True)
        self.redraw()

    def library_not_shared(self, reason: str) -> None:
        """Why the app does not share its library with other clients (``app.share_library``):
        shown with the documents server's entry under Use elsewhere."""
        if shiboken6.isValid(self.elsewhere):  # the app may be closing
            self.elsewhere.library_not_shared(reason)

    def schedule_redraw(self) -> None:
        """Coalesce bursts of status changes into one redraw."""
        if not shiboken6.isValid(self._redraw_timer):  # the host outlives a closed window
            return
        if not self._redraw_timer.isActive():
            self._redraw_timer.start(0)

    # ------------------------------------------------------------------ drawing
    def selected(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def redraw(self) -> None:
        host = self.host
        if host is None:
            return
        self._show_problems(host.source.path, host.configured.problems)
        names = sorted(host.supervisors)
        if names != sorted(self._rows):
            self._rebuild_rows(names)
        self._tick()
        self._show_details()

    def _show_problems(self, path: Path, problems: tuple[str, ...]) -> None:
        """The file's problems, each server's prefixed with the file (a problem of the whole
        file names it already), and its full path in the tooltip."""
        shown = " · ".join(problems[:MAX_PROBLEMS_SHOWN])
        if len(problems) > MAX_PROBLEMS_SHOWN:
            more = len(problems) - MAX_PROBLEMS_SHOWN
            shown += f" · and {more} more in the log (View → Log panel)"
        named = bool(problems) and problems[0].startswith(path.name)
        self.problems.setText(shown if named else f"{path.name}: {shown}" if problems else "")
        self.problems.setToolTip(str(path))
        self.problems.setVisible(bool(problems))

    def _rebuild_rows(self, names: list[str]) -> None:
        """One row per server. The items go in first, their widgets after: a widget set while
        items are still being added makes each addition lay out every row (quadratic)."""
        selected = self.selected()
        self.list.clear()
        self._rows.clear()
        items = []
        for name in names:
            item = QListWidgetItem(self.list)
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setSizeHint(QSize(0, ROW_HEIGHT))
            items.append(item)
        for name, item in zip(names, items, strict=True):
            row = QtServerRow(name, self._toggle, self._sign_in)
            self.list.setItemWidget(item, row)
            self._rows[name] = row
            if name == selected:
                self.list.setCurrentItem(item)
            self._read_sign_in(name)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)

    def _read_sign_in(self, name: str) -> None:
        """Read ``name``'s sign-in state from the keychain, off the event loop, into its row."""
        if self.host is not None and self._secrets is not None and not self._tasks.closed:
            reading = read_sign_in(self.host, name, self._secrets, self._rows)
            self._tasks.spawn(reading, name="mcp-sign-in-state")

    def _tick(self) -> None:
        host = self.host
        if host is None:
            return
        now = time.time()
        for name, row in self._rows.items():
            supervisor = host.supervisors.get(name)
            if supervisor is not None:
                row.show_status(supervisor.status, host.enabled(name), now)

    def _show_details(self) -> None:
        host, name = self.host, self.selected()
        supervisor = host.supervisors.get(name) if host is not None and name else None
        if host is None or supervisor is None:
            self.title.setText("No MCP servers yet: Add server…, or paste a Claude Desktop "
                               "config into mcp.json (Open mcp.json).")  # fmt: skip
            self.tools.setRowCount(0)
            self._say_no_tools("Pick a server on the left to see its tools.")
            self.elsewhere.show_server(None, None)
            return
        status = supervisor.status
        config = host.configured.servers.get(supervisor.name)
        self.elsewhere.show_server(supervisor.name, config)
        where = ""
        if config is not None:
            where = getattr(config, "command", None) or str(getattr(config, "url", ""))
            if host.runs_in_process(supervisor.name):
                where = "runs inside HybridMCP (other clients start: " + where + ")"
        state = status.message or status.state.value
        lines = [f"<b>{html.escape(supervisor.name)}</b> — {html.escape(state)}",
                 f"<small>{html.escape(where)}</small>"]  # fmt: skip
        if status.state is ServerState.FAILED and status.stderr_tail:
            tail = "<br>".join(html.escape(line) for line in status.stderr_tail[-5:])
            lines.append(f"<small style='color:#cf222e'>{tail}</small>")
        self.title.setText("<br>".join(lines))
        self._fill_tools(host, status)
        if not self._tasks.closed:  # servers still report while the app quits
            self._tasks.spawn(self._load_log(supervisor.log_path), name="mcp-log")

    def _say_no_tools(self, text: str | None) -> None:
        """The tools table, or in its place what to do to get tools (``text``)."""
        self.tools.setVisible(text is None)
        self.tools_note.setVisible(text is not None)
        self.tools_note.setText(text or "")

    def _fill_tools(self, host: McpHost, status: ServerStatus) -> None:
        source = host.source
        self._say_no_tools(None if status.tools else NO_TOOLS[status.state])
        self.tools.show_tools(status.tools, source)

    async def _load_log(self, path: Any) -> None:
        lines = await asyncio.to_thread(read_tail, path, 400)
        self.log.setPlainText("\n".join(lines))
        bar = self.log.verticalScrollBar()
        bar.setValue(bar.maximum())

    # ------------------------------------------------------------------ commands
    def _run(self, action: Any, name: str) -> asyncio.Task[Any]:
        async def guarded() -> Any:
            try:
                return await action
            except HybridMCPError as error:
                self._banner.show_message(str(error), "error")
            finally:
                self.redraw()

        return self._tasks.spawn(guarded(), name=name)

    def _toggle(self, name: str, enabled: bool) -> asyncio.Task[Any] | None:
        if self.host is None:
            return None
        if enabled and self._needs_folder(name) and not self._choose_workspace_folder(name):
            return None
        return self._run(self.host.set_enabled(name, enabled), "mcp-toggle")

    def _sign_in(self, name: str, signed_in: bool) -> asyncio.Task[Any] | None:
        """Sign in to remote server ``name`` in the browser (or out); then restart it."""
        if self.host is None or self._secrets is None:
            return None
        return self._run(sign_in_or_out(self.host, name, self._secrets, signed_in), "mcp-sign-in")

    def _needs_folder(self, name: str) -> bool:
        """The workspace server, with no ``--root`` of its own and none in the settings."""
        config = None if self.host is None else self.host.configured.servers.get(name)
        roots = self._workspace_roots
        if config is None or roots is None or builtin_module(config) != WORKSPACE_MODULE:
            return False
        return "--root" not in getattr(config, "args", ()) and not roots.get()

    def _choose_workspace_folder(self, name: str) -> bool:
        """Ask which folder the workspace server may read and change; False: none chosen (the
        server stays off, and the banner says why)."""
        chosen = QFileDialog.getExistingDirectory(
            self, "Folder the workspace server may read and change", str(Path.home())
        )
        if not chosen or self._workspace_roots is None:
            self._rows[name].switch.setChecked(False)
            self._banner.show_message(
                f"{name} stays off: it works in a folder you choose, and none was chosen. "
                "Switch it on again to choose one.",
                "info",
            )
            return False
        self._workspace_roots.set((Path(chosen),))
        return True

    def _tool_switch(self, method: str, *args: Any) -> asyncio.Task[Any] | None:
        host = self.host
        if host is None:
            return None

        async def change() -> None:
            await asyncio.to_thread(getattr(host.source, method), *args)
            host.registry.set_tool_switch(host.source.tool_enabled)

        return self._run(change(), "mcp-tool-switch")

    def reload(self) -> asyncio.Task[Any] | None:
        return self._run(self.host.reload(), "mcp-reload") if self.host else None

    def restart_selected(self) -> asyncio.Task[Any] | None:
        name = self.selected()
        if self.host is None or name is None:
            return None
        return self._run(self.host.restart(name), "mcp-restart")

    def add_server(self) -> asyncio.Task[Any] | None:
        dialog = QtMcpServerDialog(self)
        if not dialog.exec() or dialog.result_entry is None or self.host is None:
            return None
        name, entry = dialog.result_entry
        return self._edit(lambda source: source.put_server(name, entry))

    def import_servers(self) -> asyncio.Task[Any] | None:
        """The import dialog writes mcp.json itself; then the host reads it again."""
        from hybridmcp_app.config.mcp_config_store import McpConfigStore
        from hybridmcp_app.ui.mcp.qt_mcp_import_dialog import QtMcpImportDialog

        host = self.host
        if host is None or self._secrets is None:
            return None
        dialog = QtMcpImportDialog(McpConfigStore(host.source.path), self._secrets, self)
        if not dialog.exec() or not dialog.imported:
            return None
        names = ", ".join(dialog.imported.values())
        self._banner.show_message(f"Imported MCP servers: {names}.", "info")
        return self._run(host.reload(), "mcp-import")

    def store_secret(self) -> asyncio.Task[Any] | None:
        """Store a secret; servers that failed for want of one are started again."""
        from hybridmcp_app.ui.mcp.qt_secret_dialog import QtSecretDialog

        if self._secrets is None or self.host is None:
            return None
        if not QtSecretDialog(self._secrets, self).exec():
            return None
        host = self.host
        failed = [name for name, s in host.supervisors.items()
                  if s.status.state is ServerState.FAILED and host.enabled(name)]  # fmt: skip
        return self._run(asyncio.gather(*(host.restart(name) for name in failed)), "mcp-retry")

    def edit_selected(self) -> asyncio.Task[Any] | None:
        name = self.selected()
        if self.host is None or name is None:
            return None
        dialog = QtMcpServerDialog(self, name=name, entry=self.host.source.entry(name))
        if not dialog.exec() or dialog.result_entry is None:
            return None
        new_name, entry = dialog.result_entry
        return self._edit(lambda source: source.put_server(new_name, entry, replacing=name))

    def duplicate_selected(self) -> asyncio.Task[Any] | None:
        name = self.selected()
        if name is None:
            return None
        return self._edit(lambda source: source.duplicate_server(name))

    def permissions_selected(self) -> asyncio.Task[Any] | None:
        from hybridmcp_app.ui.mcp.qt_server_permissions_dialog import edit_permissions

        name, host = self.selected(), self.host
        if name is None or host is None:
            return None
        return self._run(edit_permissions(self, host.requests.roots, name), "mcp-permissions")

    def remove_selected(self) -> asyncio.Task[Any] | None:
        name, host = self.selected(), self.host
        if name is None or host is None:
            return None

        async def remove() -> None:
            entry = await asyncio.to_thread(host.source.remove_server, name)
            await host.reload()

            def undo() -> None:
                self._banner.dismiss()
                self._edit(lambda source: source.put_server(name, entry))

            self._banner.show_message(f"Removed MCP server “{name}”.", "info",
                                      action_text="Undo", action=undo)  # fmt: skip

        return self._run(remove(), "mcp-remove")

    def _edit(self, change: Callable[[Any], Any]) -> asyncio.Task[Any] | None:
        host = self.host
        if host is None:
            return None

        async def edit() -> None:
            await asyncio.to_thread(change, host.source)
            await host.reload()

        return self._run(edit(), "mcp-edit")
