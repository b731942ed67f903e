"""One server in the MCP Servers list: its status light, name, state, uptime, restarts, the
switch that runs it and, for a remote server behind OAuth, Sign in / Sign out."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget

from hybridmcp_app.mcp_host.oauth_state import SignInFailed, SignInState, sign_in_state_of
from hybridmcp_app.mcp_host.server_status import ServerState, ServerStatus

if TYPE_CHECKING:
    from hybridmcp_app.config.secrets import SecretStore
    from hybridmcp_app.mcp_host.mcp_host_service import McpHost

ROW_HEIGHT = 48
LIGHTS = {
    ServerState.READY: "#2da44e", ServerState.STARTING: "#d4a72c",
    ServerState.RESTARTING: "#d4a72c", ServerState.FAILED: "#cf222e",
    ServerState.STOPPED: "#8c959f",
}  # fmt: skip
SIGN_IN_LIGHT = "#d4a72c"  # waiting for the user, not broken


def uptime(status: ServerStatus, now: float) -> str:
    if status.ready_since is None:
        return ""
    seconds = int(now - status.ready_since)
    hours, rest = divmod(seconds, 3600)
    return f"up {hours}h {rest // 60:02d}m" if hours else f"up {rest // 60}m {rest % 60:02d}s"


def open_in_browser(url: str) -> None:
    """The system browser, for a sign-in page (``oauth_sign_in.OpenUrl``)."""
    if not QDesktopServices.openUrl(QUrl(url)):
        raise SignInFailed(f"no browser could be opened; open this address yourself: {url}")


async def sign_in_or_out(host: McpHost, name: str, secrets: SecretStore, signed_in: bool) -> bool:
    """The row's button: sign out when ``signed_in``, else sign in with the system browser;
    then the server restarts. Returns whether it is now signed in."""
    from hybridmcp_app.mcp_host import oauth_sign_in  # the MCP SDK: loaded with the host

    if signed_in:
        await oauth_sign_in.sign_out_and_restart(host, name, secrets)
        return False
    await oauth_sign_in.sign_in_and_restart(host, name, secrets, open_in_browser)
    return True


def sign_in_state(status: ServerStatus, signed_in: bool) -> SignInState:
    """What the row says about signing in: what the server's failure tells, else whether this
    window signed in to it."""
    asked = sign_in_state_of(status.message) if status.state is ServerState.FAILED else None
    if asked is not None and asked is not SignInState.NONE:
        return asked
    return SignInState.SIGNED_IN if signed_in else SignInState.NONE


class QtServerRow(QWidget):
    """One server in the list: light, name, state, uptime, restarts, its switch, and a Sign in
    (or Sign out) button when the server is behind a sign-in."""

    def __init__(
        self,
        name: str,
        on_toggle: Callable[[str, bool], object],
        on_sign_in: Callable[[str, bool], asyncio.Task[object] | None] | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.signed_in = False  # whether a sign-in from this row succeeded (and no sign-out)
        self.light = QLabel("●", self)
        self.label = QLabel(self)
        self.sign_in = QPushButton("Sign in", self)
        self.sign_in.setVisible(False)
        if on_sign_in is not None:
            self.sign_in.clicked.connect(lambda: self._signing(on_sign_in(name, self.signed_in)))
        self.switch = QCheckBox("On", self)
        self.switch.setToolTip("Run this server (remembered in mcp.json)")
        self.switch.clicked.connect(lambda checked: on_toggle(name, checked))
        self._shown: tuple[object, ...] = ()
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 4)
        row.addWidget(self.light)
        row.addWidget(self.label, 1)
        row.addWidget(self.sign_in)
        row.addWidget(self.switch)

    def _signing(self, task: asyncio.Task[object] | None) -> None:
        """Remember the outcome of a sign-in or sign-out (a failure changes nothing)."""
        if task is None:
            return

        def done(finished: asyncio.Task[object]) -> None:
            if not finished.cancelled() and isinstance(finished.result(), bool):
                self.signed_in = bool(finished.result())
                self._shown = ()  # redraw at the next tick

        task.add_done_callback(done)

    def show_status(self, status: ServerStatus, enabled: bool, now: float) -> None:
        """Redraw what changed since the last call (the clock calls it every second)."""
        sign_in = sign_in_state(status, self.signed_in)
        asking = sign_in in (SignInState.NEEDS_SIGN_IN, SignInState.EXPIRED)
        details = [sign_in.value if asking else status.state.value, uptime(status, now)]
        if sign_in is SignInState.SIGNED_IN:
            details.append(sign_in.value)
        if status.restarts:
            details.append(f"{status.restarts} restart(s)")
        shown = (status.state, enabled, *details)
        if shown == self._shown:
            return
        self._shown = shown
        light = SIGN_IN_LIGHT if asking else LIGHTS[status.state]
        self.light.setStyleSheet(f"color: {light}; font-size: 16pt;")
        self.light.setToolTip(details[0])
        self.label.setText(
            f"<b>{html.escape(self.name)}</b><br><small>"
            f"{html.escape(' · '.join(d for d in details if d))}</small>"
        )
        self.sign_in.setText("Sign out" if sign_in is SignInState.SIGNED_IN else "Sign in")
        self.sign_in.setToolTip(
            "Forget this server's sign-in (the keychain's tokens)"
            if sign_in is SignInState.SIGNED_IN
            else "Sign in to this server in your browser; the tokens go to the keychain"
        )
        self.sign_in.setVisible(asking or sign_in is SignInState.SIGNED_IN)
        self.switch.setChecked(enabled)
