"""The Library tab's drop zone: drop files and folders (anywhere on the tab), or choose them
with Add files… / Add folder…. It only says which paths; the view indexes them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

STYLE = """
QFrame[role="drop-zone"] { border: 2px dashed palette(mid); border-radius: 8px; }
QFrame[role="drop-zone"][hover="true"] { border-color: palette(highlight); }
"""
HINT = "Drop files or folders here to index them on this machine"


def local_paths(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class QtLibraryDropZone(QFrame):
    """``paths_chosen`` carries what was dropped or picked. The view forwards its own drag
    events here (``drag_entered``, ``drag_left``, ``dropped``), so the whole tab is a target."""

    paths_chosen = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "drop-zone")
        self.setStyleSheet(STYLE)
        self.label = QLabel(HINT, self)
        self.label.setWordWrap(True)
        self.add_files_button = QPushButton("Add files…", self)
        self.add_folder_button = QPushButton("Add folder…", self)
        self.add_files_button.setToolTip(
            "Index documents (PDF, EPUB, DOCX, HTML, Markdown, text, code…)"
        )
        self.add_folder_button.setToolTip("Index every document in a folder, honouring .gitignore")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 10, 10)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.add_files_button)
        layout.addWidget(self.add_folder_button)
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button.clicked.connect(self.choose_folder)

    def set_usable(self, usable: bool) -> None:
        self.add_files_button.setEnabled(usable)
        self.add_folder_button.setEnabled(usable)
        self.label.setText(HINT if usable else "The library is unavailable: nothing can be added.")

    def choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, "Add files to the library", str(Path.home()))
        if names:
            self.paths_chosen.emit([Path(name) for name in names])

    def choose_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(
            self, "Add a folder to the library", str(Path.home())
        )
        if name:
            self.paths_chosen.emit([Path(name)])

    def drag_entered(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
            self._hover(True)

    def drag_left(self) -> None:
        self._hover(False)

    def dropped(self, event: QDropEvent) -> None:
        self._hover(False)
        paths = local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.paths_chosen.emit(paths)

    def _hover(self, on: bool) -> None:
        self.setProperty("hover", on)
        self.style().unpolish(self)
        self.style().polish(self)
