"""Settings → Local API: where clients connect, and the token they send (Show / Copy)."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from hybridmcp_app.api_server import TOKEN_SECRET_NAME
from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.server_token import ensure_server_token
from hybridmcp_app.core.errors import SecretStoreError

HIDDEN = "••••••••••••"


class QtApiAccess(QWidget):
    """The base URL to give an OpenAI client, and the API's bearer token from the keychain."""

    def __init__(self, secrets: SecretStore, port: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._secrets = secrets
        self.url = QLabel(self)
        self.url.setWordWrap(True)
        self.set_port(port)
        self.token = QLineEdit(HIDDEN, self)
        self.token.setReadOnly(True)
        self.token.setToolTip("Clients send it as 'Authorization: Bearer <token>' (OpenAI SDKs: "
                              "the api_key)")  # fmt: skip
        show = QPushButton("Show", self)
        show.setToolTip("Show the token (it is made and kept in the keychain the first time)")
        show.clicked.connect(lambda: self.reveal())
        copy = QPushButton("Copy", self)
        copy.setToolTip("Copy the token to the clipboard")
        copy.clicked.connect(lambda: self.reveal(copy=True))
        self.problem = QLabel(self)
        self.problem.setProperty("role", "form-errors")
        self.problem.hide()
        row = QHBoxLayout()
        row.addWidget(QLabel("Token:", self))
        row.addWidget(self.token, 1)
        row.addWidget(show)
        row.addWidget(copy)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.url)
        layout.addLayout(row)
        layout.addWidget(self.problem)

    def set_port(self, port: int) -> None:
        self.url.setText(
            f"OpenAI clients connect to <b>http://127.0.0.1:{port}/v1</b> while HybridMCP runs "
            "with the API on; the models are <i>local</i>, <i>provider/…</i> and "
            "<i>hybrid/…</i> (e.g. hybrid/boost)."
        )

    def reveal(self, copy: bool = False) -> None:
        try:
            token = ensure_server_token(self._secrets, TOKEN_SECRET_NAME)
        except SecretStoreError as error:
            self.problem.setText(f"No token: {error}")
            self.problem.show()
            return
        self.problem.hide()
        self.token.setText(token)
        if copy:
            QGuiApplication.clipboard().setText(token)
