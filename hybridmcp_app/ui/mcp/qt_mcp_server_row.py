"""One server in the MCP Servers list: its status light, name, state, uptime, restarts and the
switch that runs it."""

from __future__ import annotations

import html
from collections.abc import Callable

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QWidget

from hybridmcp_app.mcp_host.server_status import ServerState, ServerStatus

ROW_HEIGHT = 48
LIGHTS = {
    ServerState.READY: "#2da44e", ServerState.STARTING: "#d4a72c",
    ServerState.RESTARTING: "#d4a72c", ServerState.FAILED: "#cf222e",
    ServerState.STOPPED: "#8c959f",
}  # fmt: skip


def uptime(status: ServerStatus, now: float) -> str:
    if status.ready_since is None:
        return ""
    seconds = int(now - status.ready_since)
    hours, rest = divmod(seconds, 3600)
    return f"up {hours}h {rest // 60:02d}m" if hours else f"up {rest // 60}m {rest % 60:02d}s"


class QtServerRow(QWidget):
    """One server in the list: light, name, state, uptime, restarts, and its switch."""

    def __init__(self, name: str, on_toggle: Callable[[str, bool], object]) -> None:
        super().__init__()
        self.name = name
        self.light = QLabel("●", self)
        self.label = QLabel(self)
        self.switch = QCheckBox("On", self)
        self.switch.setToolTip("Run this server (remembered in mcp.json)")
        self.switch.clicked.connect(lambda checked: on_toggle(name, checked))
        self._shown: tuple[object, ...] = ()
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.addWidget(self.light)
        row.addWidget(self.label, 1)
        row.addWidget(self.switch)

    def show_status(self, status: ServerStatus, enabled: bool, now: float) -> None:
        """Redraw what changed since the last call (the clock calls it every second)."""
        details = [status.state.value, uptime(status, now)]
        if status.restarts:
            details.append(f"{status.restarts} restart(s)")
        shown = (status.state, enabled, *details)
        if shown == self._shown:
            return
        self._shown = shown
        self.light.setStyleSheet(f"color: {LIGHTS[status.state]}; font-size: 16pt;")
        self.light.setToolTip(status.state.value)
        self.label.setText(
            f"<b>{html.escape(self.name)}</b><br><small>"
            f"{html.escape(' · '.join(d for d in details if d))}</small>"
        )
        self.switch.setChecked(enabled)
