"""About HybridMCP: version, licence and the third-party notices that travel with the app."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from hybridmcp_app import APP_NAME, __version__
from hybridmcp_app.config.paths import licenses_dir
from hybridmcp_app.ui.theme import app_icon


class QtAboutDialog(QDialog):
    """Shows the version, the AGPL licence line and THIRD_PARTY_NOTICES.md."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"About {APP_NAME}")
        self.resize(640, 520)
        icon = QLabel(self)
        icon.setPixmap(app_icon().pixmap(72, 72))
        icon.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        header = QLabel(
            f"<h2>{APP_NAME} {__version__}</h2>"
            "<p>A local model and provider LLMs side by side — the local model boosts the "
            "provider — with MCP servers, a document library and a turtle-soup game.</p>"
            "<p>Free software under the GNU Affero General Public License, version 3 or later.</p>",
            self,
        )
        header.setWordWrap(True)
        header.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.notices = QTextBrowser(self)
        self.notices.setOpenExternalLinks(True)
        notices_file = licenses_dir() / "THIRD_PARTY_NOTICES.md"
        try:
            self.notices.setMarkdown(notices_file.read_text(encoding="utf-8"))
        except OSError:
            self.notices.setPlainText(f"Third-party notices not found at {notices_file}.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(icon)
        layout.addWidget(header)
        layout.addWidget(QLabel("<b>Third-party components</b>", self))
        layout.addWidget(self.notices, 1)
        layout.addWidget(buttons)
