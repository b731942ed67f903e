"""Add or edit one MCP server: a command to start, or the URL of a running server.

The entry is checked with the same validation as ``mcp.json`` before the dialog closes; secrets
are meant to be written as ``${secret:NAME}`` (the hint says so), never in plain text.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.mcp_json_file import parse_servers
from hybridmcp_app.config.mcp_references import plaintext_secrets
from hybridmcp_app.ui.widgets.qt_form_parts import error_label, save_cancel

SECRET_HINT = "Write secrets as ${secret:NAME} (kept in the keychain) or ${env:NAME}."


def _pairs(text: str, separator: str) -> dict[str, str]:
    pairs = {}
    for line in text.splitlines():
        if line.strip():
            key, _, value = line.partition(separator)
            pairs[key.strip()] = value.strip()
    return pairs


class QtMcpServerDialog(QDialog):
    """Returns ``(name, entry)`` through ``result_entry`` when accepted."""

    def __init__(
        self, parent: QWidget | None = None, *, name: str = "", entry: dict[str, Any] | None = None
    ) -> None:
        super().__init__(parent)
        entry = entry or {}
        self.setWindowTitle("Edit MCP server" if name else "Add MCP server")
        self.setMinimumWidth(520)
        self.name = QLineEdit(name, self)
        self.name.setPlaceholderText("e.g. filesystem")
        self.kind = QComboBox(self)
        self.kind.addItem("Start a program (stdio)", "stdio")
        self.kind.addItem("Connect to a URL (Streamable HTTP or SSE)", "remote")
        self.command = QLineEdit(str(entry.get("command", "")), self)
        self.command.setPlaceholderText("npx, uvx, node, python3, or a full path")
        self.args = QPlainTextEdit("\n".join(entry.get("args", [])), self)
        self.args.setPlaceholderText("One argument per line")
        self.env = QPlainTextEdit(
            "\n".join(f"{k}={v}" for k, v in dict(entry.get("env", {})).items()), self
        )
        self.env.setPlaceholderText("KEY=value, one per line")
        self.cwd = QLineEdit(str(entry.get("cwd", "") or ""), self)
        self.url = QLineEdit(str(entry.get("url", "")), self)
        self.url.setPlaceholderText("http://127.0.0.1:8765/mcp")
        self.transport = QComboBox(self)
        self.transport.addItems(["streamable-http", "sse"])
        self.transport.setCurrentText(str(entry.get("transport", "streamable-http")))
        self.headers = QPlainTextEdit(
            "\n".join(f"{k}: {v}" for k, v in dict(entry.get("headers", {})).items()), self
        )
        self.headers.setPlaceholderText("Authorization: Bearer ${secret:TEAM_TOKEN}")
        for box in (self.args, self.env, self.headers):
            box.setMaximumHeight(80)
        self._extra = {k: v for k, v in entry.items()
                       if k not in {"command", "args", "env", "cwd", "url", "transport",
                                    "headers", "type"}}  # fmt: skip

        stdio_page, remote_page = QWidget(self), QWidget(self)
        stdio_form = QFormLayout(stdio_page)
        stdio_form.addRow("Command:", self.command)
        stdio_form.addRow("Arguments:", self.args)
        stdio_form.addRow("Environment:", self.env)
        stdio_form.addRow("Working folder:", self.cwd)
        remote_form = QFormLayout(remote_page)
        remote_form.addRow("URL:", self.url)
        remote_form.addRow("Transport:", self.transport)
        remote_form.addRow("Headers:", self.headers)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(stdio_page)
        self.pages.addWidget(remote_page)
        self.kind.currentIndexChanged.connect(self.pages.setCurrentIndex)
        self.kind.setCurrentIndex(1 if "url" in entry else 0)
        hint = QLabel(SECRET_HINT, self)
        hint.setProperty("role", "empty-body")
        hint.setWordWrap(True)
        self.errors = error_label(self)
        buttons = save_cancel(self)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Kind:", self.kind)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.pages)
        layout.addWidget(hint)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)
        self.result_entry: tuple[str, dict[str, Any]] | None = None

    def entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = dict(self._extra)
        if self.kind.currentData() == "stdio":
            entry["command"] = self.command.text().strip()
            args = [line for line in self.args.toPlainText().splitlines() if line.strip()]
            if args:
                entry["args"] = args
            env = _pairs(self.env.toPlainText(), "=")
            if env:
                entry["env"] = env
            if self.cwd.text().strip():
                entry["cwd"] = self.cwd.text().strip()
        else:
            entry["url"] = self.url.text().strip()
            entry["transport"] = self.transport.currentText()
            headers = _pairs(self.headers.toPlainText(), ":")
            if headers:
                entry["headers"] = headers
        return entry

    def accept(self) -> None:
        name, entry = self.name.text().strip(), self.entry()
        contents = parse_servers({name: entry})
        if contents.problems:
            self.errors.setText(contents.problems[0])
            return
        plain = plaintext_secrets(name, contents.servers[name])
        if plain and not self.errors.text().startswith("Plain-text"):
            self.errors.setText(
                f"Plain-text secret in {', '.join(plain)}: better stored in the keychain as "
                "${secret:NAME}. Save again to keep it as it is."
            )
            return
        self.result_entry = (name, entry)
        super().accept()
