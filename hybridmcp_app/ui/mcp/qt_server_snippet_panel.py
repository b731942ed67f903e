"""The MCP tab's "Use elsewhere" page: the selected server as an entry for Claude Desktop's
config (or any mcp.json), and for the project's own servers the bearer token they require when
they serve HTTP beyond this machine (kept in the keychain, shown on request); with the documents
server's entry, why the app does not share its library when it could not do so safely."""

from __future__ import annotations

import asyncio
import html

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.mcp_config import ServerConfig
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.server_token import ensure_server_token
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import SecretStoreError
from hybridmcp_app.mcp_host.builtin_servers import (
    DOCUMENTS_MODULE,
    builtin_module,
    claude_desktop_snippet,
)
from hybridmcp_app.ui.widgets.qt_banner import QtBanner
from hybridmcp_app.ui.widgets.qt_guarded_task import spawn_guarded

HIDDEN = "•" * 16


class QtServerSnippetPanel(QWidget):
    """Shows ``show_server``'s entry; Copy puts it on the clipboard."""

    def __init__(
        self,
        tasks: BackgroundTasks,
        banner: QtBanner,
        secrets: SecretStore | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._tasks, self._banner, self._secrets = tasks, banner, secrets
        self._shown: tuple[str | None, ServerConfig | None] = (None, None)
        self._sharing_problem = ""
        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.snippet = QPlainTextEdit(self)
        self.snippet.setReadOnly(True)
        self.snippet.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy this entry, to paste into claude_desktop_config.json")
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.token = QLineEdit(HIDDEN, self)
        self.token.setReadOnly(True)
        self.show_token_button = QPushButton("Show token", self)
        self.copy_token_button = QPushButton("Copy token", self)
        self.show_token_button.setToolTip(
            "Show the token other clients need to reach the shared library"
        )
        self.copy_token_button.setToolTip("Copy the token to the clipboard")
        token_label = QLabel("HTTP bearer token:", self)
        token_row = QHBoxLayout()
        token_row.addWidget(token_label)
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.show_token_button)
        token_row.addWidget(self.copy_token_button)
        self._token_widgets = [token_label, self.token, self.show_token_button,
                               self.copy_token_button]  # fmt: skip
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.snippet, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.note)
        layout.addLayout(token_row)
        self.copy_button.clicked.connect(self.copy_snippet)
        self.show_token_button.clicked.connect(lambda: self.reveal_token())
        self.copy_token_button.clicked.connect(lambda: self.reveal_token(copy=True))
        self.show_server(None, None)

    def library_not_shared(self, reason: str) -> None:
        """Say with the documents server's entry why other clients cannot use the library
        through the app."""
        self._sharing_problem = reason
        self.show_server(*self._shown)

    def show_server(self, name: str | None, config: ServerConfig | None) -> None:
        self._shown = (name, config)
        if name is None or config is None:
            self.intro.setText("Select a server to see its entry for other MCP clients.")
            self.snippet.clear()
            self.copy_button.setEnabled(False)
            self._show_token_row(False)
            self.note.clear()
            return
        self.intro.setText(
            f"<b>{html.escape(name)}</b> for Claude Desktop: add this to "
            "<i>claude_desktop_config.json</i> (Settings → Developer → Edit Config), merging "
            "its <i>mcpServers</i>. Other clients read the same entry from their mcp.json."
        )
        self.snippet.setPlainText(claude_desktop_snippet(name, config))
        self.copy_button.setEnabled(True)
        module = builtin_module(config)
        notes = []
        if module == DOCUMENTS_MODULE:
            notes.append(
                "HybridMCP runs this server itself while it is open. Another client starts its "
                "own copy, which goes through HybridMCP while it is open (Settings → MCP "
                "servers → Share library) and opens the library itself when it is closed."
            )
            if self._sharing_problem:
                notes.append(self._sharing_problem)
        if module is not None:
            notes.append(
                "Served over HTTP beyond this machine (add --http --host 0.0.0.0), it requires "
                "this token: clients send 'Authorization: Bearer <token>'."
            )
        self.note.setText(" ".join(notes))
        self.token.setText(HIDDEN)
        self._show_token_row(module is not None)

    def _show_token_row(self, visible: bool) -> None:
        for widget in self._token_widgets:
            widget.setVisible(visible)

    def copy_snippet(self) -> None:
        QGuiApplication.clipboard().setText(self.snippet.toPlainText())
        self._banner.show_message("Copied the entry: paste it into the client's config.")

    def reveal_token(self, copy: bool = False) -> asyncio.Task[object]:
        """Show (and maybe copy) the token, made and stored in the keychain at first use."""

        async def reveal() -> None:
            if self._secrets is None:
                raise SecretStoreError("no keychain: the token cannot be kept")
            token = await asyncio.to_thread(ensure_server_token, self._secrets)
            self.token.setText(token)
            if copy:
                QGuiApplication.clipboard().setText(token)
                self._banner.show_message("Copied the bearer token.")

        return spawn_guarded(self._tasks, self._banner, reveal(), name="mcp-token")
