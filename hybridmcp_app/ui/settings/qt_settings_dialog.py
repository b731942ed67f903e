"""The Settings dialog: pages generated from the ``Settings`` schema, validated before saving."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.secrets import SecretStore
from hybridmcp_app.config.settings import Settings
from hybridmcp_app.core.errors import SecretStoreError, describe_validation_error
from hybridmcp_app.llm.model_hub.hub_client import ModelHubError, hub_endpoint
from hybridmcp_app.orchestration.strategies import STRATEGIES
from hybridmcp_app.ui.settings.qt_api_access import QtApiAccess
from hybridmcp_app.ui.settings.qt_providers_page import QtProvidersPage
from hybridmcp_app.ui.settings.qt_settings_form import QtSettingsForm
from hybridmcp_app.ui.settings.qt_storage_mounts_editor import QtStorageMountsEditor

# Set by the window itself, or edited in views of their own (providers: the provider editor).
HIDDEN_FIELDS = frozenset(
    {"ui.window_geometry", "ui.window_state", "ui.last_tab", "ui.first_run_completed",
     "documents.watch_folders"}  # the Library tab's watched folders panel keeps that list
)  # fmt: skip
# Fields offered as a list of (value, label): the strategies as the chat's menu names them.
CHOICES = {"llm.hybrid.default_strategy": [(s.name, s.label) for s in STRATEGIES]}
PAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("General", ("ui", "logging")),
    ("Local model", ("llm.local",)),
    ("Providers", ()),  # a page of its own: QtProvidersPage
    ("Hybrid", ("llm.hybrid",)),
    ("Local API", ("api",)),
    ("MCP servers", ("mcp",)),
    ("Storage", ("storage",)),  # the mounts: QtStorageMountsEditor, above the generated form
    ("Documents", ("documents",)),
    ("Turtle soup", ("game",)),
    ("Keychain", ("secrets",)),
)
PAGE_INDEX = {title: index for index, (title, _) in enumerate(PAGES)}
PROBE_SECRET = "hybridmcp.keychain-probe"


def _section_type(path: str) -> type[Any]:
    model: Any = Settings
    for part in path.split("."):
        model = model.model_fields[part].annotation
    return model  # type: ignore[no-any-return]


def _subtree(data: dict[str, Any], path: str) -> dict[str, Any]:
    for part in path.split("."):
        data = data[part]
    return data


def _merge(target: dict[str, Any], updates: dict[str, Any]) -> None:
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _from_providers(error: ValidationError) -> bool:
    """True when the error came from ``ProvidersConfig`` itself (the providers page)."""
    return error.title == "ProvidersConfig" or error.title == "ProviderConfig"


def _default_hub() -> str:
    """What an empty Hub address means here: HF_ENDPOINT's hub, else huggingface.co."""
    try:
        return f"(not set: {hub_endpoint(None)})"
    except ModelHubError as error:
        return f"(not set: {error})"


