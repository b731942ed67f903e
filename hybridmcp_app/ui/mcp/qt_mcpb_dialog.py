"""Installing an MCP Bundle (``.mcpb``) from the MCP Servers tab, and uninstalling it.

``QtMcpbDialog`` shows a checked bundle before it is installed: what it runs (the command line
as it will be written, updated as the settings change), what it offers, and a form for its
settings (sensitive ones typed as passwords, stored in the keychain). ``QtBundleActions`` adds
"Install bundle…" to the tab and "Uninstall bundle…" to a bundle server's context menu.
"""

from __future__ import annotations

import asyncio
import html
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QPoint, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.services.mcpb_bundles import BundlePreview, McpbBundles
from hybridmcp_app.services.mcpb_manifest import BundleRefused, UserConfigField, UserValue
from hybridmcp_app.services.mcpb_values import check_values, default_value
from hybridmcp_app.ui.qt_dialog_wait import dialog_closed
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from hybridmcp_app.ui.widgets.qt_form_parts import error_label

if TYPE_CHECKING:
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost

BUNDLE_FILES = "MCP bundles (*.mcpb *.dxt)"


class _Setting:
    """One ``user_config`` field's editor: a line, a password line, a check box, or a list."""

    def __init__(self, key: str, field: UserConfigField, parent: QWidget) -> None:
        self.key, self.field = key, field
        default = default_value(key, field)
        self.check: QCheckBox | None = None
        self.line: QLineEdit | None = None
        self.lines: QPlainTextEdit | None = None
        self.browse: QPushButton | None = None
        if field.type == "boolean":
            self.check = QCheckBox(parent)
            self.check.setChecked(default is True)
            self.widget: QWidget = self.check
        elif field.multiple:
            self.lines = QPlainTextEdit(parent)
            self.lines.setPlaceholderText("one per line")
            self.lines.setPlainText("\n".join(default) if isinstance(default, list) else "")
            self.lines.setMaximumHeight(80)
            self.widget = self.lines
        else:
            self.line = QLineEdit(parent)
            if field.sensitive:
                self.line.setEchoMode(QLineEdit.EchoMode.Password)
                self.line.setPlaceholderText("kept in the keychain")
            elif default is not None and not isinstance(default, list):
                self.line.setText(f"{default:g}" if isinstance(default, float) else str(default))
            self.widget = self.line
        self.widget.setToolTip(field.description)
        if field.type in ("directory", "file"):
            self.browse = QPushButton("Browse…", parent)
            self.browse.clicked.connect(self._pick)

    def value(self) -> UserValue:
        if self.check is not None:
            return self.check.isChecked()
        if self.lines is not None:
            return [line.strip() for line in self.lines.toPlainText().splitlines() if line.strip()]
        assert self.line is not None
        return self.line.text() if self.field.sensitive else self.line.text().strip()

    def row(self, parent: QWidget) -> QWidget:
        if self.browse is None:
            return self.widget
        row = QWidget(parent)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.widget, 1)
        layout.addWidget(self.browse)
        return row

    def _pick(self) -> None:
        parent = self.widget.window()
        if self.field.type == "directory":
            chosen = QFileDialog.getExistingDirectory(parent, self.field.title, str(Path.home()))
        else:
            chosen = QFileDialog.getOpenFileName(parent, self.field.title, str(Path.home()))[0]
        if not chosen:
            return
        if self.lines is not None:
            self.lines.appendPlainText(chosen)
        elif self.line is not None:
            self.line.setText(chosen)


class QtMcpbDialog(QDialog):
    """Review a bundle and give its settings; once accepted, ``values`` holds them."""

    def __init__(self, preview: BundlePreview, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        manifest = preview.manifest
        self.preview = preview
        self.values: dict[str, UserValue] = {}
        self.setWindowTitle(f"Install {manifest.title}")
        about = QLabel(self)
        about.setWordWrap(True)
        about.setTextFormat(Qt.TextFormat.RichText)
        author = html.escape(manifest.author.name)
        about.setText(
            f"<b>{html.escape(manifest.title)}</b> {html.escape(manifest.version)} by {author}"
            f"<br>{html.escape(manifest.description)}"
        )
        self.replacing = QLabel(self)
        self.replacing.setProperty("role", "form-errors")
        self.replacing.setWordWrap(True)
        if preview.installed is not None:
            self.replacing.setText(
                f"Version {preview.installed.version} is installed: installing replaces it."
            )
        self.replacing.setVisible(preview.installed is not None)
        self.runs = QLabel(self)
        self.runs.setWordWrap(True)
        self.runs.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.runs.setStyleSheet("font-family: monospace")
        self.offers = QLabel(_offers(preview), self)
        self.offers.setWordWrap(True)
        self.settings = [_Setting(k, f, self) for k, f in manifest.user_config.items()]
        form = QFormLayout()
        for setting in self.settings:
            star = " *" if setting.field.required else ""
            lock = " 🔒" if setting.field.sensitive else ""
            form.addRow(f"{setting.field.title}{star}{lock}:", setting.row(self))
            _changed(setting.widget).connect(self._show_command)
        self.errors = error_label(self)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.install_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.install_button.setText("Replace" if preview.installed else "Install")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addWidget(self.replacing)
        layout.addWidget(QLabel("<b>What it runs</b> (added switched off):", self))
        layout.addWidget(self.runs)
        layout.addWidget(self.offers)
        if self.settings:
            layout.addWidget(QLabel("<b>Its settings</b> (🔒 kept in the keychain):", self))
            layout.addLayout(form)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)
        self._show_command()

    def current_values(self) -> dict[str, UserValue]:
        return {setting.key: setting.value() for setting in self.settings}

    def _show_command(self) -> None:
        try:
            entry = self.preview.command_line(self.current_values())
        except HybridMCPError as error:
            self.runs.setText(str(error))
            return
        lines = [shlex.join([entry["command"], *entry["args"]])]
        lines += [f"{key}={value}" for key, value in entry["env"].items()]
        lines.append(f"in {entry['cwd']}")
        self.runs.setText("\n".join(lines))

    def accept(self) -> None:
        values = self.current_values()
        try:
            check_values(self.preview.manifest, values)
        except BundleRefused as error:
            self.errors.setText(str(error))
            return
        self.values = values
        super().accept()


