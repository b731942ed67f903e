"""MCP tab → "Add from catalogue…": search the offline catalogue of well-known servers, read an
entry's details (what it runs, what each setting is for, its tools), fill in its settings and
add it to ``mcp.json`` switched off (``services.mcp_catalog``). Ctrl+F searches, Enter adds.

The "MCP Registry (online)" tab searches the official registry instead (``QtRegistrySearch``):
only once picked, and only when asked (Enter in the search box, or Search).

The write (file and keychain) runs off the event loop; when it fails, the form keeps what was
typed and says why in one line.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import ConfigError, HybridMCPError
from hybridmcp_app.services.mcp_catalog import (
    AddResult,
    CatalogEntry,
    CatalogSetting,
    McpCatalog,
    add,
    check_values,
    load_catalog,
    runs_text,
    search,
)
from hybridmcp_app.services.mcp_registry_entries import RegistryEntry
from hybridmcp_app.services.mcp_registry_source import McpRegistrySource
from hybridmcp_app.ui.mcp.qt_mcp_registry_search import QtRegistrySearch
from hybridmcp_app.ui.qt_dialog_wait import dialog_closed
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from hybridmcp_app.ui.widgets.qt_form_parts import error_label
from hybridmcp_app.ui.widgets.qt_guarded_task import spawn_guarded

if TYPE_CHECKING:
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost
    from hybridmcp_app.ui.mcp.qt_mcp_servers_view import QtMcpServersView

# (entry, name in mcp.json, plain values, secret values) → what was written
Adder = Callable[[CatalogEntry, str, dict[str, str], dict[str, str]], Awaitable[AddResult]]
BADGES = {"stdio": "runs here", "http": "remote"}
Field = QLineEdit | QComboBox
OFFLINE, REGISTRY = 0, 1  # the source tabs


def _link(text: str) -> str:
    escaped = html.escape(text)
    return f"<a href='{escaped}'>{escaped}</a>" if text.startswith("https://") else escaped


def details_html(entry: CatalogEntry) -> str:
    """The details page: what it is, who publishes it, what it runs, its settings and tools."""
    registry = isinstance(entry, RegistryEntry)
    home = _link(entry.homepage) if entry.homepage else ("not given" if registry else
                                                         "part of HybridMCP")  # fmt: skip
    parts = [
        f"<h3>{html.escape(entry.name)}</h3><p>{html.escape(entry.description)}</p>",
        f"<p><b>Publisher:</b> {html.escape(entry.publisher)} · <b>Licence:</b> "
        f"{html.escape(entry.license)} · <b>Transport:</b> {entry.transport}<br>"
        f"<b>Home page:</b> {home}</p>",
        f"<p><b>Runs:</b> <code>{html.escape(runs_text(entry))}</code></p>",
    ]
    if isinstance(entry, RegistryEntry):
        parts.insert(1, f"<p><b>In the MCP Registry as</b> {html.escape(entry.registry_name)} "
                        f"{html.escape(entry.version)} ({html.escape(entry.way)})</p>")  # fmt: skip
    if entry.settings:
        items = "".join(f"<li>{_setting_html(setting)}</li>" for setting in entry.settings)
        parts.append(f"<p><b>Settings</b></p><ul>{items}</ul>")
    for title, tools in (("Read-only tools", entry.read_only_tools),
                         ("Tools that change things", entry.write_tools)):  # fmt: skip
        if tools:
            parts.append(f"<p><b>{title}:</b> {html.escape(', '.join(tools))}</p>")
    if entry.note:
        parts.append(f"<p><i>{html.escape(entry.note)}</i></p>")
    return "".join(parts)


def _setting_html(setting: CatalogSetting) -> str:
    marks = [
        word for word, on in (("required", setting.required), ("secret", setting.secret)) if on
    ]
    text = f"<b>{html.escape(setting.label)}</b>" + (f" ({', '.join(marks)})" if marks else "")
    text += f": {html.escape(setting.description)}"
    return text + (f" Get it: {_link(setting.where)}" if setting.where else "")


class QtMcpCatalogDialog(QDialog):
    """``added`` holds what was written once Add succeeded (the dialog then closes)."""

    def __init__(
        self,
        catalog: McpCatalog | None,
        problem: str,
        adder: Adder,
        tasks: BackgroundTasks,
        parent: QWidget | None = None,
        *,
        registry: McpRegistrySource | None = None,
        registry_off: str = "",
    ) -> None:
        """``registry``: the online source (None: off, ``registry_off`` says why)."""
        super().__init__(parent)
        self.setWindowTitle("Add an MCP server from the catalogue")
        self.resize(900, 560)
        self._catalog, self._adder, self._tasks = catalog, adder, tasks
        self.added: AddResult | None = None
        self.adding: asyncio.Task[None] | None = None
        self.fields: dict[str, Field] = {}
        self._registry_entries: list[RegistryEntry] = []
        self.sources = QTabBar(self)
        self.sources.addTab("Offline catalogue")
        self.sources.addTab("MCP Registry (online)")
        self.sources.setTabEnabled(REGISTRY, registry is not None)
        self.sources.setTabToolTip(REGISTRY, registry_off or "Search the official MCP Registry "
                                   "(contacted only when you search)")  # fmt: skip
        self.registry = QtRegistrySearch(registry, tasks, self._show_registry, self)
        self.registry.hide()
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search by name, publisher, tag or description (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget(self)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setOpenExternalLinks(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.name = QLineEdit(self)
        self.name.setToolTip("Its name in mcp.json (a number is added when it is taken)")
        self.form = QFormLayout()
        self.form.addRow("Name:", self.name)
        self.errors = error_label(self)
        buttons = QDialogButtonBox(self)
        self.add_button = buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.add_button.clicked.connect(self.add)
        QShortcut(QKeySequence.StandardKey.Find, self, self._focus_search)

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        scroll = QScrollArea(right)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.details)
        right_layout.addWidget(scroll, 1)
        right_layout.addLayout(self.form)
        right_layout.addWidget(self.errors)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setSizes([300, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(self.sources)
        layout.addWidget(self.search)
        layout.addWidget(self.registry)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.search.textChanged.connect(lambda _: self._typed())
        self.sources.currentChanged.connect(lambda _: self._source_changed())
        self.registry.search_button.clicked.connect(self._search_registry)
        self.finished.connect(lambda _: self.registry.cancel())
        self.list.currentItemChanged.connect(lambda *_: self._show_entry())
        self.errors.setText(problem)
        self.show_matches()
        self._focus_search()

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def online(self) -> bool:
        """Whether the MCP Registry is the source shown."""
        return self.sources.currentIndex() == REGISTRY

    def _typed(self) -> None:
        if not self.online():  # the registry is searched only when asked
            self.show_matches()

    def _source_changed(self) -> None:
        self.registry.setVisible(self.online())
        self.search.setPlaceholderText(
            "Search the MCP Registry by name, then press Enter" if self.online() else
            "Search by name, publisher, tag or description (Ctrl+F)"
        )  # fmt: skip
        self.show_matches()
        self._focus_search()

    def _search_registry(self) -> None:
        self.registry.request(self.search.text())

    def _show_registry(self, entries: list[RegistryEntry], more: bool) -> None:
        self._registry_entries = [*self._registry_entries, *entries] if more else entries
        if self.online():
            self.show_matches()

    def show_matches(self) -> None:
        """The source's entries matching the search, best first; the first one selected."""
        self.list.clear()
        if self.online():
            matches: list[CatalogEntry] = list(self._registry_entries)
        else:
            matches = search(self._catalog, self.search.text()) if self._catalog else []
        for entry in matches:
            badge = entry.way if isinstance(entry, RegistryEntry) else BADGES[entry.transport]
            item = QListWidgetItem(f"{entry.name}\n{entry.publisher} · {badge}", self.list)
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setToolTip(entry.description)
        if matches:
            self.list.setCurrentRow(0)
        else:
            self._show_entry()

    def selected(self) -> CatalogEntry | None:
        item = self.list.currentItem()
        entry = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        return entry if isinstance(entry, CatalogEntry) else None

    def _show_entry(self) -> None:
        entry = self.selected()
        self.add_button.setEnabled(entry is not None and self.adding is None)
        while self.form.rowCount() > 1:  # the name stays
            self.form.removeRow(1)
        self.fields.clear()
        self.name.setEnabled(entry is not None)
        if entry is None:
            empty = "Nothing matches." if self._catalog else "The catalogue could not be read."
            self.details.setText("Nothing to show yet." if self.online() else empty)
            return
        self.details.setText(details_html(entry))
        self.name.setText(entry.id)
        for setting in entry.settings:
            field = self._field(setting)
            label = setting.label + (" *" if setting.required else "")
            self.form.addRow(f"{label}:", self._with_browse(setting, field))
            self.fields[setting.id] = field
        if self._catalog is not None:
            self.errors.clear()

    def _field(self, setting: CatalogSetting) -> Field:
        if setting.choices:
            combo = QComboBox(self)
            combo.addItem(f"(default{': ' + setting.default if setting.default else ''})", "")
            for choice in setting.choices:
                combo.addItem(choice, choice)
            combo.setToolTip(setting.description)
            return combo
        line = QLineEdit(setting.default or "", self)
        line.setToolTip(setting.description)
        line.setPlaceholderText("required" if setting.required else "optional")
        if setting.secret:
            line.setEchoMode(QLineEdit.EchoMode.Password)
            line.setPlaceholderText(line.placeholderText() + " · kept in the keychain")
        return line

    def _with_browse(self, setting: CatalogSetting, field: Field) -> QWidget:
        if setting.kind not in ("folder", "file") or not isinstance(field, QLineEdit):
            return field
        row = QWidget(self)
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(field, 1)
        browse = QPushButton("Browse…", row)
        browse.setAutoDefault(False)  # Enter adds; it does not browse
        browse.clicked.connect(lambda: self._browse(setting, field))
        row_layout.addWidget(browse)
        return row

    def _browse(self, setting: CatalogSetting, field: QLineEdit) -> None:
        start = field.text() or str(Path.home())
        if setting.kind == "folder":
            chosen = QFileDialog.getExistingDirectory(self, setting.label, start)
        else:
            chosen, _ = QFileDialog.getSaveFileName(
                self, setting.label, start, options=QFileDialog.Option.DontConfirmOverwrite
            )
        if chosen:
            field.setText(chosen)

    def values(self) -> tuple[dict[str, str], dict[str, str]]:
        """What the form holds: the plain settings, and the secret ones."""
        entry = self.selected()
        plain: dict[str, str] = {}
        hidden: dict[str, str] = {}
        for setting_id, field in self.fields.items():
            value = field.currentData() if isinstance(field, QComboBox) else field.text()
            secret = entry is not None and entry.setting(setting_id).secret
            (hidden if secret else plain)[setting_id] = value
        return plain, hidden

    def add(self) -> asyncio.Task[None] | None:
        """Check the form, then write in the background; the dialog closes once written."""
        entry = self.selected()
        if entry is None or self.adding is not None:
            return None
        plain, hidden = self.values()
        try:
            check_values(entry, {**plain, **hidden})
        except ConfigError as error:
            self.errors.setText(str(error))
            return None
        self.add_button.setEnabled(False)
        self.errors.setText("Adding…")
        self.adding = self._tasks.spawn(
            self._write(entry, self.name.text(), plain, hidden), name="mcp-catalogue-add"
        )
        return self.adding

    async def _write(
        self, entry: CatalogEntry, name: str, plain: dict[str, str], hidden: dict[str, str]
    ) -> None:
        try:
            self.added = await self._adder(entry, name, plain, hidden)
        except HybridMCPError as error:
            self.errors.setText(str(error))
            return
        finally:
            self.adding = None
            self.add_button.setEnabled(self.selected() is not None)
        self.accept()

    def keyPressEvent(self, event: Any) -> None:
        """Enter adds, wherever the focus is (the search box included); in the search box of
        the MCP Registry, it searches."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and self.online() and self.search.hasFocus():
            self._search_registry()
            return
        if enter and self.add_button.isEnabled():
            self.add()
            return
        super().keyPressEvent(event)


async def _read_catalog() -> tuple[McpCatalog | None, str]:
    try:
        return await asyncio.to_thread(load_catalog), ""
    except ConfigError as error:
        return None, str(error)


def registry_source(url: str) -> tuple[McpRegistrySource | None, str]:
    """The registry at ``url`` (the setting ``mcp.registry_url``), or None and why not."""
    if not url.strip():
        return None, "Off: set the MCP Registry address in Settings → MCP servers"
    try:
        return McpRegistrySource(url), ""
    except ConfigError as error:
        return None, f"Off: {error}"


async def add_from_catalogue(
    view: QtMcpServersView,
    host: McpHost,
    secrets: SecretStore,
    tasks: BackgroundTasks,
    banner: QtBanner,
    registry_url: str = "",
) -> AddResult | None:
    """Show the catalogue; once a server is added, read ``mcp.json`` again and select it."""
    catalog, problem = await _read_catalog()
    registry, registry_off = registry_source(registry_url)

    async def adder(
        entry: CatalogEntry, name: str, plain: dict[str, str], hidden: dict[str, str]
    ) -> AddResult:
        return await asyncio.to_thread(add, host.source, entry, plain, hidden, secrets, name=name)

    dialog = QtMcpCatalogDialog(
        catalog, problem, adder, tasks, view, registry=registry, registry_off=registry_off
    )
    await dialog_closed(dialog)
    added = dialog.added
    if added is None:
        return None
    await host.reload()
    view.redraw()
    for row in range(view.list.count()):
        item = view.list.item(row)
        if item.data(Qt.ItemDataRole.UserRole) == added.name:
            view.list.setCurrentItem(item)
    banner.show_message(added.message, "info")
    return added


class QtCatalogueButton(QPushButton):
    """The MCP tab's "Add from catalogue…": opens the dialog over the tab's host."""

    def __init__(
        self,
        view: QtMcpServersView,
        tasks: BackgroundTasks,
        banner: QtBanner,
        secrets: SecretStore | None,
        registry_url: Callable[[], str] = lambda: "",
    ) -> None:
        """``registry_url``: the setting ``mcp.registry_url``, read when the dialog opens."""
        super().__init__("Add from catalogue…", view)
        self.setToolTip("Well-known servers: search, read what each does, fill in, add (off)")
        self._view, self._tasks, self._banner, self._secrets = view, tasks, banner, secrets
        self._registry_url = registry_url
        self.clicked.connect(self.start)

    def start(self) -> asyncio.Task[Any] | None:
        """Show the dialog; None when there is no host or keychain to add to yet."""
        host, secrets = self._view.host, self._secrets
        if host is None or secrets is None:
            return None
        adding = add_from_catalogue(
            self._view, host, secrets, self._tasks, self._banner, self._registry_url()
        )
        return spawn_guarded(self._tasks, self._banner, adding, "mcp-catalogue",
                             after=self._view.redraw)  # fmt: skip
