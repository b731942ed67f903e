"""Settings → Storage: the storage server's mounts as a table (name, URL, options, credentials).

Options and credentials are edited as ``key=value; key=value`` text. Credential values typed in
"Store credential…" stay in memory until the dialog stores them in the keychain on Save; the
settings only ever hold the *names* of those keychain secrets.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.config.storage_settings import OPTION_KEY_PATTERN, OptionValue
from hybridmcp_app.core.llm_configs import SECRET_NAME_PATTERN
from hybridmcp_app.ui.widgets.qt_form_parts import error_label, save_cancel

NAME, URL, OPTIONS, CREDENTIALS = range(4)
HEADERS = ("Name", "URL", "Options", "Credentials")
COLUMN_TIPS = (
    "Used in paths as name:folder/file, e.g. files:reports/q1.csv.\n"
    "Letters, digits, _ and - (e.g. files, aws, azure).",
    "Where the files are:\n"
    "file:///home/me/files · memory://scratch · s3://bucket/prefix\n"
    "az://container/prefix · gs://bucket/prefix",
    "fsspec options that are not secret, as key=value; key=value.\n"
    'Numbers and true/false become numbers and booleans (quote to keep text: "9000").\n'
    "S3-compatible server (MinIO…): endpoint_url=http://127.0.0.1:9000\n"
    "Azure: account_name=myaccount   ·   GCS: project=my-project",
    "option=keychain-secret-name; … — the value lives in the keychain under that name\n"
    "(use Store credential… to put it there; settings keep only the name).\n"
    "S3: key=minio-key; secret=minio-secret\n"
    "Azure: connection_string=azure-conn   ·   GCS: token=gcs-token",
)
EXPLANATION = (
    "Each mount names a place the storage server may read and write; paths are written "
    "<b>name:folder/file</b> (e.g. <i>files:reports/q1.csv</i>). Credentials live in the "
    "system keychain: settings keep only their names. With no mounts the server serves the "
    "folder it is started in."
)
EMPTY_TEXT = (
    "No mounts: the storage server serves the folder it is started in.\n"
    "Press Add to name a folder or a bucket (S3, Azure, GCS)."
)
# Credentials each filesystem usually needs, offered in "Store credential…".
CREDENTIAL_OPTIONS = {
    "s3": ("key", "secret", "token"),
    "s3a": ("key", "secret", "token"),
    "az": ("connection_string", "account_key", "sas_token", "client_secret"),
    "abfs": ("connection_string", "account_key", "sas_token", "client_secret"),
    "abfss": ("connection_string", "account_key", "sas_token", "client_secret"),
    "gs": ("token",),
    "gcs": ("token",),
}
INVALID_BRUSH = QBrush(QColor(196, 43, 28, 70))  # readable on the light and the dark palette


class MountTextError(ValueError):
    """A ``key=value; …`` cell that cannot be read; the message names the bad part."""


def _typed(text: str) -> OptionValue:
    """JSON numbers and booleans become those types; a JSON string is unquoted; else text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) and math.isfinite(value):
        return value
    return text


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    text = str(value)
    # Text that would read back as another type (or has a separator in it) is quoted.
    plain = _typed(text) == text and ";" not in text and text == text.strip()
    return text if plain else json.dumps(text)


def parse_pairs(text: str, *, typed: bool) -> dict[str, Any]:
    """``a=1; b=x`` → ``{"a": 1, "b": "x"}`` (values as text unless ``typed``)."""
    result: dict[str, Any] = {}
    parts = [part.strip() for part in re.split(r";(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", text)]
    for number, part in enumerate(filter(None, parts), start=1):
        key, equals, value = part.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not key:  # the text itself is left out: it may be a pasted secret
            raise MountTextError(f"part {number} is not option=value")
        if key in result:
            raise MountTextError(f"{key} is given twice")
        result[key] = _typed(value) if typed else value
    return result


def format_pairs(values: dict[str, Any], *, typed: bool) -> str:
    """The inverse of ``parse_pairs``: ``{"a": 1}`` → ``a=1``."""
    return "; ".join(f"{key}={_shown(value) if typed else value}" for key, value in values.items())


def _explain(item: QTableWidgetItem) -> None:
    """A cell's tooltip: its whole text (it may be cut off) above what the column means."""
    tip = COLUMN_TIPS[item.column()]
    item.setToolTip(f"{item.text()}\n\n{tip}" if item.text().strip() else tip)


