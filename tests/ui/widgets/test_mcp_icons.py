"""Server icons as QIcons: a data: PNG is drawn, a URL gives no icon."""

from __future__ import annotations

import base64
from pathlib import Path

from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from hybridmcp_app.mcp_host.mcp_items import McpIcon
from hybridmcp_app.ui.widgets.qt_mcp_icons import QtMcpIcons


def png_data_uri(folder: Path) -> str:
    image = QImage(16, 16, QImage.Format.Format_ARGB32)
    image.fill(QColor("red"))
    path = folder / "red.png"
    assert image.save(str(path))
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def test_a_data_uri_png_becomes_an_icon_and_a_url_gives_none(
    qapp: QApplication, tmp_path: Path
) -> None:
    icons = QtMcpIcons()

    drawn = icons.icon([McpIcon(src=png_data_uri(tmp_path), mime_type="image/png")])
    remote = icons.icon([McpIcon(src="https://example.com/icon.png")])

    assert not drawn.isNull() and drawn.pixmap(16, 16).toImage().pixelColor(8, 8) == QColor("red")
    assert remote.isNull()