class QtSettingsDialog(QDialog):
    """Edits a copy of the settings; ``saved`` carries the validated new ``Settings``."""

    saved = Signal(object)

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        parent: QWidget | None = None,
        *,
        model_picker: Callable[[QLineEdit], QWidget] | None = None,
        engine_settings: Callable[[QLineEdit], QWidget] | None = None,
        providers_page: QtProvidersPage | None = None,
        run_setup: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(parent)
        self._model_picker = model_picker
        self._engine_settings = engine_settings
        self._run_setup = run_setup
        self.providers_page = providers_page
        self.setWindowTitle("Settings")
        self.resize(940, 660)  # the Local model page: its buttons and table, unclipped
        self._settings = settings
        self._secrets = secrets
        self.forms: dict[str, QtSettingsForm] = {}
        self.mounts = QtStorageMountsEditor()
        self.sections = QListWidget(self)
        self.sections.setFixedWidth(170)
        self.sections.setObjectName("settings-sections")
        self.pages = QStackedWidget(self)
        for title, paths in PAGES:
            self.sections.addItem(title)
            if title == "Providers":
                self.pages.addWidget(self._providers(providers_page))
            else:
                self.pages.addWidget(self._page(title, paths))
        self.sections.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.sections.setCurrentRow(0)

        self.errors = QLabel(self)
        self.errors.setProperty("role", "form-errors")
        self.errors.setWordWrap(True)
        self.errors.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        restore = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.setToolTip("Reset the fields of this page to their defaults (saved only on Save)")
        restore.clicked.connect(self.restore_page_defaults)

        body = QHBoxLayout()
        body.addWidget(self.sections)
        body.addWidget(self.pages, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.errors)
        layout.addWidget(buttons)
        self._load(settings.model_dump(mode="json"))

    def _page(self, title: str, paths: tuple[str, ...]) -> QWidget:
        content = QWidget()
        layout = QVBoxLayout(content)
        heading = QLabel(f"<h2>{title}</h2>", content)
        layout.addWidget(heading)
        if "secrets" in paths:
            layout.addWidget(self._keychain_status(content))
        if "ui" in paths and self._run_setup is not None:
            self.setup_button = QPushButton("Run the first-run setup again…", content)
            self.setup_button.setToolTip(
                "Local model, provider, folders to index and MCP servers, step by step "
                "(closes this dialog without saving it)"
            )
            self.setup_button.clicked.connect(self._open_setup)
            layout.addWidget(self.setup_button, 0, Qt.AlignmentFlag.AlignLeft)
        if "api" in paths:
            self.api_access = QtApiAccess(self._secrets, self._settings.api.port, content)
            layout.addWidget(self.api_access)
        if "storage" in paths:
            layout.addWidget(self.mounts, 1)
        for path in paths:
            form = QtSettingsForm(
                _section_type(path), path=path, hidden=HIDDEN_FIELDS, choices=CHOICES
            )
            self.forms[path] = form
            path_editor = form.editors.get(f"{path}.model_path")
            if self._model_picker is not None and path_editor is not None:
                assert isinstance(path_editor.widget, QLineEdit)
                self.model_picker = self._model_picker(path_editor.widget)
                if (load := getattr(self.model_picker, "load_requested", None)) is not None:
                    load.connect(self.save)  # "Use this model" in Get models: save and load
                if (hub := form.editors.get(f"{path}.hub_endpoint")) is not None:
                    setattr(self.model_picker, "hub_address", hub.get)  # noqa: B010  # as typed
                    if isinstance(hub.widget, QLineEdit):  # empty: show the hub that is used
                        hub.widget.setPlaceholderText(_default_hub())
                layout.addWidget(self.model_picker)
            layout.addWidget(form)
            if self._engine_settings is not None and path_editor is not None:
                assert isinstance(path_editor.widget, QLineEdit)
                self.engine_settings = self._engine_settings(path_editor.widget)
                layout.addWidget(self.engine_settings)
        if "storage" not in paths:  # the mounts table takes the room instead
            layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        return scroll

    def _open_setup(self) -> None:
        self.reject()
        if self._run_setup is not None:
            self._run_setup()

    def _providers(self, page: QtProvidersPage | None) -> QWidget:
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(QLabel("<h2>Providers</h2>", content))
        if page is None:
            layout.addWidget(QLabel("Providers are edited in the running app.", content))
        else:
            layout.addWidget(page, 1)
        return content

    def _keychain_status(self, parent: QWidget) -> QWidget:
        box = QWidget(parent)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        status = self._secrets.status
        text = (
            f"API keys are stored in the system keychain (<b>{status.backend_name}</b>)."
            if status.available
            else f"<b>No system keychain.</b> {status.help_text}"
        )
        label = QLabel(text, box)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.keychain_result = QLabel(box)
        self.keychain_result.setWordWrap(True)
        test = QPushButton("Test keychain", box)
        test.setToolTip("Store, read back and delete a throw-away secret")
        test.clicked.connect(self.test_keychain)
        row = QHBoxLayout()
        row.addWidget(test)
        row.addWidget(self.keychain_result, 1)
        layout.addLayout(row)
        return box

    def test_keychain(self) -> None:
        try:
            self._secrets.set(PROBE_SECRET, "probe-value")
            ok = self._secrets.get(PROBE_SECRET)
            self._secrets.delete(PROBE_SECRET)
        except SecretStoreError as error:
            self.keychain_result.setText(f"Failed: {error}")
            return
        worked = ok is not None and ok.get_secret_value() == "probe-value"
        self.keychain_result.setText("Works." if worked else "Failed: the value did not come back.")

    def _load(self, data: dict[str, Any]) -> None:
        for path, form in self.forms.items():
            form.load(_subtree(data, path))
        self.mounts.load(data["storage"]["mounts"])

    def restore_page_defaults(self) -> None:
        defaults = Settings.model_validate({}).model_dump(mode="json")
        for path in PAGES[self.pages.currentIndex()][1]:
            self.forms[path].load(_subtree(defaults, path))
            if path == "storage":
                self.mounts.load(defaults["storage"]["mounts"])

    def collect(self) -> dict[str, Any]:
        data = copy.deepcopy(self._settings.model_dump(mode="json"))
        for path, form in self.forms.items():
            _merge(_subtree(data, path), form.values())
        data["storage"]["mounts"] = self.mounts.value()
        if self.providers_page is not None:
            data["providers"] = self.providers_page.value().model_dump(mode="json")
        return data

    def save(self) -> None:
        for form in self.forms.values():
            for path in form.editors:
                form.mark_invalid(path, False)
        self.mounts.clear_marks()
        if problems := self.mounts.problems():
            for row, _, _ in problems:
                self.mounts.mark_invalid(row)
            self._show_lines(
                [f"storage.mounts.{row}.{field}: {text}" for row, field, text in problems]
            )
            self.sections.setCurrentRow(PAGE_INDEX["Storage"])
            return
        try:
            settings = Settings.model_validate(self.collect())
        except ValidationError as error:
            self._show_errors(error, prefix="providers" if _from_providers(error) else "")
            return
        page = self.providers_page
        if page is not None and (retype := page.keys_to_type_again()):
            self._show_lines(retype)
            self.sections.setCurrentRow(PAGE_INDEX["Providers"])
            return
        if not (
            (page is None or self._stored(page.store_pending_keys, "API key"))
            and self._stored(self._store_credentials, "credential")
        ):
            return
        self.errors.hide()
        self.saved.emit(settings)
        self.accept()

    def _store_credentials(self) -> None:
        for name, value in self.mounts.pending_secrets().items():
            self._secrets.set(name, value)

    def _stored(self, store: Callable[[], None], what: str) -> bool:
        """Put typed secrets in the keychain; False (and why, shown) when it refuses."""
        try:
            store()
        except SecretStoreError as error:
            self.errors.setText(f"Not saved — the {what} could not be stored: {error}")
            self.errors.show()
            return False
        return True

    def _show_lines(self, lines: list[str]) -> None:
        self.errors.setText("Not saved — please fix:\n" + "\n".join(f"• {line}" for line in lines))
        self.errors.show()

    def _show_errors(self, error: ValidationError, prefix: str = "") -> None:
        self._show_lines(
            [f"{prefix}.{line}" if prefix else line for line in describe_validation_error(error)]
        )
        first_page: int | None = None
        for item in error.errors():
            location = ".".join(str(part) for part in (prefix, *item["loc"]) if part != "")
            if location.startswith("providers"):
                first_page = PAGE_INDEX["Providers"] if first_page is None else first_page
            if location.startswith("storage.mounts."):  # storage.mounts.N[.field]: row N
                self.mounts.mark_invalid(int(location.split(".")[2]))
            for index, (_, paths) in enumerate(PAGES):
                for path in paths:
                    form = self.forms[path]
                    # An error on a field marks it; one on a section (e.g. http mode without URL)
                    # marks nothing but still opens the page.
                    if location == path or location.startswith(path + "."):
                        form.mark_invalid(location, True)
                        first_page = index if first_page is None else min(first_page, index)
        if first_page is not None:
            self.sections.setCurrentRow(first_page)
