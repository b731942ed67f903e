"""What an MCP server asks the user (``ElicitationService``): a form built from the requested
schema, or a page to visit (URL mode, whose browser opens only after Accept).

Window-modal but not blocking: ``QtElicitationAsker`` opens the dialog and awaits its answer.
Accept checks the answer against the schema and shows what is wrong under each field, keeping
the dialog open; Decline says no; Cancel (also Esc, or closing the window) dismisses.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.services.elicitation import Action, FormAnswer, UrlRequest
from hybridmcp_app.services.elicitation_form import ElicitForm, FormField
from hybridmcp_app.ui.qt_dialog_wait import dialog_closed

INT_LIMIT = 2**31 - 1
FORMAT_HINTS = {"email": "name@example.com", "uri": "https://…", "date": "YYYY-MM-DD",
                "date-time": "YYYY-MM-DDThh:mm:ssZ"}  # fmt: skip


def _field_widget(field: FormField, parent: QWidget) -> QWidget:
    """The widget for one field, showing its default."""
    default = field.default
    if field.kind == "boolean":
        box = QCheckBox(field.title, parent)
        box.setChecked(bool(default))
        return box
    if field.kind == "choice":
        combo = QComboBox(parent)
        if not field.required and default is None:
            combo.addItem("", None)
        for choice in field.choices:
            combo.addItem(choice.title, choice.value)
        if default is not None:
            combo.setCurrentIndex(combo.findData(default))
        return combo
    if field.kind == "choices":
        options = QListWidget(parent)
        chosen = set(default) if isinstance(default, tuple) else set()
        for choice in field.choices:
            item = QListWidgetItem(choice.title, options)
            item.setData(Qt.ItemDataRole.UserRole, choice.value)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = choice.value in chosen
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        options.setMaximumHeight(22 * min(len(field.choices), 6) + 8)
        return options
    number = default if isinstance(default, int | float) else None
    if field.kind in ("integer", "number") and (field.required or number is not None):
        spin: QSpinBox | QDoubleSpinBox = (
            QSpinBox(parent) if field.kind == "integer" else QDoubleSpinBox(parent)
        )
        low = field.minimum if field.minimum is not None else -INT_LIMIT
        high = field.maximum if field.maximum is not None else INT_LIMIT
        if isinstance(spin, QSpinBox):
            spin.setRange(int(low), int(high))
            spin.setValue(int(number if number is not None else max(low, min(0, high))))
        else:
            spin.setDecimals(6)
            spin.setRange(float(low), float(high))
            spin.setValue(float(number if number is not None else max(low, min(0.0, high))))
        return spin
    edit = QLineEdit(parent)  # strings, and numbers the user may leave out
    if default is not None:
        edit.setText(str(default))
    edit.setPlaceholderText(FORMAT_HINTS.get(field.format or "", ""))
    return edit


def _field_value(field: FormField, widget: QWidget) -> Any:
    """What the user entered (None: left out)."""
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QComboBox):
        return widget.currentData()
    if isinstance(widget, QListWidget):
        items = [widget.item(row) for row in range(widget.count())]
        return [
            item.data(Qt.ItemDataRole.UserRole)
            for item in items
            if item.checkState() == Qt.CheckState.Checked
        ]
    if isinstance(widget, QSpinBox | QDoubleSpinBox):
        return widget.value()
    text = widget.text().strip() if isinstance(widget, QLineEdit) else ""
    if not text:
        return None
    if field.kind in ("integer", "number"):
        try:
            return int(text) if field.kind == "integer" else float(text)
        except ValueError:
            return text  # the check says it is not a number
    return text


def _answer_buttons(decline: QPushButton, cancel: QPushButton, accept: QPushButton) -> QHBoxLayout:
    """Decline on the left, away from Cancel and Accept on the right."""
    buttons = QHBoxLayout()
    buttons.addWidget(decline)
    buttons.addStretch(1)
    buttons.addWidget(cancel)
    buttons.addWidget(accept)
    return buttons


class QtElicitationDialog(QDialog):
    """A server's form: the server's name and message, one row per field, Accept / Decline /
    Cancel."""

    def __init__(self, form: ElicitForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = form
        self.action: Action = "cancel"
        self.content: dict[str, Any] | None = None
        self.setWindowTitle(f"{form.server} asks")
        self.setMinimumWidth(460)
        heading = QLabel(
            f"The MCP server <b>{html.escape(form.server)}</b> asks:<br>"
            f"{html.escape(form.message)}",
            self,
        )
        heading.setWordWrap(True)
        heading.setTextFormat(Qt.TextFormat.RichText)
        rows = QFormLayout()
        self.widgets: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        for field in form.fields:
            widget = _field_widget(field, self)
            widget.setToolTip(field.description)
            error = QLabel("", self)
            error.setProperty("role", "error")
            error.setStyleSheet("color: palette(link-visited);")
            error.hide()
            cell = QVBoxLayout()
            cell.addWidget(widget)
            cell.addWidget(error)
            label = (
                "" if field.kind == "boolean" else field.title + (" *" if field.required else "")
            )
            rows.addRow(label, cell)
            self.widgets[field.name] = widget
            self.errors[field.name] = error
        self.accept_button = QPushButton("Accept", self)
        self.accept_button.setDefault(True)
        self.decline_button = QPushButton("Decline", self)
        self.cancel_button = QPushButton("Cancel", self)
        buttons = _answer_buttons(self.decline_button, self.cancel_button, self.accept_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(rows)
        layout.addLayout(buttons)
        self.accept_button.clicked.connect(self._try_accept)
        self.decline_button.clicked.connect(self._decline)
        self.cancel_button.clicked.connect(self.reject)  # as Esc: action stays "cancel"

    def answer(self) -> dict[str, Any]:
        """The fields as filled in (left-out ones omitted)."""
        values = {
            field.name: _field_value(field, self.widgets[field.name]) for field in self.form.fields
        }
        return {name: value for name, value in values.items() if value is not None}

    def _try_accept(self) -> None:
        content = self.answer()
        problems = self.form.errors(content)
        for name, label in self.errors.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)
        if problems:
            return
        self.action, self.content = "accept", content
        self.accept()

    def _decline(self) -> None:
        self.action = "decline"
        self.reject()


class QtUrlElicitationDialog(QDialog):
    """A server asks the user to visit a page: its domain shown large, the full URL below."""

    def __init__(self, request: UrlRequest, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.action: Action = "cancel"
        self.setWindowTitle(f"{request.server} asks you to open a page")
        self.setMinimumWidth(460)
        text = QLabel(
            f"The MCP server <b>{html.escape(request.server)}</b> asks you to open a page on<br>"
            f"<big><b>{html.escape(request.domain)}</b></big><br>{html.escape(request.message)}"
            f"<br><small>{html.escape(request.url)}</small>",
            self,
        )
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        self.accept_button = QPushButton("Open in browser", self)
        self.decline_button = QPushButton("Decline", self)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setDefault(True)
        buttons = _answer_buttons(self.decline_button, self.cancel_button, self.accept_button)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)
        self.accept_button.clicked.connect(lambda: self._choose("accept"))
        self.decline_button.clicked.connect(lambda: self._choose("decline"))
        self.cancel_button.clicked.connect(self.reject)

    def _choose(self, action: Action) -> None:
        self.action = action
        self.accept() if action == "accept" else self.reject()


def open_in_browser(url: str) -> None:
    QDesktopServices.openUrl(QUrl(url))


class QtElicitationAsker:
    """The window's ``ElicitationAsker``: the dialogs above, over ``parent``."""

    def __init__(
        self, parent: QWidget | None, open_url: Callable[[str], None] = open_in_browser
    ) -> None:
        self._parent = parent
        self._open_url = open_url
        self.dialog: QDialog | None = None  # the one open now (tests drive it)

    async def ask_form(self, form: ElicitForm) -> FormAnswer:
        dialog = self.dialog = QtElicitationDialog(form, self._parent)
        try:
            await dialog_closed(dialog)
        finally:
            self.dialog = None
        return FormAnswer(action=dialog.action, content=dialog.content)

    async def ask_url(self, request: UrlRequest) -> Action:
        dialog = self.dialog = QtUrlElicitationDialog(request, self._parent)
        try:
            await dialog_closed(dialog)
        finally:
            self.dialog = None
        if dialog.action == "accept":
            self._open_url(request.url)
        return dialog.action
