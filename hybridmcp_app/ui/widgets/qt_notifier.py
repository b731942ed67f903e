"""Says that long work finished: in the status bar while the window is in front, as a desktop
notification while it is in the background (or, on a desktop without notifications, by asking
the taskbar to draw attention to the window)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMainWindow, QMenu, QSystemTrayIcon

log = logging.getLogger("hybridmcp.ui.notifications")
Channel = Literal["status", "desktop", "taskbar", "off"]
SHOWN_MS = 6000


class QtNotifier(QObject):
    """``notify(title, text)``; ``sent`` keeps what was said and how, newest last."""

    def __init__(
        self,
        window: QMainWindow,
        icon: QIcon,
        *,
        enabled: Callable[[], bool] = lambda: True,
        in_front: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._icon = icon
        self._enabled = enabled
        self._in_front = in_front or (lambda: window.isVisible() and window.isActiveWindow())
        self._tray: QSystemTrayIcon | None = None
        self.sent: list[tuple[Channel, str, str]] = []

    def notify(self, title: str, text: str) -> Channel:
        """Tell the user; returns the way it was told."""
        channel: Channel
        if self._in_front():
            self._window.statusBar().showMessage(f"{title}: {text}", SHOWN_MS)
            channel = "status"
        elif not self._enabled():
            channel = "off"
        elif QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            self._tray_icon().showMessage(title, text, self._icon, SHOWN_MS)
            channel = "desktop"
        else:
            QApplication.alert(self._window)
            self._window.statusBar().showMessage(f"{title}: {text}", SHOWN_MS)
            channel = "taskbar"
        log.debug("notified (%s): %s: %s", channel, title, text)
        self.sent.append((channel, title, text))
        return channel

    def _tray_icon(self) -> QSystemTrayIcon:
        """Made on the first notification; clicking it or its message brings the window back."""
        if self._tray is None:
            tray = QSystemTrayIcon(self._icon, self)
            tray.setToolTip(QApplication.applicationName())
            menu = QMenu(self._window)
            menu.addAction("Show window", self.bring_back)
            tray.setContextMenu(menu)
            tray.activated.connect(lambda _reason: self.bring_back())
            tray.messageClicked.connect(self.bring_back)
            tray.show()
            self._tray = tray
        return self._tray

    def bring_back(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()
