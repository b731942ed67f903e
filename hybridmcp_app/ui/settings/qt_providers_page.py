"""Settings → Providers: add from a preset, key into the keychain, test the connection.

A key is stored bound to the origin (scheme, host, port) of its provider's base URL. A provider
moved to another origin asks for its key again, and Test connection never sends the stored key
to the new address."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import SecretStr, ValidationError
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.secrets import SecretStore, origin_of
from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import SecretStoreError, describe_validation_error
from hybridmcp_app.core.llm_configs import ProviderConfig, ProvidersConfig
from hybridmcp_app.llm.openai_backend import ConnectionReport
from hybridmcp_app.llm.provider_catalog import ProviderPreset


def secret_name_for(provider_name: str) -> str:
    """The keychain entry of a provider's key, e.g. 'OpenAI work' -> 'OPENAI_WORK_API_KEY'."""
    return re.sub(r"[^A-Za-z0-9]+", "_", provider_name).strip("_").upper() + "_API_KEY"


# (provider as edited, the key to use) → the report "Test connection" shows
ProbeProvider = Callable[[ProviderConfig, SecretStr | None], Awaitable[ConnectionReport]]


class QtProvidersPage(QWidget):
    """Edits a copy of ``ProvidersConfig``; keys typed here are stored only on Save."""

    def __init__(
        self,
        providers: ProvidersConfig,
        secrets: SecretStore,
        presets: tuple[ProviderPreset, ...],
        tasks: BackgroundTasks,
        probe: ProbeProvider,
        parent: QWidget | None = None,
    ) -> None:
        """``probe`` tests a provider as edited (the app's ``BackendRegistry.probe``)."""
        super().__init__(parent)
        self._probe = probe
        # Working copies as plain data: validated only on Save or Test.
        self._items: list[dict[str, Any]] = [p.model_dump(mode="json") for p in providers.items]
        self._active = providers.active
        self._secrets = secrets
        self._presets = {preset.id: preset for preset in presets}
        self._tasks = tasks
        self._pending_keys: dict[str, str] = {}
        # Where each stored key may go when the keychain has no origin for it (saved before keys
        # were bound): the address its provider had when this page opened.
        self._loaded_origins = {
            item.api_key_secret: origin_of(str(item.base_url))
            for item in providers.items
            if item.api_key_secret
        }
        self._current = -1

        self.list = QListWidget(self)
        self.list.setMaximumWidth(200)
        self.preset = QComboBox(self)
        for preset in presets:
            self.preset.addItem(preset.name, preset.id)
        add = QPushButton("Add", self)
        self.remove_button = QPushButton("Remove", self)
        self.active_button = QPushButton("Use by default", self)
        self.test_button = QPushButton("Test connection", self)
        self.name = QLineEdit(self)
        self.base_url = QLineEdit(self)
        self.model = QComboBox(self)
        self.model.setEditable(True)
        self.key = QLineEdit(self)
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.timeout = QDoubleSpinBox(self)
        self.timeout.setRange(1, 3600)
        self.timeout.setToolTip("One attempt: the longest wait for the server's next bytes.")
        self.first_token_timeout = QDoubleSpinBox(self)
        self.first_token_timeout.setRange(1, 3600)
        self.first_token_timeout.setToolTip(
            "The answer must start within this, retries included; otherwise the request fails "
            "(and fails over to the local model when that is on)."
        )
        self.total_timeout = QDoubleSpinBox(self)
        self.total_timeout.setRange(1, 7200)
        self.total_timeout.setToolTip("The whole answer, retries and streaming included.")
        self.retries = QSpinBox(self)
        self.retries.setRange(0, 10)
        self.enabled = QCheckBox("Enabled", self)
        self.status = QLabel(self)
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Base URL", self.base_url)
        form.addRow("Model", self.model)
        form.addRow("API key", self.key)
        form.addRow("Timeout (s)", self.timeout)
        form.addRow("First token within (s)", self.first_token_timeout)
        form.addRow("Whole answer within (s)", self.total_timeout)
        form.addRow("Retries", self.retries)
        form.addRow("", self.enabled)
        self.editor = QWidget(self)
        editor_layout = QVBoxLayout(self.editor)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addLayout(form)
        buttons = QHBoxLayout()
        for button in (self.test_button, self.active_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        editor_layout.addLayout(buttons)
        editor_layout.addWidget(self.status)
        editor_layout.addStretch(1)
        adder = QHBoxLayout()
        adder.addWidget(QLabel("New from preset:", self))
        adder.addWidget(self.preset, 1)
        adder.addWidget(add)
        body = QHBoxLayout()
        body.addWidget(self.list)
        body.addWidget(self.editor, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(adder)
        layout.addLayout(body)

        add.clicked.connect(self.add_from_preset)
        self.remove_button.clicked.connect(self.remove_current)
        self.active_button.clicked.connect(self.make_current_active)
        self.test_button.clicked.connect(self.test_connection)
        self.list.currentRowChanged.connect(self._select)
        self.base_url.editingFinished.connect(self._explain_moved_key)
        self._show(0 if self._items else -1)

    # ------------------------------------------------------------------ list
    def _show(self, row: int) -> None:
        """Rebuild the list and edit ``row`` (the editor's contents are already stored)."""
        self._current = -1
        self.list.blockSignals(True)
        self.list.clear()
        for item in self._items:
            star = " ★" if item["name"] == self._active else ""
            self.list.addItem(item["name"] + star)
        self.list.setCurrentRow(row)
        self.list.blockSignals(False)
        self._select(row)

    def _select(self, row: int) -> None:
        self._store_editor()
        self._current = row
        self.editor.setEnabled(row >= 0)
        if row < 0 or row >= len(self._items):
            self.status.setText("No provider yet: pick a preset above and press Add.")
            return
        item = self._items[row]
        self.name.setText(item["name"])
        self.base_url.setText(str(item["base_url"]))
        self.model.setCurrentText(item["default_model"])
        self.key.clear()
        self.timeout.setValue(float(item["timeout_s"]))
        self.first_token_timeout.setValue(float(item["first_token_timeout_s"]))
        self.total_timeout.setValue(float(item["total_timeout_s"]))
        self.retries.setValue(int(item["max_retries"]))
        self.enabled.setChecked(bool(item["enabled"]))
        self.status.clear()
        self._explain_moved_key()

    def _explain_moved_key(self) -> None:
        """The key field's hint; when the base URL left the key's origin, why it is asked again."""
        if not 0 <= self._current < len(self._items):
            return
        secret: str | None = self._items[self._current].get("api_key_secret")
        saved_for = self._saved_origin(secret) if secret else None
        here = _origin_or_none(self.base_url.text())
        if secret is None:
            hint = "not needed (type one if this server wants a key)"
        elif secret in self._pending_keys:
            hint = "typed — stored in the keychain on Save"
        elif saved_for is not None and here is not None and saved_for != here:
            hint = "type the key for this address"
            self.status.setText(
                f"The stored key was saved for {saved_for}. A key is only sent to the address it "
                f"was saved for, so {here} needs its key typed again."
            )
        elif saved_for is not None:
            hint = "stored in the keychain — type to replace"
        else:
            hint = "paste the key: it is kept in the keychain, never in settings"
        self.key.setPlaceholderText(hint)

    def _saved_origin(self, secret: str) -> str | None:
        """The origin the stored key ``secret`` may go to; None when none is stored."""
        if not self._secrets.available:
            return None
        try:
            if self._secrets.get(secret) is None:
                return None
            return self._secrets.origin(secret) or self._loaded_origins.get(secret)
        except SecretStoreError:
            return None

    def _stored_key_for(self, secret: str | None, url: str) -> str | SecretStr | None:
        """The typed key, else the stored one if it may go to ``url``'s origin."""
        if not secret:
            return None
        if secret in self._pending_keys:
            return self._pending_keys[secret]
        saved_for = self._saved_origin(secret)
        if saved_for is None or saved_for != _origin_or_none(url):
            return None
        return self._secrets.get(secret)

    def _store_editor(self) -> None:
        """Copy the editor back into the working list (validated later, on Save)."""
        if not 0 <= self._current < len(self._items):
            return
        old = self._items[self._current]
        name = self.name.text().strip() or old["name"]
        secret = old.get("api_key_secret")
        typed = self.key.text().strip()
        if typed:
            secret = secret or secret_name_for(name)
            self._pending_keys[secret] = typed
        self._items[self._current] = old | {
            "name": name,
            "base_url": self.base_url.text().strip(),
            "default_model": self.model.currentText().strip(),
            "api_key_secret": secret,
            "timeout_s": self.timeout.value(),
            "first_token_timeout_s": self.first_token_timeout.value(),
            "total_timeout_s": self.total_timeout.value(),
            "max_retries": self.retries.value(),
            "enabled": self.enabled.isChecked(),
        }
        if old["name"] == self._active:
            self._active = name

    # ------------------------------------------------------------------ commands
    def add_from_preset(self) -> None:
        self._store_editor()
        preset = self._presets[self.preset.currentData()]
        name, taken = preset.name, {item["name"] for item in self._items}
        suffix = 2
        while name in taken:
            name, suffix = f"{preset.name} {suffix}", suffix + 1
        self._items.append(
            ProviderConfig.model_validate(
                {
                    "name": name,
                    "preset": preset.id,
                    "base_url": preset.base_url,
                    "default_model": preset.default_model,
                    "api_key_secret": secret_name_for(name) if preset.needs_key else None,
                    "azure_api_version": preset.azure_api_version,
                    "supports_prediction": preset.supports_prediction,
                }
            ).model_dump(mode="json")
        )
        self._active = self._active or name
        self._show(len(self._items) - 1)
        if preset.key_url:
            self.status.setText(f"Get a key at {html.escape(preset.key_url)}")

    def remove_current(self) -> None:
        if not 0 <= self._current < len(self._items):
            return
        removed = self._items.pop(self._current)
        if removed["name"] == self._active:
            self._active = self._items[0]["name"] if self._items else None
        self._show(min(self._current, len(self._items) - 1))

    def make_current_active(self) -> None:
        self._store_editor()
        if 0 <= self._current < len(self._items):
            self._active = self._items[self._current]["name"]
            self._show(self._current)

    def test_connection(self) -> asyncio.Task[None] | None:
        self._store_editor()
        try:
            config = ProviderConfig.model_validate(self._items[self._current])
        except (ValidationError, IndexError) as error:
            lines = describe_validation_error(error) if isinstance(error, ValidationError) else []
            self.status.setText("Fix first: " + "; ".join(lines))
            return None
        key = self._stored_key_for(config.api_key_secret, str(config.base_url))
        self.status.setText("Testing…")
        self.test_button.setEnabled(False)
        return self._tasks.spawn(self._test(config, key), name="test-provider")

    async def _test(self, config: ProviderConfig, key: str | SecretStr | None) -> None:
        secret = SecretStr(key) if isinstance(key, str) else key
        try:
            report = await self._probe(config, secret)
        finally:
            self.test_button.setEnabled(True)
        self.status.setText(("✔ " if report.ok else "✘ ") + report.message)
        if report.models:
            current = self.model.currentText()
            self.model.clear()
            self.model.addItems(list(report.models))
            self.model.setCurrentText(current)

    # ------------------------------------------------------------------ result
    def value(self) -> ProvidersConfig:
        """The edited providers, validated (raises ``ValidationError``)."""
        self._store_editor()
        return ProvidersConfig.model_validate({"items": self._items, "active": self._active})

    def pending_keys(self) -> dict[str, str]:
        """Keys typed on this page, by keychain entry name; store them on Save."""
        return dict(self._pending_keys)

    def keys_to_type_again(self) -> list[str]:
        """One line per provider whose base URL left the origin its stored key was saved for
        and whose key was not typed again: Save waits for them."""
        self._store_editor()
        lines = []
        for item in self._items:
            secret = item.get("api_key_secret")
            if not secret or secret in self._pending_keys:
                continue
            saved_for, here = self._saved_origin(secret), _origin_or_none(str(item["base_url"]))
            if saved_for is not None and here is not None and saved_for != here:
                lines.append(
                    f"providers: {item['name']} now points to {here}, but its key was saved for "
                    f"{saved_for}; a key only goes to the address it was saved for — type the "
                    f"key for {here} (Settings → Providers)"
                )
        return lines

    def store_pending_keys(self) -> None:
        """Put the typed keys in the keychain, each bound to its provider's origin (raises
        ``SecretStoreError`` when the keychain refuses)."""
        self._store_editor()
        origins = {
            item["api_key_secret"]: _origin_or_none(str(item["base_url"]))
            for item in self._items
            if item.get("api_key_secret")
        }
        for name, key in self._pending_keys.items():
            self._secrets.set(name, key, origin=origins.get(name))


def _origin_or_none(url: str) -> str | None:
    """The origin of a URL as typed, or None while it is no http(s) URL yet."""
    origin = origin_of(url)
    return origin if origin.startswith(("http://", "https://")) and "://:" not in origin else None
