"""Help → Keyboard shortcuts: a table built from the window's own actions and the tabs' own
shortcuts (each described by its ``whatsThis``), so it never drifts."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

NATIVE = QKeySequence.SequenceFormat.NativeText
EVERYWHERE = "Everywhere"


def shortcut_rows(where: str, shortcuts: Iterable[QShortcut]) -> list[tuple[str, str, str]]:
    """(where, what, keys) for the described shortcuts; one row per description, its keys
    joined (Ctrl+Return, Ctrl+Enter)."""
    keys: dict[str, list[str]] = {}
    for shortcut in shortcuts:
        what = shortcut.whatsThis()
        if what and not shortcut.key().isEmpty():
            keys.setdefault(what, []).append(shortcut.key().toString(NATIVE))
    return [(where, what, ", ".join(dict.fromkeys(sequences))) for what, sequences in keys.items()]


class QtShortcutsDialog(QDialog):
    """Lists every action that has a shortcut, then the shortcuts of each tab."""

    def __init__(
        self,
        actions: Iterable[QAction],
        parent: QWidget | None = None,
        tab_shortcuts: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(620, 520)
        rows = [
            (
                EVERYWHERE,
                action.text().replace("&", "").rstrip("…"),
                action.shortcut().toString(NATIVE),
            )
            for action in actions
            if not action.shortcut().isEmpty()
        ]
        rows += list(tab_shortcuts)
        self.table = QTableWidget(len(rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Where", "Action", "Shortcut"])
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, cells in enumerate(rows):
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