class _MountsTable(QTableWidget):
    """A table whose Delete key (when no cell is being edited) asks to remove the row."""

    delete_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        deleting = event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        if deleting and self.state() != QAbstractItemView.State.EditingState:
            self.delete_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class QtCredentialDialog(QDialog):
    """Option name, keychain secret name and value (hidden) for one mount's credential."""

    def __init__(self, mount: str, url: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Store a credential for {mount or 'this mount'}")
        self._mount = mount
        self.option = QComboBox(self)
        self.option.setEditable(True)
        self.option.addItems(list(CREDENTIAL_OPTIONS.get(urlsplit(url).scheme.lower(), ())))
        self.option.setToolTip("The fsspec option that receives the value, e.g. secret")
        self.secret = QLineEdit(self)
        self.secret.setToolTip("The keychain entry that holds the value, e.g. aws-secret")
        self.value = QLineEdit(self)
        self.value.setEchoMode(QLineEdit.EchoMode.Password)
        self.value.setPlaceholderText("kept in the keychain, never shown again")
        self._named_by_hand = False
        self.secret.textEdited.connect(self._name_typed)
        self.option.currentTextChanged.connect(self._suggest_name)
        self._suggest_name(self.option.currentText())
        self.errors = error_label(self)
        form = QFormLayout()
        form.addRow("Option:", self.option)
        form.addRow("Keychain name:", self.secret)
        form.addRow("Value:", self.value)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors)
        layout.addWidget(save_cancel(self))

    def _name_typed(self, _text: str) -> None:
        self._named_by_hand = True

    def _suggest_name(self, option: str) -> None:
        if not self._named_by_hand:
            self.secret.setText(f"{self._mount}-{option.strip()}" if option.strip() else "")

    def accept(self) -> None:
        option, secret = self.option.currentText().strip(), self.secret.text().strip()
        if not re.fullmatch(OPTION_KEY_PATTERN, option):
            self.errors.setText("The option is an fsspec option name: letters, digits and _.")
        elif not re.fullmatch(SECRET_NAME_PATTERN, secret):
            self.errors.setText("The keychain name may use letters, digits, '.', '_' and '-'.")
        elif not self.value.text():
            self.errors.setText("The value is empty.")
        else:
            super().accept()


