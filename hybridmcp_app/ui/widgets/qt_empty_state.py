"""A centred placeholder that says what a view will hold and what to do now."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


class QtEmptyState(QWidget):
    """Icon, title and explanation for a view that has nothing to show yet."""

    def __init__(self, icon: QIcon, title: str, body: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        column = QWidget(self)
        column.setFixedWidth(560)
        inner = QVBoxLayout(column)
        picture = QLabel(column)
        picture.setPixmap(icon.pixmap(88, 88))
        picture.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        inner.addWidget(picture)
        inner.addSpacing(8)
        for text, role in ((title, "empty-title"), (body, "empty-body")):
            label = QLabel(text, column)
            label.setProperty("role", role)
            label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            label.setWordWrap(True)
            inner.addWidget(label)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        layout.addWidget(column, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
