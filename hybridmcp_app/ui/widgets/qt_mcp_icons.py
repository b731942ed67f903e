"""The icons of MCP tools, resources and prompts as ``QIcon``s (``McpIconCache``'s bytes)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtGui import QIcon, QPixmap

from hybridmcp_app.mcp_host.mcp_items import McpIcon
from hybridmcp_app.services.mcp_icons import McpIconCache


class QtMcpIcons:
    """One per window: icons made once per URI; an empty ``QIcon`` where none can be shown."""

    def __init__(self) -> None:
        self._cache = McpIconCache()
        self._made: dict[bytes, QIcon] = {}

    def icon(self, icons: Sequence[McpIcon]) -> QIcon:
        found = self._cache.image(icons)
        if found is None:
            return QIcon()
        _media, data = found
        made = self._made.get(data)
        if made is None:
            pixmap = QPixmap()
            made = QIcon(pixmap) if pixmap.loadFromData(data) else QIcon()
            self._made[data] = made
        return made
