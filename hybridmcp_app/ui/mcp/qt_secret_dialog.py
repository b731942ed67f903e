"""Store a named secret in the keychain, for ``${secret:NAME}`` references in mcp.json."""

from __future__ import annotations

import re

from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.core.llm_configs import SECRET_NAME_PATTERN
from hybridmcp_app.ui.widgets.qt_form_parts import error_label, save_cancel

SECRET_NAME = re.compile(SECRET_NAME_PATTERN)


class QtSecretDialog(QDialog):
    """Name and value; the value goes straight into the keychain and is never shown again."""

    def __init__(self, secrets: SecretStore, parent: QWidget | None = None, name: str = "") -> None:
        super().__init__(parent)
        self._secrets = secrets
        self.setWindowTitle("Store a secret in the keychain")
        self.name = QLineEdit(name, self)
        self.name.setPlaceholderText("GITHUB_TOKEN")
        self.value = QLineEdit(self)
        self.value.setEchoMode(QLineEdit.EchoMode.Password)
        hint = QLabel("Refer to it in mcp.json as ${secret:NAME}.", self)
        hint.setProperty("role", "empty-body")
        self.errors = error_label(self)
        buttons = save_cancel(self)
        form = QFormLayout()
        form.addRow("Name:", self.name)
        form.addRow("Value:", self.value)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)

    def accept(self) -> None:
        name, value = self.name.text().strip(), self.value.text()
        if not SECRET_NAME.match(name):
            self.errors.setText("The name may use letters, digits, '.', '_' and '-' (≤ 128).")
            return
        if not value:
            self.errors.setText("The value is empty.")
            return
        try:
            self._secrets.set(name, value)
        except HybridMCPError as error:
            self.errors.setText(str(error))
            return
        self.value.clear()
        super().accept()