def _offers(preview: BundlePreview) -> str:
    manifest = preview.manifest
    tools = ", ".join(tool.name for tool in manifest.tools) or "none listed"
    prompts = ", ".join(prompt.name for prompt in manifest.prompts) or "none listed"
    more = " (and more once it runs)"
    return (
        f"Tools: {tools}{more if manifest.tools_generated else ''}\n"
        f"Prompts: {prompts}{more if manifest.prompts_generated else ''}"
    )


def _changed(widget: QWidget) -> Any:
    """The signal that tells the widget's value changed."""
    if isinstance(widget, QCheckBox):
        return widget.toggled
    if isinstance(widget, QLineEdit | QPlainTextEdit):
        return widget.textChanged
    raise TypeError(type(widget).__name__)


class QtBundleActions(QObject):
    """ "Install bundle…" for the MCP Servers tab, and "Uninstall bundle…" on a bundle's row.

    ``host()`` gives the tab's host (None until it is started); bundles go under ``root``."""

    def __init__(
        self,
        view: QWidget,
        host: Callable[[], McpHost | None],
        servers: QListWidget,
        tasks: BackgroundTasks,
        banner: QtBanner,
        secrets: SecretStore | None,
        root: Path | None,
    ) -> None:
        super().__init__(view)
        self._view, self._list, self._tasks, self._banner = view, servers, tasks, banner
        self._secrets, self._root, self._host = secrets, root, host
        self.install_button = QPushButton("Install bundle…", view)
        self.install_button.setToolTip("Add a server packed as an .mcpb file (Claude extensions)")
        self.install_button.setVisible(root is not None and secrets is not None)
        self.install_button.clicked.connect(self.choose_bundle)
        servers.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        servers.customContextMenuRequested.connect(self._context_menu)

    def bundles(self) -> McpbBundles | None:
        host = self._host()
        if host is None or self._root is None or self._secrets is None:
            return None
        return McpbBundles(self._root, host.source, self._secrets)

    def choose_bundle(self) -> asyncio.Task[Any] | None:
        chosen, _filter = QFileDialog.getOpenFileName(
            self._view, "Install an MCP bundle", str(Path.home()), BUNDLE_FILES
        )
        return self.install(Path(chosen)) if chosen else None

    def install(self, path: Path) -> asyncio.Task[Any] | None:
        """Check ``path``, show it, and install it as the user says."""
        bundles, host = self.bundles(), self._host()
        if bundles is None or host is None:
            self._banner.show_message("The MCP host is still starting; try again.", "info")
            return None

        async def install() -> None:
            preview = await asyncio.to_thread(bundles.inspect, path)
            dialog = QtMcpbDialog(preview, self._view)
            await dialog_closed(dialog)
            if dialog.result() != QDialog.DialogCode.Accepted:
                return
            replace = preview.installed is not None
            record = await asyncio.to_thread(bundles.install, path, dialog.values, replace=replace)
            await host.reload()
            self._banner.show_message(
                f"Installed {preview.manifest.title} {record.version} as “{record.server}”: "
                "switch it on to use it.",
                "info",
            )

        return self._guarded(install(), f"Cannot install {path.name}")

    def uninstall(self, name: str) -> asyncio.Task[Any] | None:
        """Stop the server ``name``, then remove its entry, its folder and its secrets."""
        bundles, host = self.bundles(), self._host()
        if bundles is None or host is None:
            return None

        async def uninstall() -> None:
            if host.enabled(name):
                await host.set_enabled(name, False)
            await asyncio.to_thread(bundles.uninstall, name)
            await host.reload()
            self._banner.show_message(f"Uninstalled the bundle “{name}”.", "info")

        return self._guarded(uninstall(), f"Cannot uninstall {name}")

    def menu_for(self, name: str) -> QMenu | None:
        """The context menu of server ``name``: only a bundle's has one."""
        bundles, host = self.bundles(), self._host()
        if bundles is None or host is None:
            return None
        if not bundles.is_bundle(name, host.configured.servers.get(name)):
            return None
        menu = QMenu(self._list)
        menu.addAction("Uninstall bundle…", lambda: self._confirm_uninstall(name))
        return menu

    def _context_menu(self, position: QPoint) -> None:
        item = self._list.itemAt(position)
        if item is None:
            return
        menu = self.menu_for(str(item.data(Qt.ItemDataRole.UserRole)))
        if menu is not None:
            menu.exec(self._list.viewport().mapToGlobal(position))

    def _confirm_uninstall(self, name: str) -> None:
        answer = QMessageBox.question(
            self._view,
            "Uninstall bundle",
            f"Uninstall “{name}”? Its files, its entry in mcp.json and the settings kept in "
            "the keychain for it are removed.",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.uninstall(name)

    def _guarded(self, action: Any, failure: str) -> asyncio.Task[Any]:
        async def guarded() -> None:
            try:
                await action
            except HybridMCPError as error:
                self._banner.show_message(f"{failure}: {error}", "error")

        return self._tasks.spawn(guarded(), name="mcp-bundle")
