"""Light and dark palettes on the Fusion style, following the system unless the user chose."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QWidget,
)

from hybridmcp_app.config.paths import resources_dir

_STYLE_SHEET = """
QTabWidget::pane { border: none; border-top: 1px solid palette(mid); }
QTabBar::tab { padding: 8px 18px; border: none; border-bottom: 3px solid transparent; }
QTabBar::tab:selected { border-bottom: 3px solid palette(highlight); font-weight: 600; }
QTabBar::tab:hover:!selected { border-bottom: 3px solid palette(midlight); }
QLabel[role="empty-title"] { font-size: 17pt; font-weight: 600; }
QLabel[role="empty-body"] { font-size: 11pt; color: palette(placeholder-text); }
QFrame[role="banner"] { border-radius: 6px; padding: 2px; }
QFrame[role="banner"][kind="warning"] { background: #fff4ce; color: #3d3000; }
QFrame[role="banner"][kind="error"] { background: #fde7e9; color: #4a0a10; }
QFrame[role="banner"][kind="info"] { background: #e6f0ff; color: #0b2a5b; }
QLabel[role="form-errors"] { color: #c42b1c; }
QListWidget#settings-sections::item { padding: 6px 8px; }
QWidget[invalid="true"] { border: 1px solid #c42b1c; }
"""


def app_icon() -> QIcon:
    return QIcon(str(resources_dir() / "icons" / "hybridmcp.svg"))


def system_prefers_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def _dark_palette() -> QPalette:
    palette = QPalette()
    base, window, text = QColor(30, 31, 34), QColor(43, 45, 48), QColor(223, 225, 229)
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, window),
        (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor(255, 85, 85)),
        (QPalette.ColorRole.Highlight, QColor(53, 116, 240)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.Link, QColor(110, 160, 255)),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 143, 150)),
    ):
        palette.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 122, 128))
    return palette


class OutlinedIndicators(QProxyStyle):
    """Fusion outlines check boxes and radio buttons with the window colour darkened, which is
    about the colour of a dark palette's background: on dark palettes they get an outline in
    the placeholder-text colour, so an unchecked box can be seen."""

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        palette = option.palette
        if element not in _INDICATORS or palette.color(QPalette.ColorRole.Window).lightness() > 127:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -1.5, -1.5)
        if element is QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRoundedRect(rect, 1.5, 1.5)
        painter.restore()


_INDICATORS = (
    QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    QStyle.PrimitiveElement.PE_IndicatorRadioButton,
)


def apply_theme(app: QApplication, theme: str, system_dark: bool | None = None) -> None:
    """``theme`` is 'system', 'light' or 'dark' (``UiSettings.theme``); ``system_dark``: what
    the system just switched to (None: ask it)."""
    app.setStyle(OutlinedIndicators(QStyleFactory.create("Fusion")))
    if system_dark is None:
        system_dark = system_prefers_dark()
    dark = theme == "dark" or (theme == "system" and system_dark)
    palette = _dark_palette() if dark else app.style().standardPalette()
    app.setPalette(palette)
    app.setStyleSheet(_STYLE_SHEET)


def follow_system_scheme(app: QApplication, theme: Callable[[], str]) -> None:
    """Re-apply the theme when the system turns dark or light (``theme``: the current setting;
    a fixed 'light' or 'dark' stays as it is)."""

    def changed(scheme: Qt.ColorScheme) -> None:
        if theme() == "system":
            apply_theme(app, "system", scheme == Qt.ColorScheme.Dark)

    app.styleHints().colorSchemeChanged.connect(changed)
