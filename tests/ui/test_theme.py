"""Light and dark: the chosen theme, or the system's, also when the system switches."""

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QStyle

from hybridmcp_app.ui.theme import apply_theme, follow_system_scheme


def is_dark(app: QApplication) -> bool:
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


@pytest.fixture
def themed(qapp: QApplication) -> Iterator[QApplication]:
    yield qapp
    apply_theme(qapp, "light")  # the next tests get the default look back


def test_the_chosen_theme_wins_over_the_system(themed: QApplication) -> None:
    apply_theme(themed, "dark", system_dark=False)
    assert is_dark(themed)
    apply_theme(themed, "light", system_dark=True)
    assert not is_dark(themed)
    apply_theme(themed, "system", system_dark=True)
    assert is_dark(themed)


def test_following_the_system_switches_when_the_system_does(themed: QApplication) -> None:
    setting = ["system"]
    follow_system_scheme(themed, lambda: setting[0])
    apply_theme(themed, "system", system_dark=False)
    hints = themed.styleHints()
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert is_dark(themed)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert not is_dark(themed)
    setting[0] = "light"  # a theme the user picked stays put
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert not is_dark(themed)
    hints.colorSchemeChanged.disconnect()


def test_an_unchecked_box_can_be_seen_on_the_dark_theme(themed: QApplication) -> None:
    apply_theme(themed, "dark")
    box = QCheckBox("On")
    box.resize(box.sizeHint())
    image = box.grab().toImage()
    background = box.palette().color(QPalette.ColorRole.Window).lightness()
    indicator_width = box.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth)
    outline = [
        image.pixelColor(x, y).lightness()
        for x in range(indicator_width)
        for y in range(image.height())
    ]
    assert max(outline) - background > 40  # an outline stands out, not only the label
