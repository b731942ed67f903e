"""Where API keys go, in the UI: the status-bar label, unlocking the opt-in file, switching."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit, QWidget

from hybridmcp_app.config.encrypted_secrets_file import EncryptedSecretsFile
from hybridmcp_app.config.secrets import FILE_LOCKED, FILE_UNLOCKED, system_keychain
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import SecretStoreError
from hybridmcp_app.services.app_services import AppServices
from hybridmcp_app.ui.widgets.qt_banner import QtBanner

log = logging.getLogger("hybridmcp.ui.keychain")


class QtKeychain(QObject):
    """Wraps the context's ``SecretStore`` for the window: label, banner prompts, passphrase."""

    def __init__(self, context: AppServices, banner: QtBanner, window: QWidget) -> None:
        super().__init__(window)
        self._context = context
        self._banner = banner
        self._window = window
        self.label = QLabel(window)
        self.update_status()

    def update_status(self) -> None:
        """Show where secrets go; called again when the keychain is found or unlocked."""
        secrets = self._context.secrets
        status = secrets.status
        if secrets.available:
            self.label.setText(f"Keychain: {status.backend_name}")
            self.label.setToolTip("API keys are stored here, never in settings files.")
        else:
            self.label.setText("Keychain: detecting…" if status.pending else "⚠ No keychain")
            self.label.setToolTip(status.help_text)

    def offer_unlock(self) -> None:
        exists = self._context.paths.encrypted_secrets_file.exists()
        text = (
            "Your API keys are in an encrypted file. Unlock it to use your providers."
            if exists
            else "Choose a passphrase for the encrypted key file that holds your API keys."
        )
        self._banner.show_message(
            text, "info", action_text="Unlock…" if exists else "Set passphrase…", action=self.unlock
        )

    def unlock(self) -> None:
        path = self._context.paths.encrypted_secrets_file
        creating = not path.exists()
        passphrase = self._ask("Passphrase for the new key file:" if creating else "Passphrase:")
        if passphrase is None:
            return
        if creating and self._ask("Type the passphrase again:") != passphrase:
            self._retry("the two passphrases differ")
            return
        try:
            backend = EncryptedSecretsFile(path, passphrase)
        except SecretStoreError as error:
            self._retry(str(error))
            return
        self._context.secrets.use_backend(backend, FILE_UNLOCKED)
        self.update_status()
        self._banner.dismiss()

    def settings_changed(self, old: Settings, new: Settings) -> None:
        """Switch backends at once when the user changes ``secrets.backend``."""
        if old.secrets.backend == new.secrets.backend:
            return
        if new.secrets.backend == "encrypted_file":
            self._context.secrets.use_backend(None, FILE_LOCKED)
            self.offer_unlock()
        else:
            self._context.secrets.use_backend(*system_keychain())
        self.update_status()

    def _ask(self, prompt: str) -> str | None:
        text, ok = QInputDialog.getText(
            self._window, "API key file", prompt, QLineEdit.EchoMode.Password
        )
        return text if ok else None

    def _retry(self, reason: str) -> None:
        log.warning("key file not unlocked: %s", reason)
        self._banner.show_message(
            f"Not unlocked: {reason}", "error", action_text="Try again…", action=self.unlock
        )