class QtStorageMountsEditor(QWidget):
    """Edits ``StorageSettings.mounts`` as rows; credential values wait in memory until Save."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pending: dict[str, str] = {}
        explanation = QLabel(EXPLANATION, self)
        explanation.setWordWrap(True)
        self.table = _MountsTable(0, len(HEADERS), self)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)  # long options wrap at "; " instead of being cut
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.verticalHeader().hide()
        self.table.setMinimumHeight(150)
        for column, (title, tip) in enumerate(zip(HEADERS, COLUMN_TIPS, strict=True)):
            header = QTableWidgetItem(title)
            header.setToolTip(tip)
            self.table.setHorizontalHeaderItem(column, header)
        heading = self.table.horizontalHeader()
        heading.setSectionResizeMode(NAME, QHeaderView.ResizeMode.ResizeToContents)
        heading.setSectionResizeMode(URL, QHeaderView.ResizeMode.Interactive)
        heading.setSectionResizeMode(OPTIONS, QHeaderView.ResizeMode.Stretch)
        heading.setSectionResizeMode(CREDENTIALS, QHeaderView.ResizeMode.Stretch)
        heading.setMinimumSectionSize(64)
        heading.sectionResized.connect(self._fit_rows)  # wrapped cells need taller rows
        self.table.setColumnWidth(URL, 170)
        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setProperty("role", "empty-body")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        self.stack.setMinimumHeight(150)

        self.add_button = QPushButton("Add", self)
        self.add_button.setToolTip("A new mount of your home folder; edit its cells to change it")
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setToolTip("Remove the selected mount (Delete)")
        self.credential_button = QPushButton("Store credential…", self)
        self.credential_button.setToolTip(
            "Put a credential (key, secret, connection string…) of the selected mount in the "
            "keychain on Save; the mount keeps only its name"
        )
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.credential_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(explanation)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)

        self.add_button.clicked.connect(self.add_mount)
        self.remove_button.clicked.connect(self.remove_selected)
        self.credential_button.clicked.connect(self.store_credential)
        self.table.delete_pressed.connect(self.remove_selected)
        self.table.itemSelectionChanged.connect(self._refresh)
        self.table.itemChanged.connect(self._edited)
        self._refresh()

    # ------------------------------------------------------------------ rows
    def load(self, mounts: list[dict[str, Any]]) -> None:
        """Show ``mounts`` (``StorageSettings.mounts`` dumped as JSON); forgets pending values."""
        self._pending.clear()
        self.table.setRowCount(0)
        for mount in mounts:
            self._append(
                str(mount.get("name", "")),
                str(mount.get("url", "")),
                format_pairs(dict(mount.get("options") or {}), typed=True),
                format_pairs(dict(mount.get("credentials") or {}), typed=False),
            )
        self._refresh()

    def _append(self, *cells: str) -> int:
        row = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(row)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            self.table.setItem(row, column, item)
            _explain(item)
        self.table.blockSignals(False)
        self.table.resizeRowToContents(row)
        return row

    def _text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""

    def _set_text(self, row: int, column: int, text: str) -> None:
        item = self.table.item(row, column)
        if item is not None:
            item.setText(text)

    def names(self) -> list[str]:
        return [self._text(row, NAME) for row in range(self.table.rowCount())]

    def add_mount(self) -> None:
        """A new row: a unique name (files, files2…) for the home folder."""
        taken, name, suffix = set(self.names()), "files", 2
        while name in taken:
            name, suffix = f"files{suffix}", suffix + 1
        row = self._append(name, Path.home().as_uri(), "", "")
        self._refresh()
        self.table.selectRow(row)
        self.table.setFocus()

    def remove_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        self.table.removeRow(row)
        if self.table.rowCount():
            self.table.selectRow(min(row, self.table.rowCount() - 1))
        self._refresh()

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _refresh(self) -> None:
        has_rows = self.table.rowCount() > 0
        self.stack.setCurrentWidget(self.table if has_rows else self.empty)
        selected = self.selected_row() is not None
        self.remove_button.setEnabled(selected)
        self.credential_button.setEnabled(selected)

    def _fit_rows(self, *_: int) -> None:
        self.table.resizeRowsToContents()

    def _edited(self, item: QTableWidgetItem) -> None:
        self.table.blockSignals(True)
        _explain(item)
        self.table.blockSignals(False)
        self.mark_invalid(item.row(), False)
        self.table.resizeRowToContents(item.row())

    # ------------------------------------------------------------------ credentials
    def store_credential(self) -> QtCredentialDialog | None:
        """Ask for a credential of the selected mount (window-modal; returns the dialog)."""
        row = self.selected_row()
        if row is None:
            return None
        dialog = QtCredentialDialog(self._text(row, NAME), self._text(row, URL), self)

        def given() -> None:
            option, secret = dialog.option.currentText().strip(), dialog.secret.text().strip()
            self.add_credential(row, option, secret, dialog.value.text())

        dialog.accepted.connect(given)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def add_credential(self, row: int, option: str, secret: str, value: str) -> None:
        """Map ``option`` to keychain entry ``secret`` on ``row``; keep ``value`` until Save."""
        self._pending[secret] = value
        try:
            credentials = parse_pairs(self._text(row, CREDENTIALS), typed=False)
        except MountTextError:
            credentials = {}
        credentials[option] = secret
        self._set_text(row, CREDENTIALS, format_pairs(credentials, typed=False))
        try:  # the same option typed as plain text would now be set twice: drop it
            options = parse_pairs(self._text(row, OPTIONS), typed=True)
        except MountTextError:
            return
        if options.pop(option, None) is not None:
            self._set_text(row, OPTIONS, format_pairs(options, typed=True))

    def pending_secrets(self) -> dict[str, str]:
        """Values typed in Store credential… that a mount still names: secret name → value."""
        named = {
            secret
            for row in range(self.table.rowCount())
            for secret in self._pairs(row, CREDENTIALS).values()
        }
        return {name: value for name, value in self._pending.items() if name in named}

    # ------------------------------------------------------------------ result
    def _pairs(self, row: int, column: int) -> dict[str, Any]:
        try:
            return parse_pairs(self._text(row, column), typed=column == OPTIONS)
        except MountTextError:
            return {}

    def value(self) -> list[dict[str, Any]]:
        """The rows as dicts for ``StorageMountSettings`` (cells that cannot be read: empty)."""
        return [
            {
                "name": self._text(row, NAME),
                "url": self._text(row, URL),
                "options": self._pairs(row, OPTIONS),
                "credentials": self._pairs(row, CREDENTIALS),
            }
            for row in range(self.table.rowCount())
        ]

    def problems(self) -> list[tuple[int, str, str]]:
        """What ``value`` cannot express: ``(row, field, message)`` for unreadable cells and
        repeated names (the settings model checks everything else)."""
        found: list[tuple[int, str, str]] = []
        seen: set[str] = set()
        for row in range(self.table.rowCount()):
            name = self._text(row, NAME)
            if name in seen:
                found.append((row, "name", f"another mount is already named {name!r}"))
            seen.add(name)
            for column, field in ((OPTIONS, "options"), (CREDENTIALS, "credentials")):
                try:
                    parse_pairs(self._text(row, column), typed=False)
                except MountTextError as error:
                    found.append((row, field, str(error)))
        return found

    def mark_invalid(self, row: int, invalid: bool = True) -> None:
        """Tint ``row`` as wrong (or clear it); editing the row clears the tint."""
        self.table.blockSignals(True)
        for column in range(self.table.columnCount()):
            item = self.table.item(row, column)
            if item is not None:
                item.setBackground(INVALID_BRUSH if invalid else QBrush())
                item.setData(Qt.ItemDataRole.UserRole, invalid)
        self.table.blockSignals(False)
        if invalid and (first := self.table.item(row, NAME)) is not None:
            self.table.scrollToItem(first)

    def clear_marks(self) -> None:
        for row in range(self.table.rowCount()):
            self.mark_invalid(row, False)

    def invalid_rows(self) -> list[int]:
        return [
            row
            for row in range(self.table.rowCount())
            if (item := self.table.item(row, NAME)) is not None
            and item.data(Qt.ItemDataRole.UserRole) is True
        ]
