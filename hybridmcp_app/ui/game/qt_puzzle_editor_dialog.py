"""Write a turtle-soup puzzle of your own (or import a JSON file of them) and play it.

The dialog only gathers the fields; ``play`` (validate, keep, start a game) and
``import_file`` run in the background, and what they refuse is shown in the dialog, which stays
open with everything typed so far.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hybridmcp_app.core.background_tasks import BackgroundTasks
from hybridmcp_app.core.errors import HybridMCPError
from hybridmcp_app.ui.widgets.qt_form_parts import error_label

log = logging.getLogger("hybridmcp.ui.game")
DIFFICULTIES = (("easy", "Easy"), ("medium", "Medium"), ("hard", "Hard"))
REQUIRED = {
    "surface": "the surface is what the player is told.",
    "bottom": "the bottom is what really happened, shown when the game ends.",
}


def lines_of(edit: QPlainTextEdit) -> list[str]:
    return [line.strip() for line in edit.toPlainText().splitlines() if line.strip()]


def text_box(parent: QWidget, placeholder: str, tooltip: str, height: int) -> QPlainTextEdit:
    box = QPlainTextEdit(parent)
    box.setPlaceholderText(placeholder)
    box.setToolTip(tooltip)
    box.setTabChangesFocus(True)
    box.setMinimumHeight(height)
    return box


class QtPuzzleEditorDialog(QDialog):
    """Title, difficulty, surface, bottom, key facts and hints (one per line); Play or Import."""

    def __init__(
        self,
        tasks: BackgroundTasks,
        play: Callable[[dict[str, Any]], Awaitable[object]],
        import_file: Callable[[Path], Awaitable[object]],
        difficulty: str = "medium",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("My puzzle")
        self.resize(600, 620)
        self._tasks, self._play, self._import_file = tasks, play, import_file
        self.task: asyncio.Task[None] | None = None

        self.title = QLineEdit(self)
        self.title.setPlaceholderText("Optional: taken from the surface when empty")
        self.title.setToolTip("A short name for the puzzle")
        self.difficulty = QComboBox(self)
        for name, label in DIFFICULTIES:
            self.difficulty.addItem(label, name)
        self.difficulty.setCurrentIndex(max(0, self.difficulty.findData(difficulty)))
        self.difficulty.setToolTip("Sets the question budget: easy 30, medium 25, hard 20")
        self.surface = text_box(self, "What the player is told: the strange situation.",
                                "The surface (required): what the player reads", 90)  # fmt: skip
        self.bottom = text_box(self, "What really happened: the hidden story.",
                               "The bottom (required): the truth the player must uncover; "
                               "shown only when the game ends", 90)  # fmt: skip
        self.key_facts = text_box(self, "One per line, up to 6: the facts a player must find.",
                                  "Key facts, one per line: the progress bar counts the ones "
                                  "uncovered", 70)  # fmt: skip
        self.hints = text_box(self, "One per line, up to 6.",
                              "Hints, one per line, shown one at a time (each costs points)",
                              60)  # fmt: skip
        self.errors = error_label(self)
        self.buttons = QDialogButtonBox(self)
        self.import_button = QPushButton("Import JSON…", self)
        self.import_button.setToolTip("Add every puzzle of a JSON file (one puzzle or a list) "
                                      "to your puzzles, and play the first")  # fmt: skip
        self.buttons.addButton(self.import_button, QDialogButtonBox.ButtonRole.ResetRole)
        self.play_button = self.buttons.addButton("Play", QDialogButtonBox.ButtonRole.AcceptRole)
        self.play_button.setToolTip("Keep the puzzle with your puzzles and start a game with it")
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setToolTip("Close without saving")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.import_button.clicked.connect(self._browse)

        form = QFormLayout()
        form.addRow("Title:", self.title)
        form.addRow("Difficulty:", self.difficulty)
        form.addRow("Surface:", self.surface)
        form.addRow("Bottom:", self.bottom)
        form.addRow("Key facts:", self.key_facts)
        form.addRow("Hints:", self.hints)
        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        layout.addWidget(self.errors)
        layout.addWidget(self.buttons)
        self._fields: dict[str, QWidget] = {
            "title": self.title, "surface": self.surface, "bottom": self.bottom,
            "key_facts": self.key_facts, "hints": self.hints,
        }  # fmt: skip

    def data(self) -> dict[str, Any]:
        """The puzzle as the bank takes it (empty fields left out)."""
        return {
            "title": self.title.text().strip() or None,
            "difficulty": self.difficulty.currentData(),
            "surface": self.surface.toPlainText().strip() or None,
            "bottom": self.bottom.toPlainText().strip() or None,
            "key_facts": lines_of(self.key_facts),
            "hints": lines_of(self.hints),
        }

    def accept(self) -> None:
        """Play: the puzzle is checked and kept in the background; the dialog closes if it
        was taken, or says what is wrong."""
        data = self.data()
        missing = [name for name in ("surface", "bottom") if not data[name]]
        if missing:
            self._show_error(f"Write the {' and the '.join(missing)}: "
                             + " ".join(REQUIRED[name] for name in missing))  # fmt: skip
        elif self.task is None or self.task.done():
            self.task = self._tasks.spawn(self._submit(self._play(data)), name="my-puzzle")

    def import_path(self, path: Path) -> asyncio.Task[None]:
        self.task = self._tasks.spawn(self._submit(self._import_file(path)), name="import-puzzles")
        return self.task

    def _browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Import puzzles", str(Path.home()),
                                              "JSON (*.json);;All files (*)")  # fmt: skip
        if name:
            self.import_path(Path(name))

    async def _submit(self, action: Awaitable[object]) -> None:
        self._set_busy(True)
        try:
            await action
        except HybridMCPError as error:
            if shiboken6.isValid(self):
                self._show_error(str(error))
            return
        except Exception as error:  # a bug, not the player's input: say so, keep the dialog
            log.exception("the puzzle could not be saved")
            if shiboken6.isValid(self):
                self._show_error(f"Something went wrong: {error}")
            return
        finally:
            if shiboken6.isValid(self):
                self._set_busy(False)
        if shiboken6.isValid(self):
            super().accept()

    def _show_error(self, message: str) -> None:
        self.errors.setText(message)
        for key, widget in self._fields.items():
            widget.setProperty("invalid", key in message)
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def _set_busy(self, busy: bool) -> None:
        for button in (self.play_button, self.import_button):
            button.setEnabled(not busy)
