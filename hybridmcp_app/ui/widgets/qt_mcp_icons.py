"""The icons of MCP tools, resources and prompts as ``QIcon``s (``McpIconSource``'s choice).

An item that sent no icon gets none; one whose icons cannot be shown (yet) gets the placeholder,
and ``tooltip`` says why. ``changed`` fires when a fetched icon arrives: ask again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import shiboken6
from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPen, QPixmap

from hybridmcp_app.mcp_host.mcp_items import McpIcon
from hybridmcp_app.services.mcp_icons import McpIconSource

QT_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/svg+xml": "SVG",
}
PLACEHOLDER_SIZE = 16


class HasIcons(Protocol):
    """A tool, resource, template or prompt: its server and the icons it sent."""

    @property
    def server(self) -> str: ...

    @property
    def icons(self) -> Sequence[McpIcon]: ...


def qt_decodes(data: bytes, media: str) -> bool:
    """Whether ``data`` decodes as an image of type ``media`` (``QImage``: any thread)."""
    image_format = QT_FORMATS.get(media)
    return image_format is not None and QImage().loadFromData(data, image_format)


def placeholder_icon() -> QIcon:
    """A grey outline square: an icon was sent but is not shown."""
    pixmap = QPixmap(PLACEHOLDER_SIZE, PLACEHOLDER_SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(128, 128, 128), 1.5, Qt.PenStyle.DashLine))
    painter.drawRoundedRect(QRectF(2, 2, PLACEHOLDER_SIZE - 4, PLACEHOLDER_SIZE - 4), 3, 3)
    painter.end()
    return QIcon(pixmap)


class QtMcpIcons(QObject):
    """One per view: icons made once per image; fetches started through the source."""

    changed = Signal()  # a fetched icon arrived (or failed): draw the rows again

    def __init__(self, source: McpIconSource | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._source = source or McpIconSource()
        self._made: dict[bytes, QIcon] = {}
        self.placeholder = placeholder_icon()

    def set_source(self, source: McpIconSource) -> None:
        """The app's icons (its fetcher and the user's setting), once the window has them."""
        self._source = source
        self.changed.emit()

    def icon(self, item: HasIcons) -> QIcon:
        if not item.icons:
            return QIcon()
        choice = self._source.choose(item.server, item.icons)
        if choice.fetch:
            self._source.load(choice.fetch, qt_decodes, self._arrived)
        if not choice.data:
            return self.placeholder
        made = self._made.get(choice.data)
        if made is None:
            pixmap = QPixmap()
            image_format = QT_FORMATS.get(choice.media)
            shown = image_format is not None and pixmap.loadFromData(choice.data, image_format)
            made = QIcon(pixmap) if shown else self.placeholder
            self._made[choice.data] = made
        return made

    def tooltip(self, text: str, item: HasIcons) -> str:
        """``text``, then why the item's icon is the placeholder (when it is)."""
        why = self._source.choose(item.server, item.icons).why if item.icons else ""
        return "\n".join(part for part in (text, why) if part)

    def _arrived(self) -> None:
        if shiboken6.isValid(self):  # the view may have closed meanwhile
            self.changed.emit()
